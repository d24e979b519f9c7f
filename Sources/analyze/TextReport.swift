// The human-readable report: the capture, conversations, checksums, matches,
// notes, and on request a followed stream and the --expect verdicts.
// Colour only when asked to (a terminal without NO_COLOR).
import Foundation
import Netlab

private let arrowBytes: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 4)
    for (i, b) in " -> ".utf8.enumerated() { p[i] = b }
    return p
}()

struct TextReport: TerminalStyled {
    let analysis: Analysis
    let texts: [String]
    let followAsked: Int
    let expectAsked: String?
    let color: Bool
    var packets = false
    var out = Output()

    init(analysis: Analysis, texts: [String], followAsked: Int, expectAsked: String?, color: Bool) {
        self.analysis = analysis
        self.texts = texts
        self.followAsked = followAsked
        self.expectAsked = expectAsked
        self.color = color
    }


    mutating func line(_ s: String = "") {
        out.write(s)
        out.newline()
    }

    /// Write the report to stdout.
    mutating func render() {
        let a = analysis
        let s = a.summary
        let lt = s.linkType
        line(bold("capture") + "     \(safeLine(s.file)) (\(s.format), \(linkTypeName(lt)): \(linkTypeDescription(lt)), "
             + (s.nanosecond ? "nanosecond" : "microsecond") + " timestamps"
             + (s.swapped ? ", other byte order" : "") + ")")
        var span = "\(Fmt.grouped(s.packets)) packets, \(Fmt.grouped(s.bytes)) bytes on the wire"
        if s.capturedBytes != s.bytes { span += " (\(Fmt.grouped(s.capturedBytes)) captured)" }
        if s.packets > 0 {
            span += ", from \(Fmt.isoTime(s.firstNs, nano: s.nanosecond)) over "
                + String(format: "%.6f s", Fmt.span(s.firstNs, s.lastNs))
        }
        line(bold("packets") + "     " + span)
        let ifs = a.interfaces.map { f -> String in
            var t = f.kind == .ifindex ? "ifindex \(f.index)" : (f.name.map { safeLine($0, limit: 256) } ?? "interface \(f.index)")
            var extra = [String]()
            if f.kind == .file, a.interfaces.filter({ $0.kind == .file }).count > 1 || f.name == nil {
                extra.append(linkTypeName(f.linkType))
            }
            if f.loopback { extra.append("loopback") }
            extra.append("\(Fmt.grouped(f.packets)) packets")
            t += " (" + extra.joined(separator: ", ") + ")"
            return t
        }
        line(bold("interfaces") + "  " + (ifs.isEmpty ? "none recorded" : ifs.joined(separator: "; ")))
        var protos = ["IPv4 \(Fmt.grouped(s.ipv4))", "IPv6 \(Fmt.grouped(s.ipv6))"]
        if s.nonIP > 0 { protos.append("non-IP \(Fmt.grouped(s.nonIP))") }
        var tr = ["TCP \(Fmt.grouped(s.tcp))", "UDP \(Fmt.grouped(s.udp))"]
        if s.icmp > 0 { tr.append("ICMP \(Fmt.grouped(s.icmp))") }
        if s.icmpv6 > 0 { tr.append("ICMPv6 \(Fmt.grouped(s.icmpv6))") }
        if s.otherIP > 0 { tr.append("other \(Fmt.grouped(s.otherIP))") }
        if s.fragments > 0 { tr.append("fragments \(Fmt.grouped(s.fragments))") }
        line(bold("protocols") + "   " + protos.joined(separator: ", ") + "; " + tr.joined(separator: ", "))
        var odd = [String]()
        if s.truncated > 0 { odd.append("\(Fmt.grouped(s.truncated)) truncated") }
        if s.malformed > 0 { odd.append("\(Fmt.grouped(s.malformed)) malformed") }
        if s.snapped > 0 { odd.append("\(Fmt.grouped(s.snapped)) cut by the snap length") }
        if s.duplicates > 0 { odd.append("\(Fmt.grouped(s.duplicates)) duplicate copies") }
        if s.unsupportedLink > 0 { odd.append("\(Fmt.grouped(s.unsupportedLink)) of an unsupported link type") }
        if !odd.isEmpty { line(bold("packets of note") + " " + warn(odd.joined(separator: ", "))) }
        if s.largestPacket > 0 {
            line(bold("largest") + "     TCP payload: \(Fmt.grouped(s.largestBytes)) bytes in packet \(s.largestPacket) "
                 + "(conversation \(s.largestConversation))")
        }

        conversations()
        tcpAnalysis()
        if packets { tcpPackets() }
        checksums()
        matches()
        problems()
        notes()
        if let err = s.readError {
            line()
            line(bad("stopped early: ") + safeLine(err.message))
        }
        if followAsked > 0 { follow() }
        if expectAsked != nil { expect() }
        out.flush()
    }

