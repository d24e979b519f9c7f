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

    /// {"deliver": {...}}, keys in alphabetical order; "error" only on failure.
    static func json(_ d: Delivery, messages: MessageSet, to: String) throws -> String {
        let s = d.stats
        var w = JSONWriter(streaming: false)
        w.beginObject()
        w.beginObject("deliver")
        w.field("bytes_received", s.bytesReceived)
        w.field("bytes_sent", s.bytesSent)
        w.field("checksum_bad", s.checksumBad)
        w.field("checksum_offloaded", s.checksumOffloaded)
        w.field("closed", s.closed)
        w.field("destination", to)
        if let e = d.failure?.message { w.field("error", e) }
        w.field("established", s.established)
        w.stringArray("events", d.events)
        w.field("irs", s.irs)
        w.field("iss", s.iss)
        w.field("messages", messages.count)
        w.field("messages_acknowledged", s.messagesAcknowledged)
        w.field("ok", d.failure == nil)
        w.field("packets_sent", s.packetsSent)
        w.field("received", String(decoding: d.received, as: UTF8.self))
        w.field("retransmissions", s.retransmissions)
        w.field("seconds", s.seconds)
        w.field("segments_received", s.segmentsReceived)
        w.field("source_port", s.sourcePort)
        w.endObject()
        w.endObject()
        return w.text
    }
}
