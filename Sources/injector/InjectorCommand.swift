// injector: CSV messages -> TCP segments in IPv4 packets, explained byte by byte,
// written to a pcap and put on the wire. Argument parsing and output only:
// every packet and checksum decision is made by libnetlab.
import ArgumentParser
import Foundation
import Netlab

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct InjectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "injector",
        abstract: "Turn CSV messages into hand-built TCP/IPv4 packets: explain them, write a pcap, inject them.",
        discussion: """
        With no arguments: loads the bundled sample, prints a compact explanation, writes \
        injector.pcap, and injects on loopback when privileged (saying which it did).

        CSV columns (header row, any order): msg_id, app_protocol, src_app, dst_app, message, timestamp.
        Each pair of apps is one TCP connection; the server end is the app given with --server, else \
        the one whose name contains "server", else the first message's dst_app. app_protocol picks the \
        server port through --port-map (HTTP=80), otherwise --dst-port.
        """)

    @Argument(help: "CSV of messages. Default: the bundled sample, samples/group01_chat_input.csv (installed: PREFIX/share/netlab/samples).")
    var csv: String?

    @Option(name: [.short, .customLong("write")], help: ArgumentHelp(
        "Write the packets to this pcap file (no root needed); '-' writes the pcap to standard output.",
        discussion: "A regular file appears whole or not at all; a FIFO or device is written in place, never replaced."))
    var write: String?

    @Flag(inversion: .prefixedNo, help: "Inject on the wire with libnet's raw IPv4 socket (needs CAP_NET_RAW).")
    var inject: Bool?

    @Option(name: .customLong("capture"),
            help: "Round trip: capture to this file while injecting, then check every packet arrived intact.")
    var capture: String?

    @Option(name: .customLong("interface"), help: "Interface for --capture (default: the one routing to --dst-ip).")
    var interface: String?

    @Flag(help: """
        Open a real TCP connection to --dst-ip:--dst-port made only of hand-built packets (needs CAP_NET_RAW and \
        the host's own resets for the port suppressed, as `netlab lab` does in its namespace).
        """)
    var deliver = false

    @Option(name: .customLong("expect-lines"), help: "--deliver: stop waiting for replies after this many lines.")
    var expectLines: UInt32 = 0

    @Option(name: .customLong("reply-idle"), help: "--deliver: seconds of server silence that end the wait for replies.")
    var replyIdle = 0.5

    @Flag(help: "Per message: every header field, both checksums step by step, and a hex dump.")
    var explain = false

    @Flag(help: "Output for machines (JSON), as every netlab tool says it.")
    var json = false

    @Option(help: "Output format: text or json (--format json is the same as --json).")
    var format: OutputFormat = .text

    @Flag(help: "Wrap each connection in SYN, SYN-ACK, ACK, acknowledge data, and close with FIN.")
    var handshake = false

    @Option(name: .customLong("src-ip"), help: "Client address.")
    var srcIP = "127.0.0.1"

    @Option(name: .customLong("dst-ip"), help: "Server address.")
    var dstIP = "127.0.0.1"

    @Option(name: .customLong("src-port"),
            help: "First client port (default: an ephemeral port in 32768-60999 derived from --seed).")
    var srcPort: String?

    @Option(name: .customLong("dst-port"), help: "Server port when --port-map has no entry.")
    var dstPort = "12345"

    @Option(name: .customLong("port-map"),
            help: "PROTOCOL=PORT for app_protocol values (repeatable, comma lists, or 'well-known').")
    var portMap: [String] = []

    @Option(name: .customLong("app-ip"), help: "APP=IPv4: an address for one src_app/dst_app name (repeatable).")
    var appIP: [String] = []

    @Option(name: .customLong("server"), help: "An app that is always the server end (repeatable).")
    var servers: [String] = []

    @Option(help: "Maximum segment size: payload bytes per segment.")
    var mss = 1460

    @Option(help: "Advertised TCP window.")
    var window = 65535

    @Option(help: "IPv4 time to live.")
    var ttl = 64

    @Option(help: "IPv4 DSCP (0-63).")
    var dscp = 0

    @Option(help: "Seed for initial sequence numbers, IP identifications and the ephemeral port.")
    var seed: UInt64 = 1

    @Option(help: "Milliseconds to wait between injected packets.")
    var gap: Double = 0

    @Flag(name: [.short, .customLong("quiet")], help: "Print only the summary lines, not the packet table.")
    var quiet = false

    @Flag(name: .customLong("no-color"), help: "Never colour the output (NO_COLOR is honoured too).")
    var noColor = false

    var options = CraftOptions()

    enum CodingKeys: String, CodingKey {
        case csv, write, inject, capture, interface, deliver, expectLines, replyIdle, explain, json, format, handshake, srcIP, dstIP, srcPort, dstPort, portMap, appIP, servers,
             mss, window, ttl, dscp, seed, gap, quiet, noColor
    }

    mutating func validate() throws {
        func check(_ body: () throws -> Void) throws {
            do { try body() } catch let e as NetlabError { throw ValidationError(e.message) }
        }
        if json { format = .json }
        guard (1...65495).contains(mss) else { throw ValidationError("--mss \(mss): give 1-65495") }
        guard (1...65535).contains(window) else { throw ValidationError("--window \(window): give 1-65535") }
        guard (1...255).contains(ttl) else { throw ValidationError("--ttl \(ttl): give 1-255") }
        guard (0...63).contains(dscp) else { throw ValidationError("--dscp \(dscp): give 0-63") }
        guard gap >= 0 && gap <= 60_000 else { throw ValidationError("--gap \(gap): give 0-60000 milliseconds") }
        if capture != nil && inject == false {
            throw ValidationError("--capture injects the packets to capture them; it cannot go with --no-inject")
        }
        if interface != nil && capture == nil && !deliver {
            throw ValidationError("--interface only applies to --capture and --deliver")
        }
        if deliver && (capture != nil || inject != nil || write != nil || handshake || explain) {
            throw ValidationError("--deliver makes its own connection: it does not go with --capture, --inject, --write, --handshake or --explain")
        }
        guard replyIdle > 0 && replyIdle <= 60 else { throw ValidationError("--reply-idle: give 0-60 seconds") }
        var o = CraftOptions()
        try check { try o.setSourceIP(srcIP) }
        try check { try o.setDestinationIP(dstIP) }
        if let srcPort { try check { try o.setSourcePort(srcPort) } }
        try check { try o.setDestinationPort(dstPort) }
        for spec in portMap { try check { try o.addPortMap(spec) } }
        for spec in appIP { try check { try o.addAppAddress(spec) } }
        for app in servers { try check { try o.addServer(app) } }
        o.raw.mss = UInt16(mss)
        o.raw.window = UInt16(window)
        o.raw.ttl = UInt8(ttl)
        o.raw.dscp = UInt8(dscp)
        o.raw.seed = seed
        o.raw.handshake = handshake ? 1 : 0
        try check { try o.validate() }
        options = o
    }

    func run() throws {
        var interrupted = false
        guard try reportingFailure("injector", {
            // Ctrl-C or SIGTERM: stop between packets or report lines, remove a half-written
            // capture, exit 130 (SIGINT) or 143 (SIGTERM) as a shell reports a killed command.
            try Capture.stopOnSignals()
            do {
                try execute()
            } catch let e as NetlabError where e.isInterrupted {
                FileHandle.standardError.write(Data("injector: \(safeLine(e.message))\n".utf8))
                interrupted = true
            }
        }) else { throw ExitCode.failure }
        if interrupted { throw ExitCode(Interruption.exitStatus) }
    }

    func executeDelivery() throws {
        let messages = try MessageSet(path: try csv ?? bundledSample())
        var o = DeliverOptions()
        try o.setSource(ip: srcIP)
        try o.setDestination(ip: dstIP)
        o.raw.dst_port = options.raw.dst_port
        o.raw.src_port = options.raw.src_port
        o.raw.mss = UInt16(mss)
        o.raw.window = UInt16(window)
        o.raw.seed = srcPort == nil && seed == 1 ? 0 : seed
        o.raw.expect_lines = expectLines
        o.raw.reply_idle = replyIdle
        o.interface = interface
        let d = try Delivery(messages: messages, options: o)
        switch format {
        case .text:
            print(DeliveryRenderer.text(d, messages: messages, to: "\(dstIP):\(options.raw.dst_port)"), terminator: "")
        case .json:
            print(try DeliveryRenderer.json(d, messages: messages, to: "\(dstIP):\(options.raw.dst_port)"))
        }
        if let f = d.failure {
            FileHandle.standardError.write(Data("injector: \(safeLine(f.message))\n".utf8))
            throw ExitCode.failure
        }
    }

    func execute() throws {
        if deliver { return try executeDelivery() }
        let defaults = csv == nil && write == nil && inject == nil && capture == nil
        let csvPath = try csv ?? bundledSample()
        let messages = try MessageSet(path: csvPath)
        for w in messages.warnings { FileHandle.standardError.write(Data("injector: warning: \(safeLine(w))\n".utf8)) }
        let plan = try Plan(messages: messages, options: options)

        // Decide the outputs before doing anything, so a missing privilege leaves nothing half-done.
        let pcapPath: String? = write ?? (inject == nil && capture == nil ? defaultPcapName(csvPath, defaults: defaults) : nil)
        var injector: Netlab.Injector?
        var injectNote: String?
        switch capture == nil ? inject : true {
        case .some(true):
            injector = try Netlab.Injector()
        case .some(false):
            injectNote = nil
        case .none where write == nil:
            if Netlab.Injector.isPermitted {
                injector = try Netlab.Injector()
            } else {
                injectNote = "did not inject: raw IPv4 injection needs CAP_NET_RAW (run as root, or grant it with setcap cap_net_raw+ep); the pcap holds the same packets"
            }
        case .none:
            injectNote = nil
        }

        if let pcapPath { try plan.writePcap(to: pcapPath) }
        var sent: Int?
        var roundTrip: RoundTrip?
        if let injector, let capture {
            roundTrip = try RoundTrip(plan: plan, injector: injector, path: capture, interface: interface,
                                      gapNanoseconds: Int64(gap * 1_000_000))
            sent = plan.packetCount
        } else if let injector {
            sent = try injector.send(plan, gapNanoseconds: Int64(gap * 1_000_000))
        }
        let outcome = Outcome(csv: csvPath, pcap: pcapPath, injected: sent, injectNote: injectNote,
                              destination: plan.conversations.map(\.server), roundTrip: roundTrip,
                              capturePath: capture)
        // With the pcap on standard output (--write -), the report goes to standard error, as tcpdump -w - does.
        let reportToStderr = pcapPath == "-"
        let color = format == .text && !reportToStderr && terminalWantsColor(disabled: noColor)
        let report: String
        switch format {
        case .text:
            var r = TextRenderer(plan: plan, color: color)
            report = try r.render(explain: explain, quiet: quiet && !explain, outcome: outcome)
        case .json:
            report = try JSONRenderer(plan: plan).render(explain: explain, outcome: outcome) + "\n"
        }
        if reportToStderr {
            FileHandle.standardError.write(Data(report.utf8))
        } else {
            try Interruption.writeStandardOutput(report)
        }
        if let roundTrip, !roundTrip.ok {
            let bad = (0..<plan.packetCount).filter { !roundTrip.item($0).intact }.count
            FileHandle.standardError.write(Data("injector: round trip failed: \(bad) of \(plan.packetCount) packets missing or altered (see the table)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// samples/group01_chat_input.csv as netlab ships it, found from the running executable.
    func bundledSample() throws -> String {
        do {
            return try Front.dataFile("samples/group01_chat_input.csv")
        } catch let e as LabError {
            throw NetlabError.notFound("no CSV given and the bundled sample is missing: \(e.message); or pass a CSV path")
        }
    }

    func defaultPcapName(_ csvPath: String, defaults: Bool) -> String {
        if defaults { return "injector.pcap" }
        let base = URL(fileURLWithPath: csvPath).deletingPathExtension().lastPathComponent
        return base + ".pcap"
    }
}

struct Outcome {
    let csv: String
    let pcap: String?
    let injected: Int?
    let injectNote: String?
    let destination: [String]
    let roundTrip: RoundTrip?
    let capturePath: String?
}
