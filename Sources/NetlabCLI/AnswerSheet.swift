// The report's answer sheet (one table per capture, from libnetlab's nl_answers)
// and the encapsulation explained on a real data packet of the user's capture
// (header diagrams, both checksums from that packet's bytes, its hex dump).
// Rendering only: which packet is the greeting, which reply answers which
// request, the byte counts and checksum verdicts all come from C.
import Foundation
import Netlab

extension ReportWriter {
    /// "packet 9" / "packets 9, 10 (tied)".
    static func packets(_ ps: [UInt64], count: Int) -> String {
        let list = ps.prefix(30).map(String.init).joined(separator: ", ") + (ps.count > 30 ? ", …" : "")
        if count <= 1 { return "packet \(list)" }
        return "packets \(list)" + (count > ps.count ? " … (\(count) tied)" : " (\(count) tied)")
    }

    /// Conversations answered one by one on the sheet; past them the sheet says how many more.
    static let listedConversations = 12

    /// Lines the user sent (--input) or the CSV's messages (--csv): what to look for in the requests.
    func userLines() -> [String] {
        if let input, let text = try? String(contentsOfFile: input, encoding: .utf8) {
            return LabFiles.splitLines(text).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        if let csv, let ms = try? MessageSet(path: csv) {
            return LabFiles.lines(of: ms).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        return []
    }

    /// The exchange to show as "a client message and its reply": the first whose request holds one of the
    /// user's lines, else the first answered one.
    func chosenExchange(_ a: CaptureAnswers, lines: [String]) -> (ConversationAnswers, Exchange)? {
        for c in a.conversations {
            for x in c.exchanges where lines.contains(where: { x.request.text.contains($0) }) { return (c, x) }
        }
        // A chat message (MSG) says more than registering; elsewhere the first request answered.
        for c in a.conversations where c.chat {
            if let x = c.exchanges.first(where: { $0.request.text.hasPrefix("MSG ") }) { return (c, x) }
        }
        for c in a.conversations {
            if let x = c.exchanges.first(where: { $0.replyPacket != 0 }) { return (c, x) }
        }
        for c in a.conversations { if let x = c.exchanges.first { return (c, x) } }
        return nil
    }

    /// Each capture's answers as (key, question, answer) rows, keys as a questions file names them
    /// (NL_REPORT_QUESTION_KEYS). The answers are nl_answers'; this only words them.
    func answerSheets(_ loaded: [LoadedCapture]) -> [[SheetRow]] {
        let names = interfaceNames()
        let lines = userLines()
        return loaded.map { lc in
            let a = lc.report.answers
            let cs = a.conversations
            let many = cs.count > 1
            func per(_ c: ConversationAnswers, _ s: String) -> String { many ? "conversation \(c.conversation): \(s)" : s }
            func userOf(_ c: ConversationAnswers) -> String { c.user.map { " (\(safeLine($0, limit: 64)))" } ?? "" }
            /// One line per conversation, the first `Self.listedConversations` of them (the section's table has all).
            func each(_ sep: String, _ word: (ConversationAnswers) -> String) -> String {
                let shown = cs.prefix(Self.listedConversations).map(word)
                let more = cs.count - shown.count
                return (shown + (more > 0 ? ["… and \(more) more conversations (listed in \(lc.cap.name)'s section)"] : []))
                    .joined(separator: sep)
            }
            var rows = [SheetRow(key: "capture", question: "capture",
                                 answer: "\(a.packets) packets, \(a.conversationsTotal) TCP conversation\(a.conversationsTotal == 1 ? "" : "s")")]
            if let why = a.cannot { rows.append(SheetRow(key: "cannot", question: "what cannot be answered", answer: why)) }
            guard !cs.isEmpty else {
                rows.append(SheetRow(key: "transport", question: "transport protocol", answer: "no TCP conversation in this capture"))
                return rows
            }
            let cannot = cs.filter { $0.cannot != nil }
            if !cannot.isEmpty {
                rows.append(SheetRow(key: "cannot", question: "what cannot be answered",
                                     answer: cannot.prefix(Self.listedConversations).map { per($0, $0.cannot!) }.joined(separator: "\n")))
            }
            let v6 = cs[0].server.hasPrefix("[")
            rows.append(SheetRow(key: "transport", question: "transport protocol",
                                 answer: "TCP (the \(v6 ? "IPv6 header's next header" : "IPv4 header's protocol") field is 6)"))
            rows.append(SheetRow(key: "server", question: "server (IP:port)",
                                 answer: Array(Set(cs.map(\.server))).sorted().joined(separator: ", ") + " (the side that received the SYN)"))
            rows.append(SheetRow(key: "server-port", question: "server port",
                                 answer: Array(Set(cs.map(\.serverPort))).sorted().map(String.init).joined(separator: ", ")))
            rows.append(SheetRow(key: "client-port", question: "client ephemeral port",
                                 answer: each(", ") { "\($0.clientPort)\(userOf($0))" }))
            var ifs: [String] = []
            for c in cs { for i in c.interfaces where !ifs.contains(i.label(names: names)) { ifs.append(i.label(names: names)) } }
            rows.append(SheetRow(key: "interface", question: "interface", answer: ifs.joined(separator: ", ")))
            rows.append(SheetRow(key: "greeting", question: "greeting (the server's first payload)", answer: each("\n") { per($0, $0.greetingSentence) }))
            if let (c, x) = chosenExchange(a, lines: lines) {
                rows.append(SheetRow(key: "message", question: "a client message and the field that holds it",
                                     answer: per(c, "\(x.requestPlace): \"\(x.request.visible())\", \(x.requestBytes) bytes in the TCP payload (field tcp.payload)")))
                rows.append(SheetRow(key: "field", question: "the field that holds the message",
                                     answer: "\(x.field.isEmpty ? "tcp.payload" : x.field): the TCP segment's data, after the TCP header"))
                rows.append(SheetRow(key: "reply", question: x.replyPacket == 0 ? "the reply" : c.chat ? "the server's reply" : "the matching echo reply",
                                     answer: per(c, x.replySentence)))
            }
            rows.append(SheetRow(key: "bytes-c2s", question: "bytes client → server", answer: each("\n") { c in
                per(c, "\(c.payloadC2S) bytes of payload; \(c.frameBytesC2S) bytes in \(c.framesC2S) frames")
            }))
            rows.append(SheetRow(key: "bytes-s2c", question: "bytes server → client", answer: each("\n") { c in
                per(c, "\(c.payloadS2C) bytes of payload; \(c.frameBytesS2C) bytes in \(c.framesS2C) frames")
            }))
            rows.append(SheetRow(key: "largest", question: "largest payload",
                                 answer: "\(a.largestBytes) bytes: " + Self.packets(a.largestPackets, count: a.largestCount)))
            if !a.users.isEmpty {
                rows.append(SheetRow(key: "users", question: "chat users",
                                     answer: a.users.map { "\(safeLine($0.name, limit: 64)): client port \($0.clientPort)" }.joined(separator: "\n")))
            }
            return rows
        }
    }

    /// Page 1 of a hand-in: the assignment's questions by its own numbers, each answered from every
    /// capture (part 1 and part 2 side by side).
    mutating func questionPage(_ q: QuestionSheet, _ sheets: [[SheetRow]], _ loaded: [LoadedCapture]) {
        heading(2, "Answers", cls: "first")
        let cols = Array(loaded.indices.prefix(3))
        var section: String?
        var rows: [[String]] = []
        let header = ["#", "question"] + cols.map { "\(loaded[$0].cap.title) (\(loaded[$0].cap.name))" }
        func flush() {
            if let section, !section.isEmpty { heading(3, section) }
            if !rows.isEmpty { table(header, rows, cls: "answers") }
            rows = []
        }
        for item in q.questions {
            if item.section != section {
                flush()
                section = item.section
            }
            let keys = item.key.split(separator: ",").map(String.init)
            rows.append([item.number, item.text.isEmpty ? item.key : item.text] + cols.map { k in
                let answers = keys.compactMap { key in sheets[k].first { $0.key == key } }
                if answers.isEmpty { return "not in this capture" }
                return answers.count == 1 ? answers[0].answer : answers.map { "\($0.question): \($0.answer)" }.joined(separator: "\n")
            })
        }
        flush()
    }

    mutating func answerSheet(_ sheets: [[SheetRow]], _ loaded: [LoadedCapture], first: Bool) {
        heading(2, "Answer sheet", cls: first ? "first" : nil)
        para("Every answer below is read from the capture itself; packet numbers are Wireshark's frame numbers. "
            + "The greeting is the server's first payload, sent before the client said anything (none when the client "
            + "speaks first). Bytes are counted twice: the TCP payload (tcp.len of each new segment) and whole frames, as "
            + "Wireshark's Statistics > Conversations counts them.")
        for (lc, rows) in zip(loaded, sheets) {
            heading(3, lc.cap.title, code: lc.cap.name)
            table(["question", "answer"], rows.filter { $0.key != "field" }.map { [$0.question, $0.answer] })
        }
    }

    /// The encapsulation of one real packet of the user's capture: the first request holding one of the
    /// user's lines, else the first greeting, else the first request.
    mutating func capturedEncapsulation(_ loaded: [LoadedCapture]) throws {
        let done = loaded.map { ($0.cap, $0.report.answers) }
        let lines = userLines()
        var pick: (ReportCapture, CaptureAnswers, UInt64, String)?
        for (cap, a) in done where pick == nil {
            for c in a.conversations where pick == nil {
                if let x = c.exchanges.first(where: { x in lines.contains { x.request.text.contains($0) } }) {
                    pick = (cap, a, x.requestPacket, "the first packet carrying one of your messages")
                }
            }
        }
        for (cap, a) in done where pick == nil {
            if let g = a.conversations.compactMap(\.greeting).first {
                pick = (cap, a, g.packet, "the server's greeting")
            }
        }
        for (cap, a) in done where pick == nil {
            if let x = a.conversations.compactMap(\.exchanges.first).first {
                pick = (cap, a, x.requestPacket, "the first client message")
            }
        }
        heading(2, "Encapsulation, byte by byte")
        guard let (cap, a, number, why) = pick else {
            para("No captured packet carries TCP payload, so there is no data packet to take apart.")
            return
        }
        let p = try a.packet(number)
        guard p.ipVersion == 4 else {
            para("Packet \(number) of \(cap.name) travels over IPv\(p.ipVersion); the byte-by-byte explanation covers IPv4.")
            return
        }
        let x = try p.explain()
        let linkBytes = p.l3Offset
        let intro = "Packet \(number) of \(cap.name) (\(why)), as captured: a \(p.wireLength)-byte frame whose first "
            + "\(linkBytes) bytes are the \(linkTypeName(p.linkType)) link-layer header (\(linkTypeDescription(p.linkType))); "
            + "inside it an IPv4 packet, inside that a TCP segment, inside that the application's bytes. "
            + "Every value below is read from this packet's bytes, and both checksums are worked out from them."
        para(intro)
        pre([x.summary])
        picture(SVG.nesting(spans: x.spans, total: p.ipBytes.count), name: "packet\(number)-layers.svg",
                alt: "packet \(number): the payload inside TCP inside IPv4")
        picture(SVG.headerDiagram(layer: "IPv4", fields: x.fields, title: "IPv4 header (RFC 791), 32 bits per row"),
                name: "packet\(number)-ipv4.svg", alt: "IPv4 header of packet \(number) with its values")
        picture(SVG.headerDiagram(layer: "TCP", fields: x.fields, title: "TCP header (RFC 9293), 32 bits per row"),
                name: "packet\(number)-tcp.svg", alt: "TCP header of packet \(number) with its values")
        heading(3, "Every field")
        table(["layer", "field", "bits", "value", "meaning"],
              x.fields.map { [$0.layer, $0.name, "\($0.bitOffset)+\($0.bitWidth)", $0.valueText, $0.meaning] })
        capturedChecksum("IPv4 header checksum", x.ipChecksum, verdict: p.checksumIP, offload: 0)
        capturedChecksum("TCP checksum (pseudo-header + header + data)", x.tcpChecksum, verdict: p.checksumTCP,
                         offload: p.offloadTCP)
        if linkBytes > 0 {
            let lh = p.frame.prefix(linkBytes).map { String(format: "%02x", $0) }.joined(separator: " ")
            pre(["Link-layer header (\(linkBytes) bytes, before the IPv4 header): \(lh)"])
        }
        hexdump(p.ipBytes, spans: x.spans)
    }

    /// A checksum worked out from a captured packet, with what the packet holds and why.
    mutating func capturedChecksum(_ title: String, _ t: ChecksumTrace, verdict: Int, offload: Int) {
        heading(3, title)
        var lines: [String] = []
        for part in ["pseudo-header", "header", "data"] {
            let ws = t.words.filter { $0.part == part }
            guard !ws.isEmpty else { continue }
            let cells = ws.map { w in w.part == "header" && w.offset == t.fieldOffset ? "[0000]" : String(format: "%04x", w.value) }
            var k = 0
            while k < cells.count {
                let lead = k == 0 ? Fmt.pad(part, 14) : Fmt.pad("", 14)
                lines.append(lead + cells[k..<min(k + 12, cells.count)].joined(separator: " "))
                k += 12
            }
        }
        lines.append(String(format: "sum           0x%08x  (%d 16-bit words; the checksum field counts as 0000)", t.sum, t.words.count))
        var s = t.sum
        for f in t.folds {
            lines.append(String(format: "fold carry    0x%04x + 0x%04x = 0x%04x", s >> 16, s & 0xffff, f))
            s = f
        }
        lines.append(String(format: "complement    ~0x%04x = 0x%04x", t.folded, t.checksum))
        let said: String
        switch verdict {
        case 1: said = String(format: "in the packet 0x%04x: equal, the checksum is correct", t.inPacket)
        case 3:
            var ps: UInt32 = t.words.filter { $0.part == "pseudo-header" }.reduce(0) { $0 + UInt32($1.value) }
            while ps > 0xffff { ps = (ps & 0xffff) + (ps >> 16) }
            let what = offload == 1
                ? String(format: "the field holds only the pseudo-header's sum (0x%04x)", ps)
                : "the field is zero"
            said = String(format: "in the packet 0x%04x: checksum offload. The sending kernel left the checksum to be "
                          + "finished by the network card, so %@; a card would write 0x%04x, the value computed above "
                          + "(over loopback or a veth pair no card does, and the receiving kernel does not check it). "
                          + "Nothing is wrong with the packet.", t.inPacket, what, t.checksum)
        case 2: said = String(format: "in the packet 0x%04x: WRONG (it should be 0x%04x)", t.inPacket, t.checksum)
        default: said = String(format: "in the packet 0x%04x (not every byte it covers was captured)", t.inPacket)
        }
        lines.append(said)
        pre(lines)
    }
}

/// One answer of the answer sheet; key as a questions file names it (NL_REPORT_QUESTION_KEYS).
struct SheetRow {
    let key: String
    let question: String
    let answer: String
}

/// One capture of the report: its file, and how the answer sheet titles it.
struct ReportCapture {
    let path: String
    let title: String
    let about: String
    /// 1, 2, ...: names its pictures (c1-conv3-flow.svg), never the file's own name.
    let index: Int
    var name: String { URL(fileURLWithPath: path).lastPathComponent }
}
