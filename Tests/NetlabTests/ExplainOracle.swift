// tshark as the oracle for what netlab teaches about a packet: every field's value and
// meaning sentence (nl_explain.c, printed by `injector --explain` and by the report's
// "Every field" table) against tshark's reading of the same field of the same frame.
// Each sentence must match one of the forms below, and what it claims (numbers, the
// state it names) must be what tshark reads; a sentence no form covers is a problem too,
// so a new wording comes with its check.
import Foundation
import XCTest

enum ExplainOracle {
    /// tshark's fields for one frame, by field name ("" when tshark shows none).
    struct Frame {
        let v: [String: String]
        subscript(_ k: String) -> String { v[k] ?? "" }
        func int(_ k: String) -> Int? { Self.number(self[k]) }
        static func number(_ s: String) -> Int? {
            if s.hasPrefix("0x") { return Int(s.dropFirst(2), radix: 16) }
            if s == "True" { return 1 }
            if s == "False" { return 0 }
            return Int(s)
        }
    }

    static let names = [
        "frame.number", "frame.len", "frame.cap_len", "sll.pkttype", "sll.hatype", "tcp.stream",
        "ip.version", "ip.hdr_len", "ip.dsfield.dscp", "ip.dsfield.ecn", "ip.len", "ip.id", "ip.flags.rb",
        "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "ip.ttl", "ip.proto", "ip.checksum", "ip.checksum.status",
        "ip.checksum_calculated", "ip.src", "ip.dst", "ip.opt.type",
        "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.seq_raw", "tcp.ack", "tcp.ack_raw", "tcp.hdr_len",
        "tcp.flags.res", "tcp.flags.ae", "tcp.flags.cwr", "tcp.flags.ece", "tcp.flags.urg", "tcp.flags.ack",
        "tcp.flags.push", "tcp.flags.reset", "tcp.flags.syn", "tcp.flags.fin", "tcp.window_size_value",
        "tcp.window_size", "tcp.window_size_scalefactor", "tcp.checksum", "tcp.checksum.status",
        "tcp.checksum_calculated", "tcp.urgent_pointer", "tcp.options.mss_val", "tcp.options.wscale.shift",
        "tcp.options.sack_perm", "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "tcp.len",
    ]

    /// Every frame of the capture as tshark reads it, with checksum validation on.
    static func read(_ pcap: String) throws -> [Int: Frame] {
        let rows = try TestSupport.tsharkFields(pcap, names)
        var out: [Int: Frame] = [:]
        for r in rows {
            var v: [String: String] = [:]
            for (k, n) in names.enumerated() where k < r.count { v[n] = r[k] }
            if let n = Int(v["frame.number"] ?? "") { out[n] = Frame(v: v) }
        }
        return out
    }

