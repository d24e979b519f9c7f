// RoundTrip: injector --capture. Capture, inject, and libnetlab's verdict on
// every crafted packet.
import CNetlab

public struct RoundTripItem {
    public let frame: Int?        // 1-based frame in the capture
    public let copies: Int
    public let identical: Bool
    public let ipChecksumOK: Bool
    public let tcpChecksumOK: Bool
    public let difference: String
    public var intact: Bool { frame != nil && identical && ipChecksumOK && tcpChecksumOK }
}

public final class RoundTrip {
    let handle: OpaquePointer
    public let plan: Plan

    /// Captures to `path` while `injector` sends every packet of `plan`, then matches.
    public init(plan: Plan, injector: Injector, path: String?, interface: String?, gapNanoseconds: Int64 = 0,
                settleSeconds: Double = 1) throws {
        var out: OpaquePointer?
        var o = nl_roundtrip_opts()
        o.gap_ns = gapNanoseconds
        o.settle_seconds = settleSeconds
        try withOptionalCString(path) { p in
            try withOptionalCString(interface) { i in
                o.path = p
                o.interface = i
                try nlCheck { nl_roundtrip_run(plan.handle, injector.handle, &o, &out, $0) }
            }
        }
        handle = out!
        self.plan = plan
    }

    deinit { nl_roundtrip_free(handle) }

    public func item(_ i: Int) -> RoundTripItem {
        let it = nl_roundtrip_item(handle, i)!.pointee
        return RoundTripItem(frame: it.frame > 0 ? Int(it.frame) : nil, copies: Int(it.copies),
                             identical: it.identical != 0, ipChecksumOK: it.ip_ok != 0, tcpChecksumOK: it.tcp_ok != 0,
                             difference: tupleString(it.diff))
    }

    public var ok: Bool { nl_roundtrip_ok(handle) != 0 }
    public var captured: Int { Int(nl_roundtrip_captured(handle)) }
    public var kernelResets: Int { Int(nl_roundtrip_kernel_resets(handle)) }
    public var otherPackets: Int { Int(nl_roundtrip_other(handle)) }
    public var kernelDropped: Int { Int(nl_roundtrip_kernel_dropped(handle)) }
    public var interface: String { cString(nl_roundtrip_interface(handle)) }
    public var linkType: String { cString(nl_roundtrip_linktype(handle)) }
    public var filter: String { cString(nl_roundtrip_filter(handle)) }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) throws -> R) rethrows -> R {
    guard let s else { return try body(nil) }
    return try s.withCString { try body($0) }
}
