// Human-readable output: the compact packet table, and with --explain the field
// tables, checksum computations and hex dumps. Colour only when asked to.
import Foundation
import Netlab

struct TextRenderer: TerminalStyled {
    let plan: Plan
    let color: Bool
    var out = ""

    init(plan: Plan, color: Bool) {
        self.plan = plan
        self.color = color
    }

    func layerColor(_ layer: String) -> String {
        switch layer {
        case "IPv4": return "36"
        case "TCP": return "32"
        default: return "33"
        }
    }

    mutating func line(_ s: String = "") { out += s + "\n" }

    mutating func render(explain: Bool, quiet: Bool, outcome: Outcome) throws -> String {
        let messages = plan.messages
        let convs = plan.conversations
        line(bold("netlab injector") + ": \(outcome.csv): \(messages.count) messages -> \(plan.packetCount) packets in "
             + "\(convs.count) TCP connection\(convs.count == 1 ? "" : "s")")
        for c in convs {
            line("connection \(c.index + 1): client \(c.client) (\(c.clientApp)) <-> server \(c.server) (\(c.serverApp))"
                 + (c.appProtocol.isEmpty ? "" : ", \(c.appProtocol)")
                 + "; ISN client \(c.clientISN), server \(c.serverISN)")
        }
        line()
        if quiet {
            summary(outcome: outcome)
            if let rt = outcome.roundTrip { roundTrip(rt, packets: plan.packets, path: outcome.capturePath ?? "", table: false) }
            return out
        }
        let packets = plan.packets
        if explain {
            for p in packets {
                try Interruption.check()
                if p.message != nil {
                    try explainPacket(p)
                } else {
                    line(dim("Packet \(p.number) (\(p.kind)): ") + (try plan.explain(p.number - 1).summary))
                    line()
                }
            }
        } else {
            try table(packets)
        }
        summary(outcome: outcome)
        if let rt = outcome.roundTrip { roundTrip(rt, packets: packets, path: outcome.capturePath ?? "", table: true) }
        return out
    }

    mutating func roundTrip(_ rt: RoundTrip, packets: [Packet], path: String, table: Bool) {
        line()
        line(bold("Round trip") + ": captured on \(rt.interface) (\(rt.linkType)) with filter \"\(rt.filter)\"")
        let ours = (0..<packets.count).filter { rt.item($0).frame != nil }.count
        var parts = ["\(ours) crafted"]
        if rt.kernelResets > 0 {
            parts.append("\(rt.kernelResets) resets sent by the kernel (no socket owns the destination port, so it refuses each segment)")
        }
        if rt.otherPackets > 0 { parts.append("\(rt.otherPackets) other") }
        line("wrote \(path): \(rt.captured) packets: " + parts.joined(separator: ", ") + "; kernel drops \(rt.kernelDropped)")
        if table {
        line(bold([Fmt.padLeft("#", 4), Fmt.pad("msg", 8), Fmt.pad("kind", 11), Fmt.padLeft("frame", 6),
                   Fmt.padLeft("copies", 7), " " + Fmt.pad("bytes", 10), Fmt.pad("IPv4 cksum", 11),
                   Fmt.pad("TCP cksum", 10), "verdict"].joined(separator: " ")))
        for p in packets {
            let it = rt.item(p.number - 1)
            var msg = "-"
            if let m = p.message {
                msg = plan.messages[m].id + (p.segments > 1 ? " \(p.segment)/\(p.segments)" : "")
            }
            let verdict = it.intact ? good("intact")
                : it.frame == nil ? bad("MISSING") : bad("ALTERED: " + it.difference)
            let row = [Fmt.padLeft(String(p.number), 4), Fmt.pad(msg, 8), Fmt.pad(p.kind, 11),
                       Fmt.padLeft(it.frame.map(String.init) ?? "-", 6), Fmt.padLeft(String(it.copies), 7),
                       " " + Fmt.pad(it.frame == nil ? "-" : (it.identical ? "identical" : "differ"), 10),
                       Fmt.pad(it.frame == nil ? "-" : (it.ipChecksumOK ? "ok" : "BAD"), 11),
                       Fmt.pad(it.frame == nil ? "-" : (it.tcpChecksumOK ? "ok" : "BAD"), 10), verdict]
            line(row.joined(separator: " "))
        }
        }
        var brokenMessages = Set<Int>()
        for p in packets where p.message != nil && !rt.item(p.number - 1).intact { brokenMessages.insert(p.message!) }
        let intactCount = plan.messages.count - brokenMessages.count
        if rt.ok {
            line(good("verdict: all \(packets.count) packets (\(plan.messages.count) messages) arrived intact") +
                 ": every header field and payload byte identical to what was crafted, checksums valid")
        } else {
            line(bad("verdict: \(intactCount) of \(plan.messages.count) messages intact; packets missing or altered above"))
        }
    }

