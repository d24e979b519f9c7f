// --json: the report for machines. Field names are stable and documented in the
// docs/analyze.md ("The JSON"); packet numbers are Wireshark's 1-based frame numbers.
import Foundation
import Netlab

struct JSONReport {
    let analysis: Analysis
    let texts: [String]
    let followAsked: Int
    let expectAsked: String?
    var packets = false

    func write(into w: inout JSONWriter) {
        let a = analysis
        let s = a.summary
        w.beginObject()
        w.field("file", s.file)
        w.field("format", s.format)
        w.field("byte_order_swapped", s.swapped)
        w.field("nanosecond", s.nanosecond)
        w.field("link_type", linkTypeName(s.linkType))
        w.field("packets", s.packets)
        w.field("bytes", s.bytes)
        w.field("captured_bytes", s.capturedBytes)
        if s.packets > 0 {
            w.field("first_time", Fmt.isoTime(s.firstNs, nano: s.nanosecond))
            w.field("last_time", Fmt.isoTime(s.lastNs, nano: s.nanosecond))
            w.field("duration", Fmt.span(s.firstNs, s.lastNs))
        } else {
            w.null("first_time"); w.null("last_time"); w.field("duration", 0.0)
        }
        w.stringArray("interfaces", Fmt.interfaceNames(a.interfaces))
        w.beginArray("interface_details")
        for f in a.interfaces {
            w.beginObject()
            w.field("kind", f.kind.rawValue)
            w.field("index", f.index)
            w.field("name", f.name)
            w.field("description", f.description)
            w.field("link_type", linkTypeName(f.linkType))
            w.field("packets", f.packets)
            w.field("loopback", f.loopback)
            w.endObject()
        }
        w.endArray()
        w.stringArray("protocols", Fmt.protocols(s))
        w.beginObject("protocol_packets")
        w.field("ipv4", s.ipv4); w.field("ipv6", s.ipv6); w.field("non_ip", s.nonIP)
        w.field("tcp", s.tcp); w.field("udp", s.udp); w.field("icmp", s.icmp); w.field("icmpv6", s.icmpv6)
        w.field("other", s.otherIP); w.field("fragments", s.fragments)
        w.endObject()
        w.field("truncated", s.truncated)
        w.field("malformed", s.malformed)
        w.field("snapped", s.snapped)
        w.field("duplicates", s.duplicates)
        w.field("unsupported_link", s.unsupportedLink)
        w.field("tcp_conversations", s.tcpConversations)
        w.field("udp_flows", s.udpFlows)
        w.field("retransmissions", s.retransmissions)

        // --max-listed: at most that many entries; conversations_not_listed counts the rest.
        let listed = min(a.conversationCount, a.listedCap)
        w.beginArray("conversations")
        for i in 0..<listed { conversation(a.conversation(at: i), &w) }
        w.endArray()
        w.field("conversations_not_listed", a.conversationCount - listed)
        tcpAnalysis(&w)
        if packets { tcpPackets(&w) }

        if s.largestPacket > 0 {
            w.beginObject("largest_payload")
            w.field("packet", s.largestPacket)
            w.field("bytes", s.largestBytes)
            w.field("conversation", s.largestConversation)
            w.endObject()
        } else {
            w.null("largest_payload")
        }

        w.beginObject("checksums")
        counts("ipv4", s.ckIPv4, none: false, &w)
        counts("tcp", s.ckTCP, none: false, &w)
        counts("udp", s.ckUDP, none: true, &w)
        var seen = Set<UInt64>()
        w.intArray("bad_packets", a.badChecksums.compactMap { seen.insert($0.packet).inserted ? $0.packet : nil })
        w.field("bad_packets_total", s.badPackets)
        w.beginArray("bad")
        for b in a.badChecksums {
            w.beginObject()
            w.field("packet", b.packet)
            w.field("layer", b.layer)
            w.field("found", Fmt.hex16(b.found))
            w.field("expected", Fmt.hex16(b.expected))
            w.field("conversation", b.conversation)
            w.endObject()
        }
        w.endArray()
        w.endObject()

        w.beginArray("matches")
        for m in a.matches {
            w.beginObject()
            w.field("text", texts[m.textIndex])
            w.field("packet", m.packet)
            w.field("conversation", m.conversation)
            w.field("payload_bytes", m.payloadBytes)
            w.field("offset", m.offset)
            w.field("direction", Fmt.direction(m.fromClient))
            w.field("across_segments", m.acrossSegments)
            w.field("last_packet", m.lastPacket)
            w.endObject()
        }
        w.endArray()
        w.field("match_count", s.matchCount)

        w.beginArray("duplicate_packets")
        for d in a.duplicates {
            w.beginObject()
            w.field("packet", d.packet)
            w.field("original", d.original)
            w.field("conversation", d.conversation)
            w.field("delta_us", Double(d.deltaNs) / 1000)
            w.endObject()
        }
        w.endArray()

        w.beginArray("problems")
        for p in a.problems {
            w.beginObject()
            w.field("packet", p.packet)
            w.field("status", p.status)
            w.field("layer", p.layer)
            w.field("reason", p.reason)
            w.endObject()
        }
        w.endArray()

        w.beginArray("notes")
        for n in a.notes {
            w.beginObject()
            w.field("kind", n.kind)
            if n.packet > 0 { w.field("packet", n.packet) } else { w.null("packet") }
            if n.conversation > 0 { w.field("conversation", n.conversation) } else { w.null("conversation") }
            w.field("text", n.text)
            w.endObject()
        }
        w.endArray()
        w.stringArray("warnings", a.warnings)
        w.field("read_error", s.readError?.message)

        if followAsked > 0 { follow(&w) }
        if expectAsked != nil { expect(&w) }
        w.endObject()
    }

