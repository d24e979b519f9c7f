// FlowGraph: the TCP segments of each conversation in a capture, for drawing
// sequence diagrams (nl_flowgraph.c decides what belongs where).
import CNetlab

public struct FlowRow {
    public let frame: UInt64
    public let timeNs: Int64
    public let fromA: Bool
    public let flags: String     // "SYN, ACK"
    public let relativeSeq, relativeAck: UInt32
    public let length: Int
}

public struct FlowConversation {
    public let id: Int
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
        return (0..<nl_flowgraph_count(g)).map { i in
            let c = nl_flowgraph_conv(g, i)!.pointee
            let rows = UnsafeBufferPointer(start: c.rows, count: c.nrows).map {
                FlowRow(frame: $0.frame, timeNs: $0.time_ns, fromA: $0.from_a != 0, flags: tcpFlags($0.flags),
                        relativeSeq: $0.rel_seq, relativeAck: $0.rel_ack, length: Int($0.len))
            }
            return FlowConversation(id: Int(c.id), a: tupleString(c.a), b: tupleString(c.b), total: Int(c.total), rows: rows)
        }
    }
}
