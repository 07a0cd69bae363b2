/// The interface of the quiz and of `stats`.
extension UIText {
    // MARK: - quiz

    static let nothingDue = UIText(
        zh: "现在没有到期的卡片，也没有新卡片了。", en: "Nothing is due and no new cards are left for today.")
    static let quizTitle = UIText(zh: "开始复习", en: "Quiz")

    static func cardCounts(learning: Int, review: Int, new: Int) -> UIText {
        UIText(
            zh: "学习中 \(learning) · 待复习 \(review) · 新卡 \(new)",
            en: "\(learning) learning · \(review) review · \(new) new")
    }

    /// In front of a question, in the language of the question.
    static let questionMark = UIText(zh: "问 ", en: "Q  ")
    static let keyPoints = UIText(zh: "要点", en: "Key points")
    static let typeYourAnswer = UIText(
        zh: "写下你的回答（可留空），回车显示参考答案：", en: "Type your answer (or nothing), then Enter to see the reference:")
    static let quizControls = UIText(zh: "u 撤销 · b 搁置 · s 跳过 · q 退出", en: "u undo · b bury · s skip · q quit")

    static func chooseOne(_ keys: String) -> UIText { UIText(zh: "选择 \(keys)", en: "Answer \(keys)") }

    static let trueOrFalse = UIText(zh: "对还是错？t/f", en: "True or false? t/f")

    static func pressOneOf(_ keys: String) -> UIText { UIText(zh: "请按 \(keys)", en: "Press one of \(keys)") }

    static let correct = UIText(zh: "✓ 正确", en: "✓ Correct")
    static let notQuite = UIText(zh: "✗ 不对", en: "✗ Not quite")
    static let theAnswer = UIText(zh: "  正确答案：", en: "  The answer: ")
    static let predictTheOutcome = UIText(zh: "预测实验结果 ", en: "Predict the outcome ")
    static let predictSetup = UIText(zh: "  配置：", en: "  Setup: ")
    static let willAnAnomalyShow = UIText(
        zh: "会出现异常吗（丢失、重复、乱序、重复处理或漏处理）？t/f",
        en: "Will an anomaly show (lost, duplicated, reordered, processed twice or never)? t/f")
    static let pressTOrF = UIText(zh: "请按 t 或 f", en: "Press t or f")
    static let predictedRight = UIText(zh: "✓ 预测正确", en: "✓ Right")
    static let predictedWrong = UIText(zh: "✗ 预测错了", en: "✗ Wrong")
    static let noAnomaly = UIText(zh: "没有异常", en: "no anomaly")
    static let experimentResult = UIText(zh: "  实验结果：", en: "  Result: ")
    static let press1To4 = UIText(zh: "请按 1-4", en: "Press 1-4")
    static let buriedUntilTomorrow = UIText(zh: "已搁置到明天。", en: "Buried until tomorrow.")
    static let nothingToUndo = UIText(zh: "没有可以撤销的回答。", en: "Nothing to undo.")

    static func undid(_ cardID: String) -> UIText {
        UIText(zh: "已撤销上一个回答（\(cardID)）。", en: "Undid the last answer (\(cardID)).")
    }

    static func nextReviewIn(_ interval: String) -> UIText {
        UIText(zh: "下次：\(interval)", en: "Next in \(interval)")
    }

    static func becameLeech(after lapses: Int) -> UIText {
        UIText(
            zh: "这张卡已遗忘 \(lapses) 次，标记为顽固卡并暂停。换个角度重读这道题的答案吧。",
            en:
                "This card has lapsed \(lapses) times: it is a leech and is suspended. Reread the answer from a new angle."
        )
    }

    static let noAnswersThisTime = UIText(zh: "本次没有作答。", en: "No answers this time.")

    static func answersThisTime(_ count: Int) -> UIText {
        UIText(zh: "本次作答 \(count) 次", en: count == 1 ? "1 answer" : "\(count) answers")
    }

    static let everyAnswerSaved = UIText(
        zh: "每个回答都已保存。mqproof stats 查看进度。", en: "Every answer is saved. See mqproof stats for progress.")

    static func rating(_ rating: Int) -> UIText {
        switch rating {
        case 1: UIText(zh: "重来", en: "Again")
        case 2: UIText(zh: "困难", en: "Hard")
        case 3: UIText(zh: "良好", en: "Good")
        default: UIText(zh: "简单", en: "Easy")
        }
    }

    static func impossibleStates(_ count: Int) -> UIText {
        UIText(
            zh: "mqproof：有 \(count) 个存储的卡片状态不可能出现（由旧版 mqproof 导入）；这些卡片重新作为新卡开始",
            en:
                "mqproof: \(count) stored card states cannot occur (an older mqproof imported them); those cards start again as new"
        )
    }

    // MARK: - stats

    static let answersToday = UIText(zh: "今天作答", en: "Answers today")
    static let streak = UIText(zh: "连续天数", en: "Streak")

    static func days(_ count: Int) -> UIText {
        UIText(zh: "\(count) 天", en: count == 1 ? "1 day" : "\(count) days")
    }

    static let trueRetention = UIText(zh: "真实保留率", en: "True retention")
    static let retentionScope = UIText(zh: "（近 30 天复习卡）", en: " (review cards, last 30 days)")
    static let cards = UIText(zh: "卡片", en: "Cards")

    static func cardState(_ name: String) -> UIText {
        switch name {
        case "new": UIText(zh: "新卡", en: "new")
        case "learning": UIText(zh: "学习中", en: "learning")
        case "review": UIText(zh: "复习", en: "review")
        case "relearning": UIText(zh: "重学", en: "relearning")
        default: UIText(zh: "顽固卡", en: "leech")
        }
    }

    static let dueInNext30Days = UIText(zh: "未来 30 天到期", en: "Due in the next 30 days")
    static let today = UIText(zh: "今天", en: "today")
}