    mutating func table(_ packets: [Packet]) throws {
        let head = [Fmt.padLeft("#", 4), Fmt.pad("time", 15), "dir", Fmt.pad("flags", 9), Fmt.padLeft("seq", 6),
                    Fmt.padLeft("ack", 6), Fmt.padLeft("len", 5), Fmt.pad("msg", 7), Fmt.pad("IPv4 cksum", 11),
                    Fmt.pad("TCP cksum", 11), "payload"]
        line(bold(head.joined(separator: " ")))
        for p in packets {
            try Interruption.check()
            let flags = p.flags.replacingOccurrences(of: ", ", with: ",")
            var msg = "-"
            var payload = dim("(\(p.kind))")
            if let m = p.message {
                let message = plan.messages[m]
                msg = message.id + (p.segments > 1 ? " \(p.segment)/\(p.segments)" : "")
                let start = p.payloadOffset
                payload = "\"" + Fmt.preview(p.bytes[start..<start + p.payloadLength], limit: 40) + "\""
            }
            let ipOK = p.ipChecksumLibnet == p.ipChecksumNetlab
            let tcpOK = p.tcpChecksumLibnet == p.tcpChecksumNetlab
            let row = [Fmt.padLeft(String(p.number), 4), Fmt.pad(Fmt.clock(p.timeNs), 15), Fmt.direction(p),
                       Fmt.pad(flags, 9), Fmt.padLeft(String(p.relativeSeq), 6), Fmt.padLeft(String(p.relativeAck), 6),
                       Fmt.padLeft(String(p.payloadLength), 5), Fmt.pad(msg, 7),
                       Fmt.hex16(p.ipChecksumNetlab) + " " + (ipOK ? good("ok") : bad("!!")) + "   ",
                       Fmt.hex16(p.tcpChecksumNetlab) + " " + (tcpOK ? good("ok") : bad("!!")) + "   ",
                       payload]
            line(row.joined(separator: " "))
        }
        line()
    }

    mutating func explainPacket(_ p: Packet) throws {
        let x = try plan.explain(p.number - 1)
        let m = plan.messages[p.message!]
        let dir = p.fromClient ? "client -> server" : "server -> client"
        var title = "Packet \(p.number): message \(m.id) (line \(m.line))"
        if p.segments > 1 { title += ", segment \(p.segment) of \(p.segments)" }
        title += ", \(dir), \(p.bytes.count) bytes"
        line(bold("== " + title + " " + String(repeating: "=", count: max(3, 76 - Fmt.width(title)))))
        line(x.summary)
        line()
        for span in x.spans {
            line(style("\(span.layer) \(span.layer == "Payload" ? "" : "header ")(\(span.length) bytes)", "1;" + layerColor(span.layer)))
            if span.layer == "Payload" {
                let payload = p.bytes[span.offset..<span.offset + span.length]
                line("  \"" + Fmt.preview(payload, limit: 400) + "\"")
                line()
                continue
            }
            line(dim("  " + Fmt.pad("Field", 22) + " " + Fmt.pad("Bits", 7) + " " + Fmt.pad("Value", 20) + " Meaning"))
            for f in x.fields where f.layer == span.layer {
                let bits = "\(f.bitOffset)+\(f.bitWidth)"
                line("  " + Fmt.pad(f.name, 22) + " " + Fmt.pad(bits, 7) + " " + Fmt.pad(f.valueText, 20) + " " + f.meaning)
            }
            line()
        }
        checksum(title: "IPv4 header checksum (RFC 791, computed as in RFC 1071)", trace: x.ipChecksum,
                 libnet: p.ipChecksumLibnet, netlab: p.ipChecksumNetlab, pseudo: nil)
        checksum(title: "TCP checksum (RFC 9293 3.1: pseudo-header + header + data)", trace: x.tcpChecksum,
                 libnet: p.tcpChecksumLibnet, netlab: p.tcpChecksumNetlab, pseudo: x.pseudoHeader)
        hexdump(p.bytes, spans: x.spans)
        line()
    }

    mutating func words(_ label: String, _ ws: [ChecksumWord], fieldOffset: Int?, note: String) {
        guard !ws.isEmpty else { return }
        let perRow = 10
        var rows: [String] = []
        var row: [String] = []
        for w in ws {
            var t = Fmt.word(w.value)
            if let fo = fieldOffset, w.offset == fo { t = "[" + t + "]" } else if w.padded { t += "*" }
            row.append(t)
            if row.count == perRow { rows.append(row.joined(separator: " ")); row = [] }
        }
        if !row.isEmpty { rows.append(row.joined(separator: " ")) }
        let shown: [String]
        if rows.count > 6 {
            shown = Array(rows.prefix(3)) + [dim("… \(rows.count - 5) more rows of \(perRow) words …")] + Array(rows.suffix(2))
        } else {
            shown = rows
        }
        for (i, r) in shown.enumerated() {
            line("  " + Fmt.pad(i == 0 ? label : "", 15) + " " + r)
        }
        if !note.isEmpty { line("  " + Fmt.pad("", 15) + " " + dim(note)) }
    }

