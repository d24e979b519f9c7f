// FlowGraph: the TCP segments of each conversation in a capture, for drawing
// sequence diagrams (nl_flowgraph.c lays out the TCP analysis' own rows).
import CNetlab

public struct FlowRow {
    public let frame: UInt64
    public let timeNs: Int64
    public let fromA: Bool
    public let flags: String     // "SYN, ACK"
    public let relativeSeq, relativeAck: UInt32
    public let length: Int
    /// Advertised receive window in bytes (scaled when `windowScaleKnown`).
    public var window: UInt32 = 0
    public var windowScaleKnown = false
    /// Loss marks from the analysis flags (NL_FLOW_MARK_RETRANS, NL_FLOW_MARK_DUPACK).
    public var marks: UInt8 = 0
    /// An RTT sample: this ACK covers exactly the end of frame `rttFrame` (0: no sample).
    public var rttFrame: UInt64 = 0
    public var rttMs: Double = 0

    /// The analysis marked it a retransmission or out of order / a duplicate ACK.
    public var markedRetransmission: Bool { marks & UInt8(NL_FLOW_MARK_RETRANS) != 0 }
    public var markedDuplicateAck: Bool { marks & UInt8(NL_FLOW_MARK_DUPACK) != 0 }
}

public struct FlowConversation {
    public let id: Int
    /// Its number in the analysis (analyze's: TCP and UDP in one sequence).
    public let conversation: Int
    public let a, b: String      // a: the client when the SYN was captured
    public let total: Int
    public let rows: [FlowRow]
}

public enum FlowGraph {
    /// Every TCP conversation of a capture, at most `maxRows` segments each.
    public static func read(path: String, maxRows: Int = 1000) throws -> [FlowConversation] {
        var g: OpaquePointer?
        try nlCheck { nl_flowgraph_read(path, maxRows, &g, $0) }
        defer { nl_flowgraph_free(g) }
        return convert(g)
    }

    /// The same from an analysis already made with `AnalyzeOptions.packets` (the capture is not read again).
    public static func read(analysis: Analysis, maxRows: Int = 1000) throws -> [FlowConversation] {
        var g: OpaquePointer?
        try nlCheck { nl_flowgraph_from_analysis(analysis.handle, maxRows, &g, $0) }
        defer { nl_flowgraph_free(g) }
        return convert(g)
    }

    static func convert(_ g: OpaquePointer?) -> [FlowConversation] {
        (0..<nl_flowgraph_count(g)).map { conversation(g, $0) }
    }

    /// Conversation i of flow graph g, copied.
    static func conversation(_ g: OpaquePointer?, _ i: Int) -> FlowConversation {
            let c = nl_flowgraph_conv(g, i)!.pointee
            let rows = UnsafeBufferPointer(start: c.rows, count: c.nrows).map {
                FlowRow(frame: $0.frame, timeNs: $0.time_ns, fromA: $0.from_a != 0, flags: tcpFlags($0.flags),
                        relativeSeq: $0.rel_seq, relativeAck: $0.rel_ack, length: Int($0.len), window: $0.window,
                        windowScaleKnown: $0.wscale_known != 0, marks: $0.marks, rttFrame: $0.rtt_frame, rttMs: $0.rtt_ms)
            }
            return FlowConversation(id: Int(c.id), conversation: Int(c.conversation), a: tupleString(c.a),
                                    b: tupleString(c.b), total: Int(c.total), rows: rows)
    }
}

/// Payload bits per second in equal time bins from the conversation's first packet, each direction:
/// every byte sent (retransmissions included) and only new bytes (nl_flowgraph_throughput).
public struct FlowThroughput {
    public let t0Ns, binNs: Int64
    public let sentA, freshA, sentB, freshB: [Double]
}

extension FlowGraph {
    /// Every TCP conversation with its throughput in `bins` bins spanning its kept rows.
    public static func readWithThroughput(path: String, maxRows: Int, bins: Int) throws -> [(FlowConversation, FlowThroughput)] {
        var g: OpaquePointer?
        try nlCheck { nl_flowgraph_read(path, maxRows, &g, $0) }
        defer { nl_flowgraph_free(g) }
        let convs = convert(g)
        return try convs.enumerated().map { i, conv in (conv, try throughput(g, i, conv, bins: bins)) }
    }

    /// Throughput of conversation i of g (conv: its copy) in `bins` bins spanning its kept rows.
    static func throughput(_ g: OpaquePointer?, _ i: Int, _ conv: FlowConversation, bins: Int) throws -> FlowThroughput {
            let c = nl_flowgraph_conv(g, i)
            // Earliest to latest (a capture's clock can step back), saturated: any Int64 times.
            let t0 = conv.rows.map(\.timeNs).min() ?? 0
            let span = max(NanoTime.difference(conv.rows.map(\.timeNs).max() ?? t0, t0), 1)
            let bin = max(span / Int64(bins) + (span % Int64(bins) == 0 ? 0 : 1), 1)
            func series(_ a: Bool) throws -> ([Double], [Double]) {
                var sent = [Double](repeating: 0, count: bins), fresh = [Double](repeating: 0, count: bins)
                try nlCheck { e in
                    sent.withUnsafeMutableBufferPointer { s in
                        fresh.withUnsafeMutableBufferPointer { f in
                            nl_flowgraph_throughput(c, a ? 1 : 0, t0, bin, bins, s.baseAddress, f.baseAddress, e)
                        }
                    }
                }
                return (sent, fresh)
            }
            let (sa, fa) = try series(true), (sb, fb) = try series(false)
            return FlowThroughput(t0Ns: t0, binNs: bin, sentA: sa, freshA: fa, sentB: sb, freshB: fb)
    }
}
