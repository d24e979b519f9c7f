// chatserver: the netlab chat server (docs/PROTOCOL.md) on one poll() loop.
// Argument parsing only; the server is libnetlab's nl_chat_server_run.
import ArgumentParser
import Foundation
import Netlab

struct ChatServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatserver",
        abstract: "A chat server: unique names, two-way sessions by request and accept, over plain TCP.",
        discussion: """
        Try it with nc as a client (one terminal each):
          chatserver --port 7000
          nc localhost 7000      then type:  NICK alice
          nc localhost 7000      then type:  NICK bob   and   CHAT alice
        alice types ACCEPT bob, then either side: MSG bob hello / MSG alice hi. HELP lists every \
        command; docs/PROTOCOL.md describes them. Logs joins, sessions and departures with the \
        peer's address on standard output. SIGINT or SIGTERM stops it.
        """)

    @Option(help: "Address to listen on (default: every address, IPv4 and IPv6).")
    var host: String?

    @Option(help: "TCP port to listen on; 0 picks a free one and logs it.")
    var port = 7000

    @Option(name: .customLong("max-input"),
            help: "Bytes of unfinished lines (no LF yet) held across all clients; past it the largest is dropped with an ERR reply (default 64 MiB).")
    var maxInput: Int?

    @Option(name: .customLong("max-clients"), help: "Most clients at once (default: as many as the open-file limit allows).")
    var maxClients = 0

    @Option(name: .customLong("max-output"),
            help: "Bytes that may wait for a client that is not reading before it is disconnected.")
    var maxOutput = 1 << 20

    @Option(name: .customLong("soft-output"),
            help: "Bytes waiting for a client past which whoever sends to it is slowed down (default: max-output / 4; 0: off).")
    var softOutput: Int?

    @Option(name: .customLong("soft-output-timeout"),
            help: "Seconds a client may stay over --soft-output before it is disconnected as not reading (0: never).")
    var softOutputTimeout = 10.0

    @Option(name: .customLong("login-timeout"), help: "Seconds a new connection has to send NICK (0: no limit).")
    var loginTimeout = 60.0

    @Option(name: .customLong("line-timeout"), help: "Seconds a client may leave a line unfinished (0: no limit).")
    var lineTimeout = 60.0

    @Option(name: .customLong("idle-timeout"), help: "Seconds a client may send and receive nothing (0: no limit).")
    var idleTimeout = 0.0

    @Option(name: .customLong("keepalive"),
            help: "TCP keepalive on clients' connections: IDLE[,INTERVAL,COUNT] seconds (default 60,10,3: a vanished host loses its name within 90 s); 0: off.")
    var keepalive = "60,10,3"

    @Option(name: .customLong("max-sessions"), help: "Sessions and pending requests per user.")
    var maxSessions = 256

    @Option(help: "Record the server's TCP port with libpcap into this file (pcap) while it runs; needs root or CAP_NET_RAW.")
    var capture: String?

    @Flag(help: "Log only the start (with the port) and the end, nothing per client.")
    var quiet = false

    @Option(help: "Join a cluster of chat servers through Redis: redis://HOST:PORT. Names are unique across the cluster and every command works across servers.")
    var cluster: String?

    @Option(help: "This server's name in the cluster (1-48 of A-Z a-z 0-9 _ - . :; default: host name and port).")
    var node: String?

    @Flag(name: .customLong("allow-eviction"),
          help: "Join the cluster even if Redis's maxmemory-policy may evict keys (an evicted claim is then taken for lost and claimed again); refused otherwise.")
    var allowEviction = false

    mutating func validate() throws {
        if let maxInput, maxInput < 65536 || maxInput > 1 << 40 {
            throw ValidationError("--max-input \(maxInput): give 65536 to 1099511627776 bytes")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): give 0-65535") }
        guard maxClients >= 0 && maxClients <= 10_000_000 else {
            throw ValidationError("--max-clients \(maxClients): give 0 (no limit) or a positive number")
        }
        guard maxOutput >= 8192 && maxOutput <= 1 << 30 else {
            throw ValidationError("--max-output \(maxOutput): give 8192 to 1073741824 bytes")
        }
        if let softOutput, softOutput < 0 || softOutput >= maxOutput {
            throw ValidationError("--soft-output \(softOutput): give 0 (off) up to less than --max-output (\(maxOutput))")
        }
        for (name, v) in [("--soft-output-timeout", softOutputTimeout), ("--login-timeout", loginTimeout), ("--line-timeout", lineTimeout), ("--idle-timeout", idleTimeout)] {
            guard v >= 0 && v <= 86400 * 7 else { throw ValidationError("\(name) \(v): give 0 to 604800 seconds") }
        }
        guard parsedKeepalive() != nil else {
            throw ValidationError("--keepalive \(keepalive): give IDLE or IDLE,INTERVAL,COUNT in seconds (1-86400 each; IDLE 0: off), e.g. 60,10,3")
        }
        guard (1...65535).contains(maxSessions) else { throw ValidationError("--max-sessions \(maxSessions): give 1-65535") }
        if let cluster {
            let rest = cluster.hasPrefix("redis://") ? String(cluster.dropFirst(8)) : cluster
            guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else {
                throw ValidationError("--cluster \(cluster): give redis://HOST:PORT")
            }
        }
        if let node {
            let ok = (1...48).contains(node.utf8.count) && node.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x3A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
            }
            guard ok else { throw ValidationError("--node \(node): use 1-48 characters from A-Z a-z 0-9 _ - . :") }
            guard cluster != nil else { throw ValidationError("--node needs --cluster redis://HOST:PORT") }
        }
        if allowEviction && cluster == nil {
            throw ValidationError("--allow-eviction needs --cluster redis://HOST:PORT")
        }
        if let capture {
            guard !capture.isEmpty else { throw ValidationError("--capture: give a file name, e.g. chat.pcap") }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: capture, isDirectory: &isDir), isDir.boolValue {
                throw ValidationError("--capture \(capture): is a directory; give a file name such as \(capture)/chat.pcap")
            }
        }
    }

    /// --keepalive as (idle, interval, count); nil if malformed. "0" turns it off.
    func parsedKeepalive() -> (idle: UInt32, interval: UInt32, count: UInt32)? {
        let parts = keepalive.split(separator: ",", omittingEmptySubsequences: false).map { UInt32($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 1 || parts.count == 3, parts.allSatisfy({ $0 != nil }) else { return nil }
        let v = parts.map { $0! }
        if v[0] == 0 { return (0, 0, 0) }
        guard v.allSatisfy({ (1...86400).contains($0) }) else { return nil }
        return parts.count == 3 ? (v[0], v[1], v[2]) : (v[0], 10, 3)
    }

    func run() throws {
        var o = ChatServerOptions()
        o.host = host
        o.port = UInt16(port)
        o.maxClients = UInt32(maxClients)
        o.maxInput = maxInput
        o.maxOutput = maxOutput
        o.softOutput = softOutput
        o.softOutputTimeout = softOutputTimeout
        o.loginTimeout = loginTimeout
        o.lineTimeout = lineTimeout
        o.idleTimeout = idleTimeout
        o.keepalive = parsedKeepalive() ?? (60, 10, 3)
        o.maxSessions = UInt32(maxSessions)
        o.capturePath = capture
        o.log = !quiet
        o.cluster = cluster
        o.node = node
        o.allowEviction = allowEviction
        guard try reportingFailure("chatserver", {
            try ChatServer.run(o)
        }) else { throw ExitCode.failure }
    }
}
