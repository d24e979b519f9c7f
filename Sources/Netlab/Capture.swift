// Capture: libnetlab's libpcap live capture, owned by a Swift object.
import CNetlab
#if canImport(Glibc)
import Glibc
#endif

public struct CaptureOptions {
    public var interface: String? = nil
    public var filter: String? = nil
    public var snaplen: UInt32 = 262_144
    public var promiscuous = false
    public var maxPackets: UInt64 = 0
    public var maxSeconds: Double = 0
    public var maxBytes: UInt64 = 0
    public var path: String? = nil
    public var pcapng = false
    public init() {}
}

public struct CaptureStats {
    public let packets, bytes, fileBytes: UInt64
    public let kernelReceived, kernelDropped, interfaceDropped: UInt64
    public let seconds: Double

    init(_ s: nl_capture_stats) {
        packets = s.packets
        bytes = s.bytes
        fileBytes = s.file_bytes
        kernelReceived = s.kernel_received
        kernelDropped = s.kernel_dropped
        interfaceDropped = s.if_dropped
        seconds = s.seconds
    }
}

public struct Interface {
    public let name, description, addresses: String
    public let up, running, loopback: Bool
}

public final class Capture {
    var handle: OpaquePointer?
    public let options: CaptureOptions

    /// Opens the interface and installs the filter; nothing is on disk if this throws.
    public init(_ options: CaptureOptions) throws {
        var o = nl_capture_opts()
        nl_capture_opts_init(&o)
        o.snaplen = options.snaplen
        o.promisc = options.promiscuous ? 1 : 0
        o.max_packets = options.maxPackets
        o.max_seconds = options.maxSeconds
        o.max_bytes = options.maxBytes
        o.pcapng = options.pcapng ? 1 : 0
        var out: OpaquePointer?
        try withOptionalCString(options.interface) { i in
            try withOptionalCString(options.filter) { f in
                try withOptionalCString(options.path) { p in
                    o.interface = i
                    o.filter = f
                    o.path = p
                    try nlCheck { nl_capture_open(&out, &o, $0) }
                }
            }
        }
        handle = out
        self.options = options
    }

    deinit { if let handle { nl_capture_abort(handle) } }

    public var linkTypeName: String { cString(nl_capture_linktype_name(handle)) }

    /// Installs SIGINT/SIGTERM handlers that end `run` cleanly.
    public static func stopOnSignals() throws {
        try nlCheck { nl_signals_install($0) }
    }

    final class StatusBox {
        let fn: (CaptureStats) -> Void
        init(_ fn: @escaping (CaptureStats) -> Void) { self.fn = fn }
    }

    /// Captures until a limit, or until SIGINT/SIGTERM when stopOnSignals() was called.
    public func run(status: ((CaptureStats) -> Void)? = nil) throws {
        guard let handle else { return }
        if let status {
            let box = Unmanaged.passRetained(StatusBox(status))
            defer { box.release() }
            try nlCheck {
                nl_capture_run(handle, nl_stop_flag(), { st, ctx in
                    guard let st, let ctx else { return }
                    Unmanaged<StatusBox>.fromOpaque(ctx).takeUnretainedValue().fn(CaptureStats(st.pointee))
                }, box.toOpaque(), $0)
            }
        } else {
            try nlCheck { nl_capture_run(handle, nl_stop_flag(), nil, nil, $0) }
        }
    }

    /// Drains, flushes and renames the file into place; returns the final counters.
    @discardableResult
    public func close() throws -> CaptureStats {
        guard let h = handle else { throw NetlabError(code: NL_EINVAL.rawValue, message: "capture already closed") }
        handle = nil
        var st = nl_capture_stats()
        try nlCheck { nl_capture_close(h, &st, $0) }
        return CaptureStats(st)
    }

    /// The signal that stopped the capture, if any (SIGINT = 2, SIGTERM = 15).
    public static var stopSignal: Int32 { nl_stop_signal() }

    public static func interfaces() throws -> [Interface] {
        var list: UnsafeMutablePointer<nl_iface>?
        var n = 0
        try nlCheck { nl_capture_interfaces(&list, &n, $0) }
        defer { free(list) }
        return UnsafeBufferPointer(start: list, count: n).map {
            Interface(name: tupleString($0.name), description: tupleString($0.description),
                      addresses: tupleString($0.addresses), up: $0.up != 0, running: $0.running != 0,
                      loopback: $0.loopback != 0)
        }
    }
}
