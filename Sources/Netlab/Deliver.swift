// Delivery: injector --deliver, a real TCP connection of hand-built packets.
import CNetlab

public struct DeliverOptions {
    public var raw = nl_deliver_opts()
    public init() { nl_deliver_opts_init(&raw) }

    public mutating func setSource(ip: String) throws {
        _ = try withUnsafeMutableBytes(of: &raw.src_ip) { b in
            try nlCheck { nl_ipv4_parse_addr(ip, b.baseAddress!.assumingMemoryBound(to: UInt8.self), $0) }
        }
    }

    public mutating func setDestination(ip: String) throws {
        _ = try withUnsafeMutableBytes(of: &raw.dst_ip) { b in
            try nlCheck { nl_ipv4_parse_addr(ip, b.baseAddress!.assumingMemoryBound(to: UInt8.self), $0) }
        }
    }
}

public struct DeliverStats {
    public let packetsSent, retransmissions, segmentsReceived, duplicatesReceived, outOfOrder: Int
    public let checksumBad, checksumOffloaded: Int
    public let bytesSent, bytesReceived: UInt64
    public let messagesAcknowledged: Int
    public let iss, irs: UInt32
    public let sourcePort, peerMSS: Int
    public let established, closed: Bool
    public let seconds: Double
}

public final class Delivery {
    let handle: OpaquePointer
    /// Set when the connection failed after it was attempted: how far it got is still readable.
    public let failure: NetlabError?

    /// Opens the connection, sends every message, collects the replies, closes.
    /// Throws only when nothing could be attempted; a failed connection sets `failure`.
    public init(messages: MessageSet, options: DeliverOptions) throws {
        var out: OpaquePointer?
        var o = options.raw
        var fail: NetlabError?
        do {
            try nlCheck { nl_deliver(messages.handle, &o, &out, $0) }
        } catch let e as NetlabError {
            if out == nil { throw e }
            fail = e
        }
        handle = out!
        failure = fail
    }

    deinit { nl_delivery_free(handle) }

    public var received: [UInt8] {
        var n = 0
        let p = nl_delivery_received(handle, &n)
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    public var events: [String] { (0..<nl_delivery_event_count(handle)).map { cString(nl_delivery_event(handle, $0)) } }

    public var stats: DeliverStats {
        let s = nl_delivery_stats(handle)!.pointee
        return DeliverStats(packetsSent: Int(s.packets_sent), retransmissions: Int(s.retransmissions),
                            segmentsReceived: Int(s.segments_received), duplicatesReceived: Int(s.duplicates_received),
                            outOfOrder: Int(s.out_of_order), checksumBad: Int(s.checksum_bad),
                            checksumOffloaded: Int(s.checksum_offloaded), bytesSent: s.bytes_sent,
                            bytesReceived: s.bytes_received, messagesAcknowledged: Int(s.messages_acked), iss: s.iss,
                            irs: s.irs, sourcePort: Int(s.src_port), peerMSS: Int(s.peer_mss),
                            established: s.established != 0, closed: s.closed != 0, seconds: s.seconds)
    }
}
