// swift-tools-version: 6.1
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")

let package = Package(
    name: "mqproof",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mqproof", targets: ["mqproof"])
    ],
    dependencies: [
        // Only versions the local package mirror holds (see ../shared/reference/swift-stack.md).
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
    ],
    targets: [
        // Pure cores: no I/O, no clock, no global randomness.
        .target(name: "Simulation"),
        .target(
            name: "Experiments", dependencies: ["Simulation", "YAMLGuard", yams], plugins: ["EmbedContent"]),
        .target(name: "Quiz"),

        // The store: the only target that knows SQLite. It carries a copy of content/ and seeds/
        // so that a binary copied anywhere still serves the questions.
        .target(name: "Content", dependencies: ["YAMLGuard", grdb, yams], plugins: ["EmbedContent"]),

        // Refuses YAML anchors and aliases before a file is composed (an alias bomb expands a
        // small file into billions of nodes). Used by both parsers of user-written YAML.
        .target(name: "YAMLGuard", dependencies: [yams]),

        // The command-line edge: terminal, clock, environment, files.
        .executableTarget(
            name: "mqproof",
            dependencies: [
                "Content", "Experiments", "Simulation", "Quiz", "LiveExperiments", "RealBrokers",
                argumentParser,
            ]
        ),

        // Real brokers: a private RabbitMQ node and AMQP clients, playing the simulator's scenarios.
        .target(name: "RealBrokers", dependencies: ["Simulation"]),

        // Live experiments: real files, threads and clocks, measured on this machine (why-MQ answers).
        .target(name: "LiveExperiments", dependencies: [grdb]),

        // Build tooling: turns content/ and seeds/ into Swift source for the Content target.
        .executableTarget(name: "ContentEmbedder"),
        .plugin(name: "EmbedContent", capability: .buildTool(), dependencies: ["ContentEmbedder"]),

        // Measured figures, printed, never asserted (`swift run -c release content-benchmarks`, ...).
        .executableTarget(
            name: "content-benchmarks", dependencies: ["Content"], path: "Benchmarks/ContentBenchmarks"),
        .executableTarget(
            name: "simulation-benchmarks", dependencies: ["Experiments", "Simulation"],
            path: "Benchmarks/SimulationBenchmarks"),

        // Tests.
        .target(name: "TestSupport", dependencies: ["Content"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation"]),
        .testTarget(name: "QuizTests", dependencies: ["Quiz"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ExperimentsTests", dependencies: ["Experiments", "Simulation"], exclude: ["Goldens"]),
        .testTarget(name: "RealBrokersTests", dependencies: ["RealBrokers", "Experiments", "Simulation"]),
        .testTarget(name: "LiveExperimentsTests", dependencies: ["LiveExperiments", "TestSupport"]),
        .testTarget(
            name: "ContentTests", dependencies: ["Content", "Simulation", "TestSupport", grdb, yams],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "CLITests", dependencies: ["mqproof", "RealBrokers", "TestSupport", grdb],
            exclude: ["Goldens"]),
    ],
    swiftLanguageModes: [.v6]
)
