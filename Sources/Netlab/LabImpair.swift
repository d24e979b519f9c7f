// An impaired link for the lab: the spec parsed, and loss, rate and delay
// applied to the namespace pair's veth ends by libnetlab (nl_labnet.c decides
// netem or tbf + nftables and says which).
import CNetlab

public struct ImpairSpec {
    public let raw: nl_impair
    public let text: String

    /// Parses "loss=2%,rate=8mbit,delay=20ms" (any subset); throws the C parser's message.
    public init(_ spec: String) throws {
        var im = nl_impair()
        try nlCheck { nl_impair_parse(spec, &im, $0) }
        raw = im
        text = spec
    }

    public var hasLoss: Bool { raw.set & UInt32(NL_IMPAIR_LOSS) != 0 }
    public var hasRate: Bool { raw.set & UInt32(NL_IMPAIR_RATE) != 0 }
    public var hasDelay: Bool { raw.set & UInt32(NL_IMPAIR_DELAY) != 0 }
    public var lossPercent: Double { raw.loss_pct }
    public var rateBitsPerSecond: UInt64 { raw.rate_bps }
    public var delayMicroseconds: UInt32 { raw.delay_us }
}

/// What libnetlab put on the link.
public struct ImpairApplied {
    public let mechanism: String          // "netem", "tbf + nftables", "tbf", "nftables"
    public let usesNetem: Bool
    public let lossApplied, rateApplied, delayApplied: Bool
    public let lossPercent: Double        // in force: netem's as asked, nftables' 100/modulus
    public let lossModulus: UInt32        // nftables' N, 0 with netem
    public let rateBitsPerSecond: UInt64
    public let tbfBurst, tbfLimit: UInt32
    public let delayMicroseconds: UInt32
    public let detail: String
}

/// Drops counted so far: [0] the client's namespace, [1] the server's; -1 where unknown.
public struct ImpairStats {
    public let lossDropped: [Int64]
    public let queueDropped: [Int64]
    public let sentPackets: [Int64]
}

extension LabNet {
    /// Impairs both directions of the veth pair.
    public func impair(_ spec: ImpairSpec) throws -> ImpairApplied {
        var im = spec.raw
        var out = nl_impair_applied()
        try nlCheck { nl_labnet_impair(&raw, &im, &out, $0) }
        let a = out.applied
        return ImpairApplied(mechanism: String(cString: out.mechanism_name), usesNetem: out.mechanism == Int32(NL_IMPAIR_NETEM.rawValue),
                             lossApplied: a & UInt32(NL_IMPAIR_LOSS) != 0, rateApplied: a & UInt32(NL_IMPAIR_RATE) != 0,
                             delayApplied: a & UInt32(NL_IMPAIR_DELAY) != 0, lossPercent: out.loss_pct,
                             lossModulus: out.loss_modulus, rateBitsPerSecond: out.rate_bps, tbfBurst: out.tbf_burst,
                             tbfLimit: out.tbf_limit, delayMicroseconds: out.delay_us, detail: tupleString(out.detail))
    }

    /// Removes the impairment (absent parts are skipped).
    public func unimpair() throws {
        try nlCheck { nl_labnet_unimpair(&raw, $0) }
    }

    public func impairStats() throws -> ImpairStats {
        var st = nl_impair_stats()
        try nlCheck { nl_labnet_impair_stats(&raw, &st, $0) }
        return ImpairStats(lossDropped: [st.loss_dropped.0, st.loss_dropped.1],
                           queueDropped: [st.queue_dropped.0, st.queue_dropped.1],
                           sentPackets: [st.sent_packets.0, st.sent_packets.1])
    }
}
