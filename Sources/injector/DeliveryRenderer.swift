// Output of injector --deliver: the connection's events, its figures and what
// the server sent back.
import Foundation
import Netlab

enum DeliveryRenderer {
    static func text(_ d: Delivery, messages: MessageSet, to: String) -> String {
        var out = "netlab injector --deliver: \(messages.count) messages to \(to) over a TCP connection of hand-built packets\n"
        for e in d.events { out += "  " + e + "\n" }
        let s = d.stats
        out += "handshake: \(s.established ? "completed" : "FAILED"); messages acknowledged: \(s.messagesAcknowledged)/\(messages.count); "
        out += "packets sent: \(s.packetsSent) (\(s.retransmissions) retransmitted); segments received: \(s.segmentsReceived)"
        out += " (\(s.bytesReceived) bytes"
        if s.checksumOffloaded > 0 { out += ", \(s.checksumOffloaded) with an offloaded checksum" }
        if s.checksumBad > 0 { out += ", \(s.checksumBad) dropped for a bad checksum" }
        out += "); close: \(s.closed ? "FIN both ways" : "incomplete")\n"
        let text = String(decoding: d.received, as: UTF8.self)
        if !text.isEmpty {
            out += "the server sent:\n"
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                out += "  " + Fmt.preview(ArraySlice(Array(line.utf8)), limit: 200) + "\n"
            }
        }
        return out
    }

    struct Doc: Encodable {
        let destination: String
        let ok: Bool
        let error: String?
        let established: Bool
        let closed: Bool
        let messages: Int
        let messages_acknowledged: Int
        let packets_sent: Int
        let retransmissions: Int
        let segments_received: Int
        let bytes_sent: UInt64
        let bytes_received: UInt64
        let checksum_offloaded: Int
        let checksum_bad: Int
        let source_port: Int
        let iss: UInt32
        let irs: UInt32
        let seconds: Double
        let events: [String]
        let received: String
    }

    static func json(_ d: Delivery, messages: MessageSet, to: String) throws -> String {
        let s = d.stats
        let doc = Doc(destination: to, ok: d.failure == nil, error: d.failure?.message, established: s.established,
                      closed: s.closed, messages: messages.count, messages_acknowledged: s.messagesAcknowledged,
                      packets_sent: s.packetsSent, retransmissions: s.retransmissions,
                      segments_received: s.segmentsReceived, bytes_sent: s.bytesSent, bytes_received: s.bytesReceived,
                      checksum_offloaded: s.checksumOffloaded, checksum_bad: s.checksumBad, source_port: s.sourcePort,
                      iss: s.iss, irs: s.irs, seconds: s.seconds, events: d.events,
                      received: String(decoding: d.received, as: UTF8.self))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(["deliver": doc]), as: UTF8.self)
    }
}
