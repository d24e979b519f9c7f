// Injector: libnet's raw IPv4 injection, owned by a Swift object.
import CNetlab

public final class Injector {
    let handle: OpaquePointer

    /// True when this process holds CAP_NET_RAW.
    public static var isPermitted: Bool { nl_can_inject() != 0 }

    /// Opens the raw socket; throws NetlabError (isPermission) without CAP_NET_RAW.
    public init() throws {
        var out: OpaquePointer?
        try nlCheck { nl_injector_open(&out, $0) }
        handle = out!
    }

    deinit { nl_injector_close(handle) }

    /// Sends every packet of the plan; returns how many the kernel accepted.
    @discardableResult
    public func send(_ plan: Plan, gapNanoseconds: Int64 = 0) throws -> Int {
        var sent = 0
        try nlCheck { nl_injector_send_plan(handle, plan.handle, gapNanoseconds, &sent, $0) }
        return sent
    }
}