    /// One line per conversation, written straight from the C records: captures
    /// with 100,000 conversations print in a fraction of a second.
    mutating func conversations() {
        let a = analysis
        let n = a.conversationCount
        let s = a.summary
        // Width of the "client -> server" column: from the first conversations only
        // (a longer pair pushes its own line's columns right).
        var endW = 30
        for i in 0..<min(n, 1000) {
            a.conversation(at: i).withEndpoints { c, v in endW = max(endW, c.count + v.count + 5) }
        }
        for proto in [6, 17] {
            let count = proto == 6 ? s.tcpConversations : s.udpFlows
            guard count > 0 else { continue }
            var guessed = false
            line()
            let title = proto == 6 ? "TCP conversations (\(count))" : "UDP flows (\(count))"
            let header = "  " + Fmt.padLeft("id", 5) + "  " + Fmt.pad("client -> server", endW) + "  "
                + Fmt.padLeft("packets c>s/s>c", 16) + "  " + Fmt.padLeft("payload c>s/s>c", 20)
                + (proto == 6 ? "  hs   end     retr  largest" : "")
            line(bold(title))
            line(dim(header))
            var listed = 0
            let maxListed = a.listedCap
            for i in 0..<n where a.conversationProtocol(at: i) == proto {
                // --max-listed: a capture of millions of conversations prints a bounded report.
                if listed == maxListed { break }
                listed += 1
                let c = a.conversation(at: i)
                guessed = guessed || c.serverGuessed
                out.spaces(2 + 5 - Output.width(c.id))
                out.int(c.id)
                out.spaces(2)
                var w = 0
                c.withEndpoints { cl, sv in
                    out.write(cl); out.write(UnsafeBufferPointer(start: arrowBytes, count: 4)); out.write(sv)
                    w = cl.count + sv.count + 4
                }
                if c.serverGuessed { out.byte(63); w += 1 }
                out.spaces(endW - w + 2)
                out.pair(c.packetsC2S, c.packetsS2C, width: 16)
                out.spaces(2)
                out.pair(c.payloadC2S, c.payloadS2C, width: 20)
                if proto == 6 {
                    out.write(c.handshake ? "  yes  " : "  no   ")
                    let end = c.refused ? "refused" : c.end
                    out.write(end)
                    out.spaces(7 - end.utf8.count)
                    out.spaces(1 + 5 - Output.width(c.retransmissions))
                    out.int(c.retransmissions)
                    out.spaces(2)
                    if c.largestPacket > 0 {
                        out.byte(35); out.int(c.largestPacket); out.byte(32); out.int(c.largestBytes); out.write(" B")
                    } else {
                        out.byte(45)
                    }
                    let app = c.app
                    if !app.isEmpty { out.write("  "); out.write(app) }
                }
                out.newline()
            }
            if UInt64(listed) < count {
                line("  ... \(Fmt.grouped(count - UInt64(listed))) more \(proto == 6 ? "TCP conversations" : "UDP flows") "
                     + "not listed (--max-listed \(maxListed))")
            }
            if guessed { line(dim("  ? the server is guessed from the ports: no SYN or SYN-ACK was captured")) }
        }
        roles()
    }

    /// Which conversations are users at a chat server and which are servers at Redis (nl_appid.c).
    mutating func roles() {
        let a = analysis
        var byRole: [(String, [Int])] = []
        // The role alone (no endpoint text): a capture has many conversations.
        for i in 0..<a.conversationCount where a.conversationProtocol(at: i) == 6 {
            let r = a.conversationRole(at: i)
            guard !r.isEmpty else { continue }
            let id = i + 1
            if let k = byRole.firstIndex(where: { $0.0 == r }) { byRole[k].1.append(id) } else { byRole.append((r, [id])) }
        }
        guard !byRole.isEmpty else { return }
        line()
        line(bold("applications") + dim("  (chat: the server's HELLO line; redis: RESP commands)"))
        for (r, ids) in byRole {
            let list = ids.count > 20 ? ids.prefix(20).map(String.init).joined(separator: ", ") + ", ..."
                : ids.map(String.init).joined(separator: ", ")
            line("  " + Fmt.pad(r, 24) + "\(ids.count) conversation\(ids.count == 1 ? "" : "s"): \(list)")
        }
    }

    mutating func checksums() {
        let s = analysis.summary
        line()
        line(bold("checksums") + dim("        good      bad  offload  unverified     none"))
        func row(_ name: String, _ c: ChecksumCounts, none: Bool) -> String {
            let badText = Fmt.padLeft(String(c.bad), 9)
            return "  " + Fmt.pad(name, 8) + Fmt.padLeft(String(c.good), 12) + (c.bad > 0 ? bad(badText) : badText)
                + Fmt.padLeft(String(c.offload), 9) + Fmt.padLeft(String(c.unverified), 12)
                + (none ? Fmt.padLeft(String(c.none), 9) : "")
        }
        line(row("IPv4", s.ckIPv4, none: false))
        line(row("TCP", s.ckTCP, none: false))
        line(row("UDP", s.ckUDP, none: true))
        let bads = analysis.badChecksums
        for b in bads.prefix(20) {
            line("  " + bad("bad") + " packet \(b.packet): \(b.layer.uppercased()) checksum \(Fmt.hex16(b.found)), "
                 + "expected \(Fmt.hex16(b.expected))" + (b.conversation > 0 ? " (conversation \(b.conversation))" : ""))
        }
        if bads.count > 20 { line("  ... and \(bads.count - 20) more (see --json)") }
    }

