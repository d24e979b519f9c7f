// Thin wrappers over libnetlab's socket applications: the chat server and
// client and the echo server and client. Each call runs one C entry point;
// every networking decision is made in C (CSources/netlab/apps/nl_chat.c, ...).
import CNetlab
#if canImport(Glibc)
import Glibc
#endif

/// Keeps C copies of Swift strings alive for the duration of a C call.
final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []
    func callAsFunction(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s, let p = strdup(s) else { return nil }
        owned.append(p)
        return UnsafePointer(p)
    }
    deinit { owned.forEach { free($0) } }
}

/// Runs body with the servers' log on standard output: one line per event with the local time,
/// written without ever blocking the server's loop (libnetlab's nl_logger: a slow reader costs
/// dropped lines, counted in the log, never a stalled server).
func withStdoutLog<T>(_ body: (nl_log_fn, UnsafeMutableRawPointer?) throws -> T) throws -> T {
    var lg: OpaquePointer?
    _ = try nlCheck { nl_logger_open(&lg, STDOUT_FILENO, 1, 0, $0) }
    defer { nl_logger_close(lg, 1000) }
    return try body(nl_logger_line, UnsafeMutableRawPointer(lg))
}

private func ms(_ seconds: Double) -> UInt32 { UInt32(max(0, min(seconds * 1000, Double(UInt32.max)))) }

public struct ChatServerOptions {
    public var host: String?
    public var port: UInt16 = 7000
    public var maxClients: UInt32 = 0
    public var maxOutput = 1 << 20
    /// Bytes of unfinished lines held across all clients (nil: the library's default, 64 MiB).
    public var maxInput: Int?
    /// Bytes waiting for a client past which its senders are slowed (nil: maxOutput / 4; 0: off).
    public var softOutput: Int?
    /// Seconds a client may stay over softOutput before it is dropped (0: never).
    public var softOutputTimeout = 10.0
    public var loginTimeout = 60.0
    public var lineTimeout = 60.0
    public var idleTimeout = 0.0
    /// TCP keepalive on clients' connections, seconds: idle, interval, count (idle 0: off). A vanished host
    /// is found after idle + interval * count seconds.
    public var keepalive: (idle: UInt32, interval: UInt32, count: UInt32) = (60, 10, 3)
    public var maxSessions: UInt32 = 256
    public var capturePath: String?
    /// Log every client's joins and departures (false: only the start and the end).
    public var log = true
    /// "redis://HOST:PORT": join the cluster of chat servers there (nil: serve alone).
    public var cluster: String?
    /// This server's name in the cluster (nil: host name and port).
    public var node: String?
    /// Join even a Redis whose maxmemory-policy may evict keys (refused otherwise).
    public var allowEviction = false
    public init() {}
}

public enum ChatServer {
    /// Serves until SIGINT or SIGTERM; throws NetlabError when it cannot start or fails.
    public static func run(_ o: ChatServerOptions) throws {
        let s = CStrings()
        var cfg = nl_chat_config()
        nl_chat_config_init(&cfg)
        cfg.host = s(o.host)
        cfg.port = o.port
        cfg.max_clients = o.maxClients
        cfg.max_output = o.maxOutput
        if let m = o.maxInput { cfg.max_input = m }
        cfg.soft_output = o.softOutput ?? o.maxOutput / 4
        cfg.soft_output_ms = ms(o.softOutputTimeout)
        cfg.login_timeout_ms = ms(o.loginTimeout)
        cfg.line_timeout_ms = ms(o.lineTimeout)
        cfg.idle_timeout_ms = ms(o.idleTimeout)
        cfg.keepalive_idle_s = o.keepalive.idle
        cfg.keepalive_intvl_s = o.keepalive.interval
        cfg.keepalive_cnt = o.keepalive.count
        cfg.max_sessions = o.maxSessions
        cfg.handle_signals = 1
        cfg.log_ud = nil
        cfg.quiet = o.log ? 0 : 1
        cfg.cluster_url = s(o.cluster)
        cfg.cluster_node = s(o.node)
        cfg.cluster_allow_eviction = o.allowEviction ? 1 : 0
        try withExtendedLifetime(s) {
            try withStdoutLog { log, ud in
                cfg.log = log
                cfg.log_ud = ud
                // The capture of the server's port runs on the server's loop (nl_chatcap.c); nil: none.
                _ = try nlCheck { nl_chatcap_run(&cfg, s(o.capturePath), nil, $0) }
            }
        }
    }
}

