import Content
import Foundation

/// Content trees built in memory for tests: small, valid by default, and easy to break on purpose.
public enum Fixtures {
    public static let topicsYAML = """
        - id: why-mq
          group: A
          title:
            zh: 为什么用消息队列
            en: Why a message queue
        - id: message-loss
          group: C
          title:
            zh: 可靠性与消息丢失
            en: Reliability and message loss
        """

    public static let seedText = """
        # 为什么要引入消息队列

        正文

        # Kafka

        ## 消息重复如何解决

        正文
        """

    /// A valid entry file. `extra` is appended verbatim, to add fields or break the file.
    public static func entryYAML(
        id: String, topic: String = "message-loss", tags: [String] = ["kafka", "enable.idempotence"],
        questionZH: String = "幂等生产者能去掉哪些重复？",
        questionEN: String = "Which duplicates does the idempotent producer remove?",
        answerZH: String = "它只去掉**同一个生产者会话**里重试造成的重复。",
        answerEN: String = "Only duplicates caused by its own retries, within one producer session.",
        experiments: [String] = [], extra: String = ""
    ) -> String {
        """
        id: \(id)
        topic: \(topic)
        tags: [\(tags.joined(separator: ", "))]
        difficulty: 2
        seed: "Kafka / 消息重复如何解决"
        question:
          zh: \(questionZH)
          en: \(questionEN)
        answer:
          zh: |
            \(answerZH)
          en: |
            \(answerEN)
        key_points:
          zh:
            - 序列号按分区、按生产者会话
            - 应用重发不在范围内
          en:
            - Sequence numbers are per partition and per producer session
            - An application resend is out of scope
        sources:
          - url: https://kafka.apache.org/documentation/#producerconfigs_enable.idempotence
            version: Kafka 3.9
        experiments: [\(experiments.joined(separator: ", "))]
        quiz:
          - type: true-false
            prompt:
              zh: 开启幂等后，应用崩溃重发也不会产生重复。
              en: With idempotence on, an application that crashes and resends creates no duplicates.
            answer: false
            explanation:
              zh: 重发的是新的生产者会话，序列号从头开始。
              en: The resend comes from a new producer session whose sequence numbers start over.
          - type: choice
            prompt:
              zh: broker 为每个生产者和分区保留多少个批次用于去重？
              en: How many batches per producer and partition does the broker keep for deduplication?
            options:
              - zh: "1"
                en: "1"
              - zh: "5"
                en: "5"
                correct: true
            explanation:
              zh: 最近 5 个批次。
              en: The last five batches.
        \(extra)
        """
    }

    /// A content tree with the given entry files (name → text), the fixture topics and seed.
    public static func tree(
        _ entries: [String: String], topics: String = topicsYAML, origin: String = "fixture"
    )
        -> ContentFiles
    {
        ContentFiles(
            origin: origin,
            files: [
                .init(path: "content/topics.yaml", role: .topics, text: topics),
                .init(path: "seeds/seed.txt", role: .seed, text: seedText),
            ]
                + entries.map { name, text in
                    .init(path: "content/entries/\(name).yaml", role: .entry, text: text)
                })
    }

    /// The fixture tree with one valid entry per id.
    public static func tree(ids: [String]) -> ContentFiles {
        tree(Dictionary(uniqueKeysWithValues: ids.map { ($0, entryYAML(id: $0)) }))
    }

    /// Writes a tree to a directory laid out like the repository: `<root>/content` and `<root>/seeds`.
    /// Returns the content directory.
    @discardableResult
    public static func write(_ tree: ContentFiles, to root: URL) throws -> URL {
        for file in tree.files {
            let url = root.appending(path: file.path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root.appending(path: "content")
    }
}

/// A fresh directory under the system temporary directory, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init() {
        url = FileManager.default.temporaryDirectory.appending(path: "mqproof-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func file(_ name: String) -> String { url.appending(path: name).path }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
