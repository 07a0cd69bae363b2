/// The interface of the reading commands: home, topics, list, show, search, content, export.
extension UIText {
    // MARK: - home

    // How many answers link a proof is in the summary line below; the headline claims no more.
    static let headline = UIText(
        zh: "消息队列面试准备：答案有出处，关键结论能跑出来看",
        en: "Message-queue interview prep: sourced answers, and claims you can run")

    static func contentSummary(
        entries: Int, topics: Int, quizItems: Int, withExperiments: Int, notDemonstrable: Int
    ) -> UIText {
        let shown = entries - notDemonstrable
        let cannot =
            notDemonstrable == 0
            ? (zh: "", en: "")
            : (
                zh: "；另有 \(notDemonstrable) 道题讲的是历史、选型或个人经历，无法用实验演示，题中写明了原因",
                en:
                    "; \(notDemonstrable) more are history, opinion or your own experience, and say why no experiment can show them"
            )
        return UIText(
            zh: "\(entries) 道题，\(topics) 个主题，\(quizItems) 道自动判分题。"
                + "能用实验演示的 \(shown) 道题中，\(withExperiments) 道附有实验\(cannot.zh)",
            en:
                "\(entries) questions in \(topics) topics, \(quizItems) auto-graded quiz items. "
                + "\(withExperiments) of the \(shown) that an experiment can show link one\(cannot.en)"
        )
    }

    static let topics = UIText(zh: "主题", en: "Topics")
    static let tryNext = UIText(zh: "接下来试试", en: "Try next")

    // MARK: - show

    static let sources = UIText(zh: "来源", en: "Sources")
    static let experiments = UIText(zh: "实验证明", en: "Experiments")
    static let noneLinkedYet = UIText(zh: "尚未链接实验", en: "none linked yet")
    static let notDemonstrable = UIText(zh: "无法用实验演示：", en: "No experiment can show this: ")
    static let grewFromSeed = UIText(zh: "源自种子文档：", en: "Grew from the seed section: ")
    static let misconceptions = UIText(zh: "常见误区", en: "Common misconceptions")
    static let mythLead = UIText(zh: "说法：", en: "Said: ")
    static let truthLead = UIText(zh: "事实：", en: "True: ")

    // MARK: - search, topics, list

    static let openOne = UIText(zh: "打开一条：mqproof show 1", en: "Open one: mqproof show 1")

    static func searchedNearest(_ corrections: String) -> UIText {
        UIText(zh: "按最接近的词搜索：\(corrections)", en: "Searched for the nearest words: \(corrections)")
    }

    static func noExactMatch(_ typed: String) -> UIText {
        UIText(zh: "没有完全匹配「\(typed)」的题目；最接近的：", en: "No exact match for '\(typed)'; closest:")
    }

    static func nothingMatches(_ typed: String) -> UIText {
        UIText(zh: "没有找到与「\(typed)」相关的题目；可以从这些开始：", en: "Nothing matches '\(typed)'; you could start with:")
    }

    /// `what` is the technical noun the command line uses: entry, topic.
    static func noSuch(_ what: String, _ name: String) -> UIText {
        let zh = what == "topic" ? "主题" : "题目"
        return UIText(zh: "没有这个\(zh)：'\(name)'", en: "no \(what) '\(name)'")
    }

    static func didYouMean(_ names: [String]) -> UIText {
        UIText(
            zh: "。你要找的是不是 \(names.joined(separator: " 或 "))？",
            en: ". Did you mean \(names.joined(separator: " or "))?")
    }

    static func trySearching(_ words: String) -> UIText {
        UIText(zh: "。可以搜索试试：mqproof search \(words)", en: ". Try: mqproof search \(words)")
    }

    static func noSearchResult(_ number: Int) -> UIText {
        UIText(
            zh: "上次搜索没有第 \(number) 条结果；先搜索：mqproof search 如何保证消息不丢失",
            en:
                "no result \(number) of the last search; search first: mqproof search how to avoid losing messages"
        )
    }

    static let noQuestionsInTopic = UIText(zh: "这个主题还没有题目。", en: "No questions in this topic yet.")

    // MARK: - content check