public struct ChatClientOptions {
    public var host = "localhost"
    public var port: UInt16 = 7000
    public var nick: String?
    public var raw = false
    /// "host:port,host:port": servers of a cluster; the next one takes over when the current one goes.
    public var servers: String?
    public init() {}
}

public enum ChatClient {
    /// Runs on the terminal (or a pipe) until /quit, end of input or a signal.
    public static func run(_ o: ChatClientOptions) throws {
        let s = CStrings()
        var cfg = nl_chat_client_config()
        nl_chat_client_config_init(&cfg)
        cfg.host = s(o.host)
        cfg.port = o.port
        cfg.nick = s(o.nick)
        cfg.raw = o.raw ? 1 : 0
        cfg.servers = s(o.servers)
        cfg.handle_signals = 1
        try withExtendedLifetime(s) { _ = try nlCheck { nl_chat_client_run(&cfg, $0) } }
    }

    /// How the client shows one server line (terminal-safe).
    public static func render(_ line: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: line.count * 4 + 256)
        _ = line.withUnsafeBufferPointer { nl_chat_client_render($0.baseAddress, $0.count, &out, out.count) }
        return String(cString: out)
    }
}

public struct EchoServerOptions {
    public var host: String?
    public var port: UInt16 = 7007
    public var greeting = "Welcome to netlab!"
    public var outputPath: String? = "out-proj.txt"
    /// Write the file once per loop pass rather than once per answer (still before answers are sent).
    public var batchOutput = true
    public var maxLine = 1 << 20
    /// Bytes of unfinished lines held across all clients (nil: the library's default, 128 MiB).
    public var maxInput: Int?
    public var maxClients: UInt32 = 0
    public var idleTimeout = 300.0
    /// Log every client's joins and departures (false: only the start and the end).
    public var log = true
    public init() {}
}

public enum EchoServer {
    public static func run(_ o: EchoServerOptions) throws {
        let s = CStrings()
        var cfg = nl_echo_config()
        nl_echo_config_init(&cfg)
        cfg.host = s(o.host)
        cfg.port = o.port
        cfg.greeting = s(o.greeting)
        cfg.output_path = s(o.outputPath)
        cfg.batch_output = o.batchOutput ? 1 : 0
        cfg.max_line = o.maxLine
        if let m = o.maxInput { cfg.max_input = m }
        cfg.max_clients = o.maxClients
        cfg.idle_timeout_ms = ms(o.idleTimeout)
        cfg.handle_signals = 1
        cfg.log_ud = nil
        cfg.quiet = o.log ? 0 : 1
        try withExtendedLifetime(s) {
            try withStdoutLog { log, ud in
                cfg.log = log
                cfg.log_ud = ud
                _ = try nlCheck { nl_echo_server_run(&cfg, $0) }
            }
        }
    }

    /// The answer to one line: reversed by UTF-8 character, ASCII case swapped.
    public static func transform(_ line: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: line.count)
        line.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                _ = nl_echo_transform(src.baseAddress, src.count, dst.baseAddress)
            }
        }
        return out
    }
}

public struct EchoClientOptions {
    public var host = "localhost"
    public var port: UInt16 = 7007
    public var inputPath = "in-proj.txt"
    public var timeout = 10.0
    /// Seconds to wait for the server's greeting before sending without one; 0: send at once.
    public var greetingWait = 2.0
    public init() {}
}

public struct EchoClientResult {
    public let lines: UInt64
    public let answers: UInt64
    public let mismatches: UInt64
}

public enum EchoClient {
    /// Sends the input file line by line, showing each line and its answer on standard output.
    @discardableResult
    public static func run(_ o: EchoClientOptions) throws -> EchoClientResult {
        let s = CStrings()
        var cfg = nl_echo_client_config()
        nl_echo_client_config_init(&cfg)
        cfg.host = s(o.host)
        cfg.port = o.port
        cfg.input_path = s(o.inputPath)
        cfg.timeout_ms = max(1, ms(o.timeout))
        cfg.greeting_ms = o.greetingWait > 0 ? max(1, ms(o.greetingWait)) : 0
        cfg.handle_signals = 1
        var res = nl_echo_client_result()
        try withExtendedLifetime(s) { _ = try nlCheck { nl_echo_client_run(&cfg, &res, $0) } }
        return EchoClientResult(lines: res.lines, answers: res.answers, mismatches: res.mismatches)
    }
}
