import ArgumentParser
import Simulation

/// Lists the config keys a scenario may set for one broker: values, default, source.
struct Configs: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "configs",
        abstract:
            "List the config keys a scenario (or run --set) may set for a broker, with defaults and sources.")

    enum System: String, ExpressibleByArgument, CaseIterable {
        case kafka, rabbitmq, rocketmq, activemq
    }

    @Argument(help: "kafka, rabbitmq, rocketmq or activemq.") var system: System

    @Option(help: "The product version whose defaults to show, as a scenario names it (e.g. 3.7, 2.8, 4.2).")
    var version: String?

    @OptionGroup var language: LanguageOption
    @OptionGroup var format: JSONOption

    struct Row: Encodable {
        var key: String
        var values: String
        var `default`: String
        var source: String
    }

    func rows() throws -> (version: String, rows: [Row]) {
        func rows<Config>(_ table: ConfigTable<Config>, _ defaults: Config) -> [Row] {
            table.keys.map {
                Row(key: $0.name, values: $0.values, default: $0.defaultValue(defaults), source: $0.source)
            }
        }
        func parse<Version>(_ make: (String) -> Version?, latest: Version) throws -> Version {
            guard let version else { return latest }
            guard let parsed = make(version) else {
                throw ValidationError(
                    "--version: '\(version)' is not a \(system.rawValue) version the simulator models")
            }
            return parsed
        }
        switch system {
        case .kafka:
            let version = try parse(KafkaVersion.init(parsing:), latest: .v37)
            return (
                version.rawValue, rows(KafkaConfig.table, KafkaConfig.defaults(version: version, brokers: 3))
            )
        case .rabbitmq:
            let version = try parse(RabbitVersion.init(parsing:), latest: .v43)
            let defaults = try RabbitConfig.resolve(version: version, nodes: 3, settings: [])
            return (version.rawValue, rows(RabbitConfig.table, defaults))
        case .rocketmq:
            let version = try parse(RocketVersion.init(parsing:), latest: .v4)
            let defaults = try RocketConfig.resolve(version: version, nodes: 2, settings: [])
            return (version.rawValue, rows(RocketConfig.table, defaults))
        case .activemq:
            let version = try parse(ActiveMQVersion.init(parsing:), latest: .classic)
            let defaults = try ActiveMQConfig.resolve(version: version, nodes: 1, settings: [])
            return (version.rawValue, rows(ActiveMQConfig.table, defaults))
        }
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let (version, rows) = try rows()
        if format.json {
            try output.json(rows)
            return
        }
        let terminal = environment.terminal
        let style = terminal.style
        let ui = language.ui(environment)
        let name =
            ["kafka": "Kafka", "rabbitmq": "RabbitMQ", "rocketmq": "RocketMQ", "activemq": "ActiveMQ"][
                system.rawValue] ?? system.rawValue
        output.line(style.bold(ui(.configsTitle(system: name, version: version))))
        for row in rows {
            output.line()
            output.line(style.accent(row.key) + "  " + style.dim(ui(.configDefault(row.default))))
            output.lines(terminal.hanging(row.values, first: "  "))
            // A source is never broken across lines, so that it stays clickable.
            output.line("  " + style.dim(row.source))
        }
    }
}
