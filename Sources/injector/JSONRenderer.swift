// --json (alias --format json): the same content as the text output, for machines. Field names
// are stable and documented in docs/inject.md.
import Foundation
import Netlab

struct JSONRenderer {
    let plan: Plan

    /// Keys in alphabetical order within each object; absent values are left out.
    func steps(_ t: ChecksumTrace, pseudo: Bool, _ key: String, _ w: inout JSONWriter) {
        func ws(_ part: String) -> [String] { t.words.filter { $0.part == part }.map { Fmt.word($0.value) } }
        w.beginObject(key)
        w.field("checksum", Fmt.hex16(t.checksum))
        w.field("checksum_field_offset", t.fieldOffset)
        w.field("correct", t.correct)
        w.stringArray("data", ws("data"))
        w.field("folded", Fmt.hex16(t.folded))
        w.stringArray("folds", t.folds.map { String(format: "0x%05x", $0) })
        w.stringArray("header", ws("header"))
        w.field("in_packet", Fmt.hex16(t.inPacket))
        if pseudo { w.stringArray("pseudo_header", ws("pseudo-header")) }
        w.field("sum", String(format: "0x%08x", t.sum))
        w.endObject()
    }

    func checksumPair(_ key: String, libnet: UInt16, netlab: UInt16, _ w: inout JSONWriter) {
        w.beginObject(key)
        w.field("agree", libnet == netlab)
        w.field("libnet", Fmt.hex16(libnet))
        w.field("netlab", Fmt.hex16(netlab))
        w.endObject()
    }

    func packet(_ p: Packet, explain: Bool, _ w: inout JSONWriter) throws {
        let x = try plan.explain(p.number - 1)
        let full = explain && p.message != nil
        w.beginObject()
        if full {
            w.beginObject("checksum_steps")
            steps(x.ipChecksum, pseudo: false, "ipv4", &w)
            steps(x.tcpChecksum, pseudo: true, "tcp", &w)
            w.endObject()
        }
        w.beginObject("checksums")
        checksumPair("ipv4", libnet: p.ipChecksumLibnet, netlab: p.ipChecksumNetlab, &w)
        checksumPair("tcp", libnet: p.tcpChecksumLibnet, netlab: p.tcpChecksumNetlab, &w)
        w.endObject()
        w.field("conversation", p.conversation + 1)
        w.field("direction", p.fromClient ? "client_to_server" : "server_to_client")
        if full { w.field("hex", p.bytes.map { String(format: "%02x", $0) }.joined()) }
        w.field("kind", p.kind)
        if full {
            w.beginArray("layers")
            for s in x.spans {
                w.beginObject()
                w.beginArray("fields")
                for f in x.fields where f.layer == s.layer {
                    w.beginObject()
                    w.field("bit_offset", f.bitOffset)
                    w.field("bit_width", f.bitWidth)
                    w.field("meaning", f.meaning)
                    w.field("name", f.name)
                    w.field("text", f.valueText)
                    w.field("value", f.value)
                    w.endObject()
                }
                w.endArray()
                w.field("length", s.length)
                w.field("name", s.layer)
                w.field("offset", s.offset)
                w.endObject()
            }
            w.endArray()
        }
        w.field("length", p.bytes.count)
        if let m = p.message {
            let msg = plan.messages[m]
            w.beginObject("message")
            w.field("line", msg.line)
            w.field("msg_id", msg.id)
            w.field("segment", p.segment)
            w.field("segments", p.segments)
            w.endObject()
        }
        w.field("number", p.number)
        if p.message != nil {
            w.field("payload", String(decoding: p.bytes[p.payloadOffset..<p.payloadOffset + p.payloadLength], as: UTF8.self))
        }
        w.field("payload_bytes", p.payloadLength)
        w.field("relative_ack", p.relativeAck)
        w.field("relative_seq", p.relativeSeq)
        w.field("summary", x.summary)
        w.field("time", Fmt.isoTime(p.timeNs))
        w.endObject()
    }

    func render(explain: Bool, outcome: Outcome) throws -> String {
        var w = JSONWriter(streaming: false)
        w.beginObject()
        w.field("checksums_agree", plan.packets.allSatisfy(\.checksumsAgree))
        w.beginArray("conversations")
        for c in plan.conversations {
            w.beginObject()
            w.field("app_protocol", c.appProtocol)
            w.field("client", c.client)
            w.field("client_app", c.clientApp)
            w.field("client_isn", c.clientISN)
            w.field("id", c.index + 1)
            w.field("messages_c2s", c.messagesC2S)
            w.field("messages_s2c", c.messagesS2C)
            w.field("packets", c.packets)
            w.field("payload_bytes_c2s", c.bytesC2S)
            w.field("payload_bytes_s2c", c.bytesS2C)
            w.field("protocol", "tcp")
            w.field("server", c.server)
            w.field("server_app", c.serverApp)
            w.field("server_isn", c.serverISN)
            w.endObject()
        }
        w.endArray()
        if let n = outcome.injectNote { w.field("inject_note", n) }
        if let n = outcome.injected {
            w.beginObject("injected")
            w.field("packets", n)
            w.field("via", "libnet raw IPv4 socket")
            w.endObject()
        }
        w.field("input", outcome.csv)
        w.field("messages", plan.messages.count)
        w.beginArray("packets")
        for p in plan.packets {
            try Interruption.check()
            try packet(p, explain: explain, &w)
        }
        w.endArray()
        if let path = outcome.pcap {
            w.beginObject("pcap")
            w.field("bytes", plan.totalBytes)
            w.field("link_type", "RAW")
            w.field("packets", plan.packetCount)
            w.field("path", path)
            w.endObject()
        }
        if let rt = outcome.roundTrip {
            w.beginObject("round_trip")
            w.field("capture", outcome.capturePath ?? "")
            w.field("captured", rt.captured)
            w.field("filter", rt.filter)
            w.field("interface", rt.interface)
            w.field("kernel_dropped", rt.kernelDropped)
            w.field("kernel_resets", rt.kernelResets)
            w.field("link_type", rt.linkType)
            w.field("ok", rt.ok)
            w.field("other", rt.otherPackets)
            w.beginArray("packets")
            for p in plan.packets {
                let it = rt.item(p.number - 1)
                w.beginObject()
                w.field("copies", it.copies)
                if !(it.intact || it.frame == nil) { w.field("difference", it.difference) }
                if let f = it.frame { w.field("frame", f) }
                w.field("identical", it.identical)
                w.field("intact", it.intact)
                w.field("ipv4_checksum_ok", it.ipChecksumOK)
                if let m = p.message { w.field("msg_id", plan.messages[m].id) }
                w.field("packet", p.number)
                w.field("tcp_checksum_ok", it.tcpChecksumOK)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endObject()
        return w.text
    }
}