    func conversation(_ c: CaptureConversation, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("id", c.id)
        w.field("protocol", c.protocolName)
        c.withEndpoints { cl, sv in
            w.field("client", utf8: cl)
            w.field("server", utf8: sv)
        }
        w.field("server_guessed", c.serverGuessed)
        w.field("server_basis", c.serverBasis)
        if !c.app.isEmpty {
            w.field("app", c.app)
            w.field("app_basis", c.appBasis)
            w.field("role", c.role)
        }
        w.field("packets_c2s", c.packetsC2S)
        w.field("packets_s2c", c.packetsS2C)
        w.field("payload_bytes_c2s", c.payloadC2S)
        w.field("payload_bytes_s2c", c.payloadS2C)
        w.field("bytes_c2s", c.bytesC2S)
        w.field("bytes_s2c", c.bytesS2C)
        w.field("first_packet", c.firstPacket)
        w.field("last_packet", c.lastPacket)
        w.field("duration", Fmt.span(c.firstNs, c.lastNs))
        if c.proto == 6 {
            w.field("handshake", c.handshake)
            w.field("end", c.end)
            w.field("fin_c2s", c.finC2S)
            w.field("fin_s2c", c.finS2C)
            w.field("rst_c2s", c.rstC2S)
            w.field("rst_s2c", c.rstS2C)
            if c.resetPacket > 0 { w.field("reset_packet", c.resetPacket) } else { w.null("reset_packet") }
            w.field("refused", c.refused)
            w.field("kernel_reset", c.kernelReset)
            w.field("started_before_capture", c.startedBeforeCapture)
            w.field("retransmissions", c.retransmissions)
            tcpConversation(c.id - 1, &w)
        }
        w.field("duplicates", c.duplicates)
        if c.largestPacket > 0 {
            w.beginObject("largest_payload")
            w.field("packet", c.largestPacket)
            w.field("bytes", c.largestBytes)
            w.endObject()
        } else {
            w.null("largest_payload")
        }
        w.field("checksum_bad", c.checksumBad)
        w.field("checksum_offload", c.checksumOffload)
        w.endObject()
    }

    func counts(_ key: String, _ c: ChecksumCounts, none: Bool, _ w: inout JSONWriter) {
        w.beginObject(key)
        w.field("good", c.good)
        w.field("bad", c.bad)
        w.field("offload", c.offload)
        w.field("unverified", c.unverified)
        if none { w.field("none", c.none) }
        w.endObject()
    }

    func follow(_ w: inout JSONWriter) {
        let a = analysis
        let id = a.followedConversation
        w.beginObject("follow")
        w.field("conversation", followAsked)
        w.field("found", id > 0)
        if id > 0 {
            let c = a.conversation(at: id - 1)
            w.field("protocol", c.protocolName)
            w.field("client", c.client)
            w.field("server", c.server)
            var c2s = 0, s2c = 0, missing = 0
            w.beginArray("chunks")
            for ch in a.chunks {
                w.beginObject()
                w.field("direction", Fmt.direction(ch.fromClient))
                w.field("packet", ch.packet)
                w.field("bytes", ch.length)
                if let b = ch.bytes {
                    w.field("text", String(decoding: b, as: UTF8.self))
                    w.field("base64", Data(b).base64EncodedString())
                    if ch.fromClient { c2s += ch.length } else { s2c += ch.length }
                } else {
                    w.field("missing", true)
                    missing += ch.length
                }
                w.endObject()
            }
            w.endArray()
            w.field("bytes_c2s", c2s)
            w.field("bytes_s2c", s2c)
            w.field("bytes_missing", missing)
        }
        w.endObject()
    }

    func expect(_ w: inout JSONWriter) {
        let ex = analysis.expectations
        w.beginObject("expect")
        w.field("csv", expectAsked)
        w.field("messages", ex.count)
        for status in ["found", "out-of-order", "altered", "missing"] {
            w.field(status.replacingOccurrences(of: "-", with: "_"), ex.filter { $0.status == status }.count)
        }
        w.field("unexpected", analysis.unexpected.filter { $0.kind == "unexpected" }.count)
        w.field("ok", analysis.expectationsMet)
        w.beginArray("unexpected_payload")
        for u in analysis.unexpected {
            w.beginObject()
            w.field("kind", u.kind)
            w.field("conversation", u.conversation)
            w.field("direction", Fmt.direction(u.fromClient))
            w.field("packet", u.packet)
            w.field("last_packet", u.lastPacket)
            w.field("stream_offset", u.streamOffset)
            w.field("bytes", u.length)
            w.field("preview", String(decoding: u.preview, as: UTF8.self))
            w.endObject()
        }
        w.endArray()
        w.beginArray("results")
        for e in ex {
            w.beginObject()
            w.field("msg_id", e.msgID)
            w.field("line", e.line)
            w.field("status", e.status)
            if e.conversation > 0 { w.field("conversation", e.conversation) } else { w.null("conversation") }
            w.field("direction", e.conversation > 0 ? Fmt.direction(e.fromClient) : nil)
            if e.packet > 0 { w.field("packet", e.packet) } else { w.null("packet") }
            if e.lastPacket > 0 { w.field("last_packet", e.lastPacket) } else { w.null("last_packet") }
            w.field("bytes", e.length)
            if e.status == "altered" {
                w.field("differing_bytes", e.differing)
                w.field("first_difference", e.firstDifference)
            }
            w.field("detail", e.detail)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}