    static func contentOK(
        origin: String, entries: Int, topicsUsed: Int, topics: Int, quizItems: Int, sources: Int, linked: Int
    ) -> UIText {
        UIText(
            zh: "\(origin)：没有问题。\(topics) 个主题中的 \(topicsUsed) 个共有 \(entries) 道题，"
                + "\(quizItems) 道自动判分题，\(sources) 个来源，\(linked) 道题链接了实验",
            en:
                "\(origin): OK, \(entries) entries in \(topicsUsed) of \(topics) topics, "
                + "\(quizItems) quiz items, \(sources) sources, \(linked) entries linked to experiments")
    }

    static let contentGroup = UIText(zh: "组", en: "group")
    static let contentTopic = UIText(zh: "主题", en: "topic")
    static let contentEntries = UIText(zh: "题目", en: "entries")
    static let contentWithProofs = UIText(zh: "附有证明", en: "with proofs")
    static let contentNotDemonstrable = UIText(zh: "无法演示", en: "cannot show")
    static let contentCoverage = UIText(zh: "覆盖率", en: "coverage")

    /// Coverage counts only the entries an experiment could show; the rest say why not.
    static func proofCoverage(linked: Int, entries: Int, notDemonstrable: Int) -> UIText {
        let shown = entries - notDemonstrable
        let missing = shown - linked
        return UIText(
            zh: "  能用实验演示的 \(shown) 道题中，\(linked) 道链接了可执行的证明（\(percent(linked, of: shown))），"
                + "\(missing) 道还没有；另有 \(notDemonstrable) 道写明了为什么无法演示",
            en:
                "  \(linked) of the \(shown) entries an experiment can show link an executable proof "
                + "(\(percent(linked, of: shown))); \(missing) have none yet; "
                + "\(notDemonstrable) more say why no experiment can show them")
    }

    /// A whole percentage, rounded down so that 89.6% never passes for 90%.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "-" : "\(part * 100 / whole)%"
    }

    static let warning = UIText(zh: "警告：", en: "warning: ")

    static func problemsIn(_ count: Int, origin: String) -> UIText {
        UIText(
            zh: "mqproof：\(origin) 中有 \(count) 个问题",
            en: "mqproof: \(count) problem\(count == 1 ? "" : "s") in \(origin)")
    }

    // MARK: - export and progress

    static func wroteNotes(_ count: Int, file: String, deck: String) -> UIText {
        UIText(
            zh: "mqproof：已把 \(count) 张笔记写入 \(file)（牌组 \(deck)）",
            en: "mqproof: wrote \(count) notes to \(file) (deck \(deck))")
    }

    static func wroteQuestions(_ count: Int, file: String) -> UIText {
        UIText(zh: "mqproof：已把 \(count) 道题写入 \(file)", en: "mqproof: wrote \(count) questions to \(file)")
    }

    static func wroteProgress(cards: Int, answers: Int, file: String) -> UIText {
        UIText(
            zh: "mqproof：已把 \(cards) 张卡片和 \(answers) 条作答记录写入 \(file)",
            en: "mqproof: wrote \(cards) cards and \(answers) answers to \(file)")
    }

    static func backedUp(_ file: String) -> UIText {
        UIText(zh: "mqproof：已把当前进度备份到 \(file)", en: "mqproof: backed up the current progress to \(file)")
    }

    static func replacedProgress(cards: Int, answers: Int, file: String) -> UIText {
        UIText(
            zh: "mqproof：已用 \(file) 中的 \(cards) 张卡片和 \(answers) 条作答记录替换全部进度",
            en: "mqproof: replaced progress with \(cards) cards and \(answers) answers from \(file)")
    }

    static func mergedProgress(file: String, answers: Int, cards: Int, settings: Int) -> UIText {
        UIText(
            zh: "mqproof：已合并 \(file)：新增 \(answers) 条作答记录，更新 \(cards) 张卡片的状态，新增 \(settings) 项设置；没有删除任何东西",
            en:
                "mqproof: merged \(file): \(answers) new answers, \(cards) card states updated, \(settings) settings added; nothing was deleted"
        )
    }
}