    /// The full-string match of pattern in s: its groups, or nil.
    static func match(_ pattern: String, _ s: String) -> [String]? {
        guard let re = try? NSRegularExpression(pattern: "^" + pattern + "$", options: [.dotMatchesLineSeparators]),
              let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return nil }
        return (1..<m.numberOfRanges).map { k in
            m.range(at: k).location == NSNotFound ? "" : String(s[Range(m.range(at: k), in: s)!])
        }
    }

    static func grouped(_ s: String) -> Int? { Int(s.replacingOccurrences(of: ",", with: "")) }
    static func hex(_ s: String) -> Int? { Frame.number(s.hasPrefix("0x") ? s : "0x" + s) }

    /// The folded pseudo-header sum (RFC 9293 3.1) from tshark's addresses and lengths: what a
    /// sending stack that leaves the checksum to its card writes into the field.
    static func pseudoSum(_ f: Frame) -> Int? {
        let a = f["ip.src"].split(separator: ".").compactMap { Int($0) }
        let b = f["ip.dst"].split(separator: ".").compactMap { Int($0) }
        guard a.count == 4, b.count == 4, let len = f.int("ip.len"), let hl = f.int("ip.hdr_len") else { return nil }
        var s = (a[0] << 8 | a[1]) + (a[2] << 8 | a[3]) + (b[0] << 8 | b[1]) + (b[2] << 8 | b[3]) + 6 + (len - hl)
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return s
    }

    static let dscpNames: [Int: String] = [
        0: "default forwarding (best effort, CS0)", 8: "CS1 (low-priority data)", 16: "CS2 (OAM)",
        24: "CS3 (broadcast video)", 32: "CS4 (real-time interactive)", 40: "CS5 (signalling)",
        46: "EF (expedited forwarding: voice)", 48: "CS6 (network control)", 56: "CS7 (reserved)",
    ]
    static let ecnNames = ["Not-ECT: the sender does not use ECN", "ECT(1): ECN-capable transport",
                           "ECT(0): ECN-capable transport", "CE: congestion experienced on the path"]
    /// The TCP flag fields: tshark's name, the sentence when set, when clear.
    static let flags: [String: (String, String, String)] = [
        "CWR": ("tcp.flags.cwr", "congestion window reduced (ECN)", "no ECN congestion response"),
        "ECE": ("tcp.flags.ece", "ECN echo", "no ECN echo"),
        "URG": ("tcp.flags.urg", "urgent pointer is significant", "no urgent data"),
        "ACK": ("tcp.flags.ack", "acknowledgment number is valid (set on every segment after the first SYN)",
                "acknowledgment number not valid"),
        "PSH": ("tcp.flags.push", "push: deliver to the application now (end of a write)", "no push"),
        "RST": ("tcp.flags.reset", "reset: abort the connection", "no reset"),
        "SYN": ("tcp.flags.syn", "synchronize sequence numbers: opens a connection", "not a connection opener"),
        "FIN": ("tcp.flags.fin", "finished: the sender will send no more data", "sender not finished"),
    ]

    /// What is wrong with one explained field of frame `n` (name, value as printed, meaning), compared
    /// with tshark's reading; empty when it all agrees.
    static func check(name: String, text: String, meaning: String, frame n: Int, in all: [Int: Frame]) -> [String] {
        guard let f = all[n] else { return ["frame \(n): tshark has no such frame"] }
        var bad: [String] = []
        func want(_ ok: Bool, _ what: String) { if !ok { bad.append("frame \(n) \(name): \(what) [meaning: \(meaning)] [value: \(text)]") } }
        func eq(_ mine: Int?, _ field: String, _ what: String) {
            want(mine != nil && mine == f.int(field), "\(what) \(mine.map(String.init) ?? "?") but tshark's \(field) is '\(f[field])'")
        }
        func m(_ p: String) -> [String]? { match(p, meaning) }
        func none() { bad.append("frame \(n) \(name): no check covers this sentence: '\(meaning)'") }
        let textInt = Int(text)
        switch name {
        case "Version":
            eq(textInt, "ip.version", "value")
            if let g = m(#"(\d+) = IPv4"#) { eq(Int(g[0]), "ip.version", "says") } else { none() }
        case "IHL":
            eq(textInt.map { $0 * 4 }, "ip.hdr_len", "value x 4")
            if let g = m(#"header length: (\d+) 32-bit words = (\d+) bytes(, no options| including options)"#) {
                eq(Int(g[1]), "ip.hdr_len", "bytes")
                want(Int(g[0]).map { $0 * 4 } == Int(g[1]), "words x 4 != bytes")
                want((g[2] == ", no options") == (f.int("ip.hdr_len") == 20), "options claim")
            } else { none() }
        case "DSCP":
            eq(textInt, "ip.dsfield.dscp", "value")
            if let g = m(#"differentiated services code point: (.*)"#), let d = f.int("ip.dsfield.dscp") {
                let af = [10, 12, 14, 18, 20, 22, 26, 28, 30, 34, 36, 38].contains(d)
                    ? "AF\(d / 8)x (assured forwarding class \(d / 8))" : nil
                want(g[0] == (dscpNames[d] ?? af ?? "a local code point"), "code point \(d) named '\(g[0])'")
            } else { none() }
        case "ECN":
            eq(textInt, "ip.dsfield.ecn", "value")
            if let g = m(#"explicit congestion notification: (.*)"#), let e = f.int("ip.dsfield.ecn"), e < 4 {
                want(g[0] == ecnNames[e], "ECN \(e) named '\(g[0])'")
            } else { none() }
        case "Total Length":
            eq(textInt, "ip.len", "value")
            if let g = m(#"whole packet in bytes: (\d+) header \+ (\d+) TCP segment"#) {
                eq(Int(g[0]), "ip.hdr_len", "header")
                want((Int(g[0]) ?? 0) + (Int(g[1]) ?? 0) == f.int("ip.len"), "header + segment != ip.len \(f["ip.len"])")
            } else { none() }
        case "Identification":
            if let g = match(#"0x([0-9a-f]{4}) \((\d+)\)"#, text) {
                eq(hex(g[0]), "ip.id", "value"); eq(Int(g[1]), "ip.id", "value")
            } else { want(false, "value not as 0xNNNN (N)") }
            if m(#"labels the packet so that its fragments can be reassembled \(RFC 791\); DF is set, so it is never fragmented and the value matters to no receiver \(RFC 6864\)"#) != nil {
                want(f.int("ip.flags.df") == 1, "says DF is set")
            } else if m(#"labels the packet so that its fragments can be reassembled \(RFC 791\): fragments of one packet share it"#) != nil {
                want(f.int("ip.flags.df") == 0, "says DF is clear")
            } else { none() }
        case "Reserved flag":
            eq(textInt, "ip.flags.rb", "value")
            if m("must be 0") == nil { none() }
        case "DF":
            eq(textInt, "ip.flags.df", "value")
            if m(#"Don't Fragment: routers must drop rather than fragment it \(path MTU discovery\)"#) != nil {
                want(f.int("ip.flags.df") == 1, "says DF")
            } else if m("may be fragmented by routers") != nil { want(f.int("ip.flags.df") == 0, "says no DF") } else { none() }
        case "MF":
            eq(textInt, "ip.flags.mf", "value")
            if m("More Fragments follow") != nil { want(f.int("ip.flags.mf") == 1, "says MF") }
            else if m(#"last \(here: only\) fragment"#) != nil {
                want(f.int("ip.flags.mf") == 0 && f.int("ip.frag_offset") == 0, "says the only fragment")
            } else { none() }
        case "Fragment Offset":
            eq(textInt, "ip.frag_offset", "value")
            if let g = m(#"position of this fragment in 8-byte units: (\d+) = byte (\d+)( \(the start\))?"#) {
                eq(Int(g[0]), "ip.frag_offset", "units")
                want(Int(g[0]).map { $0 * 8 } == Int(g[1]), "units x 8 != bytes")
                want((g[2] != "") == (f.int("ip.frag_offset") == 0), "'the start'")
            } else { none() }
        case "TTL":
            eq(textInt, "ip.ttl", "value")
            if let g = m(#"time to live: each router subtracts 1 and discards the packet at 0 \((\d+) hops left\)"#) {
                eq(Int(g[0]), "ip.ttl", "hops left")
            } else { none() }
        case "Protocol":
            eq(textInt, "ip.proto", "value")
            if let g = m(#"(\d+) = TCP, the header that follows"#) { eq(Int(g[0]), "ip.proto", "says") } else { none() }
        case "Header Checksum":
            eq(hex(text), "ip.checksum", "value")
            if m(#"correct: one's complement of the one's complement sum of the header's 16-bit words \(RFC 1071\)"#) != nil {
                want(f.int("ip.checksum.status") == 1, "says correct, tshark's status is '\(f["ip.checksum.status"])'")
            } else if let g = m(#"WRONG: the header's words give 0x([0-9a-f]{4})"#) {
                want(f.int("ip.checksum.status") == 0, "says wrong, tshark's status is '\(f["ip.checksum.status"])'")
                eq(hex(g[0]), "ip.checksum_calculated", "computed")
            } else { none() }
        case "Source Address", "Destination Address":
            let field = name == "Source Address" ? "ip.src" : "ip.dst"
            want(text == f[field], "value \(text), tshark's \(field) \(f[field])")
            let who = name == "Source Address" ? "sender" : "receiver"
            if let g = m(who + #"( \(loopback, 127\.0\.0\.0/8\))?"#) {
                want((g[0] != "") == f[field].hasPrefix("127."), "loopback claim")
            } else { none() }
        case "Options" where text.hasSuffix("bytes") && meaning.hasPrefix("IP options"):
            want(Int(text.dropLast(6)) == (f.int("ip.hdr_len") ?? 0) - 20, "IP options length")
            if let g = m(#"IP options \(first type (\d+)\)"#) { eq(Int(g[0]), "ip.opt.type", "first type") } else { none() }
        case "Source Port", "Destination Port":
            let field = name == "Source Port" ? "tcp.srcport" : "tcp.dstport"
            eq(textInt, field, "value")
            let who = name == "Source Port" ? "sending" : "receiving"
            if let g = m(who + " application's port, (.*)"), let p = f.int(field) {
                let kind: String
                switch p {
                case ..<1024: kind = "a well-known port (a server's service)"
                case 32768...60999: kind = "in Linux's ephemeral range 32768-60999, where its stack picks a client's port"
                case 49152...: kind = "in the IANA dynamic range 49152-65535 (typically a client's ephemeral port)"
                default: kind = "a registered port (1024-49151), often an application server"
                }
                want(g[0] == kind, "port \(p) called '\(g[0])'")
            } else { none() }
        case "Sequence Number":
            eq(textInt, "tcp.seq_raw", "value")
            if m("initial sequence number \\(ISN\\) chosen by the sender; the SYN itself uses one number") != nil {
                want(f.int("tcp.flags.syn") == 1 && f.int("tcp.seq") == 0, "an ISN on a segment tshark numbers \(f["tcp.seq"]) (SYN \(f["tcp.flags.syn"]))")
            } else if let g = m(#"relative (\d+): position of the first data byte in the sender's stream \(ISN \+ (\d+)\)"#) {
                eq(Int(g[0]), "tcp.seq", "relative"); eq(Int(g[1]), "tcp.seq", "ISN +")
            } else if m("position of this segment's first data byte in the sender's byte stream") == nil { none() }
        case "Acknowledgment Number":
            eq(textInt, "tcp.ack_raw", "value")
            if m("not meaningful: the ACK flag is clear") != nil { want(f.int("tcp.flags.ack") == 0, "ACK is set") }
            else if let g = m(#"relative (\d+): the next byte expected from the other side \(everything before it arrived\)"#) {
                want(f.int("tcp.flags.ack") == 1, "ACK is clear"); eq(Int(g[0]), "tcp.ack", "relative")
            } else if m("the next sequence number expected from the other side") != nil {
                want(f.int("tcp.flags.ack") == 1, "ACK is clear")
            } else { none() }
        case "Data Offset":
            eq(textInt.map { $0 * 4 }, "tcp.hdr_len", "value x 4")
            if let g = m(#"header length: (\d+) 32-bit words = (\d+) bytes(, no options| including options)"#) {
                eq(Int(g[1]), "tcp.hdr_len", "bytes")
                want(Int(g[0]).map { $0 * 4 } == Int(g[1]), "words x 4 != bytes")
                want((g[2] == ", no options") == (f.int("tcp.hdr_len") == 20), "options claim")
            } else { none() }
        case "Reserved":
            want(textInt == ((f.int("tcp.flags.res") ?? -9) << 1 | (f.int("tcp.flags.ae") ?? 0)),
                 "value \(text), tshark's reserved bits \(f["tcp.flags.res"]) and AE \(f["tcp.flags.ae"])")
            if m("must be 0") == nil { none() }
        case let k where flags[k] != nil:
            let (field, on, off) = flags[k]!
            eq(textInt, field, "value")
            if meaning == on { want(f.int(field) == 1, "says set") } else if meaning == off { want(f.int(field) == 0, "says clear") } else { none() }
        case "Window":
            eq(textInt, "tcp.window_size_value", "value")
            let scale = f.int("tcp.window_size_scalefactor")
            if let g = m(#"the sender can receive ([\d,]+) bytes before the other side must wait; a SYN's window is never scaled \(RFC 7323 2\.2\)"#) {
                want(f.int("tcp.flags.syn") == 1, "a SYN's rule on a segment without SYN")
                eq(grouped(g[0]), "tcp.window_size", "bytes")
            } else if let g = m(#"the sender can receive (\d+) x 2\^(\d+) = ([\d,]+) bytes before the other side must wait: window scale (\d+) from its SYN's option \(packet (\d+)\)(; the other side's SYN is not in the capture)?"#) {
                eq(Int(g[0]), "tcp.window_size_value", "window")
                want(Int(g[1]).map { 1 << $0 } == scale, "2^\(g[1]) but tshark's scale factor is \(scale.map(String.init) ?? "none")")
                eq(grouped(g[2]), "tcp.window_size", "bytes")
                want(g[1] == g[3], "two shifts")
                if let p = Int(g[4]), let s = all[p] {
                    want(p < n && s.int("tcp.flags.syn") == 1 && s["tcp.stream"] == f["tcp.stream"]
                         && s["tcp.srcport"] == f["tcp.srcport"] && s["tcp.options.wscale.shift"] == g[1],
                         "packet \(p) is not this sender's SYN with window scale \(g[1])")
                } else { want(false, "packet \(g[4]) is not in the capture") }
                let peerSYN = all.values.contains { $0.int("frame.number")! < n && $0["tcp.stream"] == f["tcp.stream"]
                    && $0.int("tcp.flags.syn") == 1 && $0["tcp.srcport"] == f["tcp.dstport"] }
                want((g[5] != "") == !peerSYN, "the other side's SYN \(peerSYN ? "is" : "is not") in the capture")
            } else if let g = m(#"the sender can receive ([\d,]+) bytes before the other side must wait: not scaled, the SYN in packet (\d+) carried no window scale option \(both must, RFC 7323 2\.2\)"#) {
                want(scale == -2, "not scaled, tshark's scale factor is \(scale.map(String.init) ?? "none")")
                eq(grouped(g[0]), "tcp.window_size", "bytes")
                if let p = Int(g[1]), let s = all[p] {
                    want(p < n && s.int("tcp.flags.syn") == 1 && s["tcp.stream"] == f["tcp.stream"]
                         && s["tcp.options.wscale.shift"] == "", "packet \(p) is not a SYN of this connection without the option")
                } else { want(false, "packet \(g[1]) is not in the capture") }
            } else if let g = m(#"(\d+) before scaling: the connection's SYNs are not in the capture, so the window scale is unknown \(Wireshark: -1\); the sender can receive (\d+) x 2\^scale bytes, from ([\d,]+) to ([\d,]+)"#) {
                want(scale == -1, "unknown, tshark's scale factor is \(scale.map(String.init) ?? "none")")
                eq(Int(g[0]), "tcp.window_size_value", "window"); eq(Int(g[1]), "tcp.window_size_value", "window")
                eq(grouped(g[2]), "tcp.window_size_value", "from")
                want(grouped(g[3]) == (f.int("tcp.window_size_value") ?? 0) << 14, "to is not window x 2^14")
            } else if let g = m(#"the sender can receive ([\d,]+) (?:more )?bytes before the other side must wait"#) {
                // A count of bytes with no word on the scale: it must be the window as tshark calculates it.
                eq(grouped(g[0]), "tcp.window_size", "bytes")
            } else { none() }
        case "Checksum":
            eq(hex(text), "tcp.checksum", "value")
            let status = f.int("tcp.checksum.status")
            if let g = m(#"correct: covers the pseudo-header, the TCP header and the (\d+) data bytes \(RFC 9293 3\.1\)"#) {
                want(status == 1, "says correct, tshark's status is \(f["tcp.checksum.status"])")
                eq(Int(g[0]), "tcp.len", "data bytes")
            } else if let g = m(#"not filled in \(checksum offload\): the sending host left it to its network card, so the field (holds only the pseudo-header's sum|is 0); the card would write 0x([0-9a-f]{4})\. Not an error in the packet"#) {
                want(status == 0, "offload, but tshark finds the checksum \(status == 1 ? "correct" : "unverified")")
                eq(hex(g[1]), "tcp.checksum_calculated", "the card's value")
                if g[0] == "is 0" {
                    want(f.int("tcp.checksum") == 0, "says 0")
                    // Zero is offload only where the frame shows the sending side: outgoing or loopback.
                    want(f.int("sll.pkttype") == 4 || f.int("sll.hatype") == 772,
                         "a zero checksum on a frame the sender did not send (pkttype \(f["sll.pkttype"]), hatype \(f["sll.hatype"]))")
                } else {
                    want(f.int("tcp.checksum") == pseudoSum(f), "the field \(f["tcp.checksum"]) is not the pseudo-header's sum \(pseudoSum(f).map { String(format: "0x%04x", $0) } ?? "?")")
                }
            } else if let g = m(#"WRONG: pseudo-header, header and data give 0x([0-9a-f]{4})"#) {
                want(status == 0, "says wrong, tshark's status is \(f["tcp.checksum.status"])")
                eq(hex(g[0]), "tcp.checksum_calculated", "computed")
                want(f.int("tcp.checksum") != pseudoSum(f), "WRONG, but the field holds the pseudo-header's sum: offload")
            } else if let g = m(#"not verifiable: (\d+) bytes of the segment were not captured"#) {
                want(status == 2 || status == nil, "tshark verified it")
                want(Int(g[0]) == (f.int("frame.len") ?? 0) - (f.int("frame.cap_len") ?? 0), "bytes missing")
            } else { none() }
        case "Urgent Pointer":
            eq(textInt, "tcp.urgent_pointer", "value")
            if m("unused: URG is clear") != nil { want(f.int("tcp.flags.urg") == 0, "URG is set") }
            else if m("offset of the last urgent byte") != nil { want(f.int("tcp.flags.urg") == 1, "URG is clear") } else { none() }
        case "Options":
            want(Int(text.replacingOccurrences(of: " bytes", with: "")) == (f.int("tcp.hdr_len") ?? 0) - 20, "options length")
            if m("malformed options") != nil { break }
            guard m("options") == nil else {
                want(f["tcp.options.mss_val"] + f["tcp.options.wscale.shift"] + f["tcp.options.sack_perm"]
                     + f["tcp.options.timestamp.tsval"] == "", "says no option netlab names, tshark reads some")
                break
            }
            if let g = m(#"(?:MSS (\d+) \(largest segment the sender accepts\) )?(?:window scale (\d+) )?(SACK permitted )?(?:timestamps (\d+)/(\d+))?\s*"#),
               !meaning.isEmpty {
                want(g[0] == f["tcp.options.mss_val"], "MSS '\(g[0])', tshark '\(f["tcp.options.mss_val"])'")
                want(g[1] == f["tcp.options.wscale.shift"], "window scale '\(g[1])', tshark '\(f["tcp.options.wscale.shift"])'")
                want((g[2] != "") == (f["tcp.options.sack_perm"] != ""), "SACK permitted")
                want(g[3] == f["tcp.options.timestamp.tsval"] && g[4] == f["tcp.options.timestamp.tsecr"],
                     "timestamps \(g[3])/\(g[4]), tshark \(f["tcp.options.timestamp.tsval"])/\(f["tcp.options.timestamp.tsecr"])")
            } else { none() }
        case "Data":
            want(Int(text.replacingOccurrences(of: " bytes", with: "")) == f.int("tcp.len"), "length, tshark's tcp.len \(f["tcp.len"])")
            if m("the application's message, carried unchanged") != nil { want((f.int("tcp.len") ?? 0) > 0, "no payload") }
            else if m("no application data in this segment") != nil { want(f.int("tcp.len") == 0, "payload") } else { none() }
        default:
            none()
        }
        return bad
    }

    /// The one-line summary ("a:p -> b:q [PSH, ACK] Seq=1 Ack=1 Win=65536 Len=5"): relative numbers when
    /// the sequence field's sentence says relative (or the packet is a SYN), raw ones otherwise.
    static func checkSummary(_ s: String, relative: Bool, frame n: Int, in all: [Int: Frame]) -> [String] {
        guard let f = all[n] else { return ["frame \(n): tshark has no such frame"] }
        guard let g = match(#"([\d.]+):(\d+) -> ([\d.]+):(\d+) \[([A-Z, ]*)\] Seq=(\d+) Ack=(\d+) Win=(\d+) Len=(\d+)"#, s) else {
            return ["frame \(n): summary '\(s)' not in the checked form"]
        }
        var bad: [String] = []
        let want: [(String, String)] = [(g[0], f["ip.src"]), (g[1], f["tcp.srcport"]), (g[2], f["ip.dst"]), (g[3], f["tcp.dstport"]),
                                        (g[5], relative ? f["tcp.seq"] : f["tcp.seq_raw"]),
                                        (g[6], f.int("tcp.flags.ack") == 1 ? (relative ? f["tcp.ack"] : f["tcp.ack_raw"]) : g[6]),
                                        (g[7], f["tcp.window_size"]), (g[8], f["tcp.len"])]
        for (k, (mine, theirs)) in want.enumerated() where mine != theirs {
            bad.append("frame \(n) summary '\(s)': item \(k + 1) is \(mine), tshark \(theirs)")
        }
        return bad
    }
}
