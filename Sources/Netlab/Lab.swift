// The lab's plumbing as Swift objects: a namespace pair (nl_labnet) and programs
// started, stopped and run inside it (nl_proc). All of it is libnetlab's.
import CNetlab
#if canImport(Glibc)
import Glibc
#endif

/// argv as C strings for the duration of body.
func withCArgv<R>(_ args: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R) rethrows -> R {
    let owned = args.map { strdup($0) }
    defer { owned.forEach { free($0) } }
    let ptrs: [UnsafePointer<CChar>?] = owned.map { UnsafePointer($0) } + [nil]
    return try ptrs.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

public enum Proc {
    /// Runs a program to completion (inside `netns` if given); returns its exit status and output.
    public static func run(_ args: [String], netns: String? = nil, timeout: Double = 60) throws -> (status: Int32, output: String) {
        var buf = [CChar](repeating: 0, count: 65536)
        var status: Int32 = 0
        _ = try withCArgv(args) { argv in
            try withOptionalCString(netns) { ns in
                try nlCheck { nl_proc_run(argv, ns, timeout, &buf, buf.count, &status, $0) }
            }
        }
        return (status, String(cString: buf))
    }

    /// Starts a program in the background (inside `netns` if given), output appended to `log`.
    public static func spawn(_ args: [String], netns: String? = nil, log: String? = nil) throws -> pid_t {
        var pid: pid_t = 0
        _ = try withCArgv(args) { argv in
            try withOptionalCString(netns) { ns in
                try withOptionalCString(log) { lg in
                    try nlCheck { nl_proc_spawn(argv, ns, lg, &pid, $0) }
                }
            }
        }
        return pid
    }

    /// As spawn, returning also the write end of a pipe to its standard input.
    public static func spawnWithInput(_ args: [String], netns: String? = nil, log: String? = nil) throws -> (pid: pid_t, input: Int32) {
        var pid: pid_t = 0
        var fd: Int32 = -1
        _ = try withCArgv(args) { argv in
            try withOptionalCString(netns) { ns in
                try withOptionalCString(log) { lg in
                    try nlCheck { nl_proc_spawn_input(argv, ns, lg, &pid, &fd, $0) }
                }
            }
        }
        return (pid, fd)
    }

    /// Waits for exit; returns the status or throws NL_ELIMIT on timeout.
    @discardableResult
    public static func wait(_ pid: pid_t, timeout: Double) throws -> Int32 {
        var st: Int32 = 0
        try nlCheck { nl_proc_wait(pid, timeout, &st, $0) }
        return st
    }

    /// SIGTERM to the process group, then SIGKILL after `grace` seconds.
    @discardableResult
    public static func stop(_ pid: pid_t, grace: Double = 3) -> Int32 {
        var st: Int32 = 0
        _ = nl_proc_stop(pid, grace, &st, nil)
        return st
    }

    /// True once SIGINT or SIGTERM asked this process to stop (after Capture.stopOnSignals()).
    public static var stopRequested: Bool { nl_stop_flag().pointee != 0 }

    /// For a program whose clean-up must finish (the lab): a second SIGINT/SIGTERM only repeats the
    /// request; a third gives the signal its default action back (nl_signals_hold).
    public static func holdRepeatedSignals() { nl_signals_hold(1) }

    /// Writes all of `data` to a child's input (spawnWithInput) within `timeout` seconds, never blocking
    /// past it; throws NL_EINTR at a stop request, NL_ELIMIT at the deadline (nl_proc_feed; the message
    /// says how many bytes were taken). Returns the bytes taken.
    @discardableResult
    public static func feed(_ fd: Int32, _ data: [UInt8], timeout: Double) throws -> Int {
        var written = 0
        _ = try data.withUnsafeBytes { b in
            try nlCheck { nl_proc_feed(fd, b.baseAddress, b.count, timeout, &written, $0) }
        }
        return written
    }
}

public final class LabNet {
    var raw = nl_labnet()

    /// Creates two namespaces joined by a veth pair (root needed).
    public init(tag: Int32 = 0) throws {
        try nlCheck { nl_labnet_create(&raw, tag, $0) }
    }

    deinit { _ = nl_labnet_destroy(&raw, nil) }

    /// Adds a third namespace joined to the client one by its own veth pair (10.99.2.1 <-> 10.99.2.2).
    public func addThird(tag: Int32 = 0) throws {
        try nlCheck { nl_labnet_add_third(&raw, tag, $0) }
    }

    /// Stops what runs inside and deletes the namespaces.
    public func destroy() throws {
        try nlCheck { nl_labnet_destroy(&raw, $0) }
    }

    public var clientNamespace: String { tupleString(raw.ns_client) }
    public var serverNamespace: String { tupleString(raw.ns_server) }
    public var clientInterface: String { tupleString(raw.if_client) }
    public var serverInterface: String { tupleString(raw.if_server) }
    public var clientIP: String { formatIPv4(raw.ip_client) }
    public var thirdNamespace: String { tupleString(raw.ns_third) }
    public var clientIP2: String { formatIPv4(raw.ip_client2) }
    public var thirdIP: String { formatIPv4(raw.ip_third) }
    public var serverIP: String { formatIPv4(raw.ip_server) }

    /// Removes namespace pairs left by a crashed run; returns how many namespaces went.
    public static func cleanupStale() throws -> Int {
        var n: Int32 = 0
        try nlCheck { nl_labnet_cleanup_stale(&n, $0) }
        return Int(n)
    }

    public static var permitted: Bool { nl_can_create_netns() != 0 }
}
