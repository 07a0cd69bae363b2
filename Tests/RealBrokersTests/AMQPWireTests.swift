import Experiments
import Simulation
import Testing

@testable import RealBrokers

@Suite("AMQP wire format and broker URLs")
struct AMQPWireTests {
    @Test("A field table written is the same table read back, nested tables included")
    func tableRoundTrip() throws {
        let table: [(String, AMQPValue)] = [
            ("x-dead-letter-exchange", .string("mqproof.R05b.dlx")), ("x-delivery-limit", .int(20)),
            ("capabilities", .table([("publisher_confirms", .bool(true))])),
        ]
        var writer = AMQPWriter()
        writer.table(table)
        writer.shortString("after")
        var reader = AMQPReader(writer.bytes)
        let read = try reader.table()
        #expect(read.map(\.0) == table.map(\.0))
        #expect(read.map(\.1) == table.map(\.1))
        #expect(try reader.shortString() == "after", "the table's length prefix covers exactly its entries")
    }

    @Test("Bits share an octet, lowest first, as queue.declare's flags do")
    func bits() {
        var writer = AMQPWriter()
        writer.bits(false, true, false, false, true)
        #expect(writer.bytes == [0b10010])
    }

    @Test("A truncated frame argument is an error, not a crash")
    func truncated() {
        var reader = AMQPReader([0, 0, 0, 9, 1])
        #expect(throws: AMQPReader.Truncated.self) { _ = try reader.table() }
    }

    @Test("amqp:// URLs: defaults, credentials, port and an escaped vhost")
    func addresses() throws {
        #expect(try AMQPAddress.parse("amqp://localhost").get() == AMQPAddress(host: "localhost"))
        let full = try AMQPAddress.parse("amqp://app:s%40cret@10.0.0.5:5673/%2Fprod").get()
        #expect(
            full
                == AMQPAddress(
                    host: "10.0.0.5", port: 5673, user: "app", password: "s@cret", virtualHost: "/prod"))
        #expect(throws: AMQPError.self) { try AMQPAddress.parse("http://localhost").get() }
        #expect(throws: AMQPError.self) { try AMQPAddress.parse("amqp://host:99999").get() }
    }
}

@Suite("What one real node can run")
struct RealCapabilityTests {
    func reason(_ id: String, brokerFaults: Bool = true) throws -> String? {
        let experiment = try #require(ExperimentCatalogue.experiment(id))
        return RealRabbit.unsupported(experiment.scenario, canInjectBrokerFaults: brokerFaults)
    }

    @Test("Every RabbitMQ experiment either runs or says what a single machine lacks")
    func reasons() throws {
        #expect(try reason("R04") == nil)
        #expect(try reason("R02") == nil, "kill -9 and a restart are what a private node can do")
        #expect(try reason("R01")?.contains("fault-injecting file system") == true)
        #expect(try reason("R06")?.contains("3-node cluster") == true)
        #expect(try reason("R09")?.contains("proxy") == true)
        #expect(try reason("K01") == "not a RabbitMQ scenario")
    }

    @Test("A broker mqproof did not start is never killed: the scenarios with broker faults are refused")
    func existingBroker() throws {
        #expect(try reason("R02", brokerFaults: false)?.contains("only a node mqproof started") == true)
        #expect(try reason("R04", brokerFaults: false) == nil, "a client crash is fine on any broker")
    }

    @Test("Without rabbitmq-server, the error is one line with the install command")
    func missingServer() {
        #expect(throws: RealBrokerError.self) {
            try PrivateRabbitNode.serverScript(in: "/nonexistent/rabbitmq")
        }
        do {
            _ = try PrivateRabbitNode.serverScript(in: "/nonexistent/rabbitmq")
        } catch {
            #expect(
                error.description
                    == "rabbitmq-server is not installed: run `apt-get install rabbitmq-server` (Debian 12 ships 3.10.8)"
            )
        }
    }

    @Test("The 3.x profile: no default delivery limit on quorum queues, which 4.x sets to 20")
    func versionProfile() throws {
        #expect(RabbitVersion(parsing: "3.10.8") == .v3)
        let settings = [("x-queue-type", "quorum")]
        #expect(try RabbitConfig.resolve(version: .v3, nodes: 3, settings: settings).deliveryLimit == nil)
        #expect(try RabbitConfig.resolve(version: .v40, nodes: 3, settings: settings).deliveryLimit == 20)
    }
}