    mutating func matches() {
        guard !texts.isEmpty else { return }
        let ms = analysis.matches
        line()
        line(bold("find") + " " + texts.map { "\"\(Fmt.preview($0.utf8, limit: 40))\"" }.joined(separator: ", ")
             + ": \(analysis.summary.matchCount) match" + (analysis.summary.matchCount == 1 ? "" : "es"))
        for m in ms {
            let t = texts.count > 1 ? "\"\(Fmt.preview(texts[m.textIndex].utf8, limit: 20))\" " : ""
            let dir = m.fromClient ? "client -> server" : "server -> client"
            if m.acrossSegments {
                line("  \(t)packets \(m.packet)-\(m.lastPacket) (across segments), conversation \(m.conversation), "
                     + "\(dir), starting at payload byte \(m.offset)")
            } else {
                line("  \(t)packet \(m.packet), conversation \(m.conversation), \(dir), "
                     + "\(m.payloadBytes) payload bytes, at byte \(m.offset)")
            }
        }
        if UInt64(ms.count) < analysis.summary.matchCount {
            line("  ... \(analysis.summary.matchCount - UInt64(ms.count)) more not listed")
        }
    }

    mutating func problems() {
        let ps = analysis.problems
        guard !ps.isEmpty else { return }
        line()
        line(bold("truncated and malformed packets") + " (\(analysis.summary.truncated + analysis.summary.malformed))")
        for p in ps.prefix(10) { line("  packet \(p.packet): \(p.status) at the \(p.layer) layer: \(p.reason)") }
        if ps.count > 10 { line("  ... and \(analysis.summary.truncated + analysis.summary.malformed - 10) more") }
        for w in analysis.warnings { line("  " + warn("warning: ") + safeLine(w)) }
    }

    mutating func notes() {
        let ns = analysis.notes
        guard !ns.isEmpty else { return }
        line()
        line(bold("notes"))
        for n in ns { line("  - " + n.text) }
    }

    mutating func follow() {
        let a = analysis
        line()
        let id = a.followedConversation
        guard id > 0 else {
            line(bad("follow: ") + "conversation \(followAsked) does not exist (the capture has "
                 + "\(a.conversationCount))")
            return
        }
        let c = a.conversations[id - 1]
        line(bold("follow \(c.protocolName) conversation \(id)") + ": client \(c.client), server \(c.server)")
        var c2s = 0, s2c = 0
        for ch in a.chunks {
            let head = (ch.fromClient ? "client -> server" : "server -> client") + ", packet \(ch.packet), "
                + "\(ch.length) bytes"
            line(dim("--- " + head))
            if let b = ch.bytes {
                let text = safeStreamText(b)
                out.write(text)
                if !text.hasSuffix("\n") { out.newline() }
                if ch.fromClient { c2s += ch.length } else { s2c += ch.length }
            } else {
                line(warn("[\(ch.length) bytes missing in the capture]"))
            }
        }
        line(dim("--- ") + "client -> server \(c2s) bytes, server -> client \(s2c) bytes")
    }

    mutating func expect() {
        let ex = analysis.expectations
        line()
        let found = ex.filter(\.ok).count
        let summary = "\(ex.count) messages: \(found) found intact and in order"
            + ["out-of-order", "altered", "missing"].compactMap { st in
                let n = ex.filter { $0.status == st }.count
                return n > 0 ? ", \(n) \(st)" : nil
            }.joined()
        line(bold("expect \(safeLine(expectAsked ?? ""))") + ": " + (found == ex.count ? good(summary) : bad(summary)))
        for e in ex {
            let tag = e.ok ? good(Fmt.pad("ok", 12)) : bad(Fmt.pad(e.status.uppercased(), 12))
            line("  " + Fmt.pad("\(safeLine(e.msgID, limit: 64)) (line \(e.line))", 18) + " " + tag + " "
                 + (e.conversation > 0 ? "conversation \(e.conversation): " : "") + safeLine(e.detail))
        }
        for u in analysis.unexpected {
            let tag = u.kind == "greeting" ? good(Fmt.pad("greeting", 12)) : bad(Fmt.pad("UNEXPECTED", 12))
            let pk = u.packet == u.lastPacket ? "packet \(u.packet)" : "packets \(u.packet)-\(u.lastPacket)"
            line("  " + Fmt.pad("", 18) + " " + tag + " conversation \(u.conversation): \(u.length) bytes in \(pk) ("
                 + Fmt.direction(u.fromClient) + ") that no expected message holds: \""
                 + safePreview(u.preview, limit: 60) + (u.length > u.preview.count ? "…" : "") + "\"")
        }
    }
}
