/// The interface of the study path: `mqproof study` and the home screen's next step.
extension UIText {
    static let studyPath = UIText(zh: "学习路径", en: "Study path")
    static let todayLabel = UIText(zh: "今天", en: "Today")
    static let nextStep = UIText(zh: "下一步", en: "Next step")

    static func todayCounts(due: Int, new: Int) -> UIText {
        UIText(
            zh: "到期复习 \(due) 张 · 今天还可学新卡 \(new) 张",
            en: "\(due) review\(due == 1 ? "" : "s") due · \(new) new card\(new == 1 ? "" : "s") left today")
    }

    static func pathPosition(_ position: Int, of total: Int) -> UIText {
        UIText(zh: "第 \(position)/\(total) 题", en: "question \(position) of \(total)")
    }

    static let stepRead = UIText(zh: "阅读答案", en: "read the answer")
    static let stepProof = UIText(zh: "运行证明", en: "run its proof")
    static let stepQuiz = UIText(zh: "测验卡片", en: "quiz its cards")

    static func stepProofOf(_ experiment: String) -> UIText {
        UIText(zh: "运行证明 \(experiment)", en: "run its proof, \(experiment)")
    }

    static func stepQuizCards(answered: Int, of cards: Int) -> UIText {
        UIText(zh: "测验卡片（\(answered)/\(cards)）", en: "quiz its cards (\(answered)/\(cards))")
    }

    static let noProofYet = UIText(zh: "（这道题还没有证明）", en: "(no proof for this one yet)")

    static func nextStepIs(_ step: String, question: String) -> UIText {
        UIText(zh: "\(step)：\(question)", en: "\(step): \(question)")
    }

    static func studyThen(_ command: String, _ step: String) -> UIText {
        UIText(zh: "下一步：\(command)（\(step)）", en: "Next: \(command) (\(step))")
    }

    static func alsoRun(_ experiments: String) -> UIText {
        UIText(zh: "这道题的其他证明：\(experiments)", en: "This answer's other proofs: \(experiments)")
    }

    static let newLimitReached = UIText(
        zh: "今天的新卡额度已用完，这道题的卡片明天再学。先复习到期的卡片：mqproof quiz",
        en:
            "Today's new cards are used up; this answer's cards wait until tomorrow. Review what is due: mqproof quiz"
    )
    static let pathComplete = UIText(
        zh: "学习路径已全部走完。之后按 FSRS 的安排复习：mqproof quiz",
        en: "You have walked the whole study path. From here, review as FSRS schedules: mqproof quiz")

    static func stageProgress(done: Int, of total: Int) -> UIText {
        UIText(zh: "完成 \(done)/\(total)", en: "\(done) of \(total) done")
    }

    static let youAreHere = UIText(zh: "← 当前", en: "← you are here")
}

extension UIText {
    static let studyLegend = UIText(
        zh: "R 已读答案 · P 已运行证明（空白：还没有证明）· Q 卡片都已测验过 · mqproof study 走下一步",
        en:
            "R answer read · P proof run (blank: no proof yet) · Q every card quizzed · mqproof study takes the next step"
    )
}