    mutating func checksum(title: String, trace t: ChecksumTrace, libnet: UInt16, netlab: UInt16, pseudo: [UInt8]?) {
        line(bold(title))
        if let pseudo, pseudo.count == 12 {
            let len = Int(pseudo[10]) << 8 | Int(pseudo[11])
            words("pseudo-header", t.words.filter { $0.part == "pseudo-header" }, fieldOffset: nil,
                  note: "source address, destination address, zero + protocol \(pseudo[9]), TCP length \(len)")
        }
        let hdr = t.words.filter { $0.part == "header" }
        words("header", hdr, fieldOffset: t.fieldOffset,
              note: "[\(Fmt.word(t.inPacket))] is the checksum field itself, counted as 0000")
        let data = t.words.filter { $0.part == "data" }
        words("data", data, fieldOffset: nil,
              note: data.contains { $0.padded } ? "\(data.count) words; * = odd last byte padded with a zero byte" : "\(data.count) words")
        line("  " + Fmt.pad("sum", 15) + " " + String(format: "0x%08x", t.sum) + dim("  (\(t.words.count) words added as 32-bit numbers)"))
        var s = t.sum
        for f in t.folds {
            line("  " + Fmt.pad("fold carry", 15) + " " + String(format: "0x%04x + 0x%04x = 0x%04x", s >> 16, s & 0xffff, f))
            s = f
        }
        line("  " + Fmt.pad("complement", 15) + " " + String(format: "~0x%04x = 0x%04x", t.folded, t.checksum))
        let inPkt = t.correct ? good("matches the packet") : bad("packet holds \(Fmt.hex16(t.inPacket))")
        let agree = libnet == netlab ? good("libnet and netlab agree (\(Fmt.hex16(libnet)))")
            : bad("libnet \(Fmt.hex16(libnet)) != netlab \(Fmt.hex16(netlab))")
        line("  " + Fmt.pad("result", 15) + " " + Fmt.hex16(t.checksum) + ": " + inPkt + "; " + agree)
        line()
    }

    mutating func hexdump(_ bytes: [UInt8], spans: [Span]) {
        let legend = spans.map { style("\($0.layer) \($0.offset)-\($0.offset + $0.length - 1)", layerColor($0.layer)) }
        line(bold("Hex dump") + " (\(bytes.count) bytes: " + legend.joined(separator: ", ") + "; | marks a layer boundary)")
        func layer(at i: Int) -> Span? { spans.first { i >= $0.offset && i < $0.offset + $0.length } }
        var i = 0
        while i < bytes.count {
            var hex = ""
            var ascii = ""
            for j in i..<min(i + 16, bytes.count) {
                let sep = j == i ? "" : (spans.contains { $0.offset == j } ? "|" : " ")
                let h = String(format: "%02x", bytes[j])
                let c = (0x20..<0x7f).contains(bytes[j]) ? String(UnicodeScalar(bytes[j])) : "."
                let l = layer(at: j)?.layer ?? ""
                hex += sep + style(h, layerColor(l))
                ascii += style(c, layerColor(l))
            }
            let shown = min(16, bytes.count - i)
            let padding = String(repeating: "   ", count: 16 - shown)
            line("  " + String(format: "%04x", i) + "  " + hex + padding + "  " + ascii)
            i += 16
        }
    }

    mutating func summary(outcome: Outcome) {
        // Plan construction fails on any disagreement, so every packet here agrees.
        let n = plan.packetCount
        line("checksums: libnet and netlab agree on all \(n * 2) (\(n) IPv4, \(n) TCP)")
        if let pcap = outcome.pcap, pcap == "-" {
            line("wrote the pcap to standard output: \(plan.packetCount) packets, \(Fmt.grouped(plan.totalBytes)) bytes of IP")
        } else if let pcap = outcome.pcap {
            line("wrote \(pcap): \(plan.packetCount) packets, \(Fmt.grouped(plan.totalBytes)) bytes of IP "
                 + dim("(open it in Wireshark, or: tshark -r \(pcap))"))
        }
        if let n = outcome.injected {
            let dests = Array(Set(outcome.destination.map { String($0.split(separator: ":")[0]) })).sorted()
            line("injected \(n) packets toward \(dests.joined(separator: ", ")) through libnet's raw IPv4 socket")
        } else if let note = outcome.injectNote {
            line(note)
        }
    }
}
