// The TCP analysis in the text report: an expert summary grouped by severity as
// `tshark -q -z expert` groups it, each troubled conversation's figures, and with
// --packets one line per TCP segment with its analysis flags in brackets, as
// Wireshark's Info column shows them. Formatting only: the findings are libnetlab's.
import Foundation
import Netlab

extension TextReport {
    /// The expert summary and per-conversation figures (nothing when the capture has no TCP).
    mutating func tcpAnalysis() {
        let a = analysis
        guard a.summary.tcpConversations > 0 else { return }
        let flags = a.tcpFlags
        line()
        line(bold("TCP analysis") + dim(" (Wireshark's expert info, as tshark -q -z expert groups it)"))
        var any = false
        for sev in ["Warning", "Note", "Chat"] {
            let rows = flags.filter { $0.severity == sev && $0.total > 0 }.sorted { $0.total > $1.total }
            guard !rows.isEmpty else { continue }
            any = true
            let total = rows.reduce(UInt64(0)) { $0 + $1.total } // tshark counts expert items the same way
            let title = sev == "Warning" ? "Warnings" : sev == "Note" ? "Notes" : "Chats"
            line("  " + (sev == "Warning" ? warn(title) : bold(title)) + " (\(Fmt.grouped(total)))")
            for r in rows {
                let first = r.frames.prefix(8).map(String.init).joined(separator: ", ")
                    + (r.total > 8 ? ", ..." : "")
                line("  " + Fmt.padLeft(Fmt.grouped(r.total), 9) + "  " + Fmt.pad(r.summary, 62) + dim(" [" + r.field + "] ")
                     + dim("frames " + first))
            }
        }
        if !any { line("  " + good("no retransmissions, lost segments, duplicate ACKs or window problems")) }

        // Figures of the conversations worth a look: flagged ones first, then the busiest, at most 20
        // (chosen from the C records, so 100,000 conversations cost little).
        var top = [(flagged: UInt64, data: UInt64, i: Int)]()
        var tcp = 0
        for i in 0..<a.conversationCount where a.conversationProtocol(at: i) == 6 {
            tcp += 1
            let w = a.tcpFlagWeight(at: i)
            guard w.flagged > 0 || w.rttSamples > 0 else { continue }
            top.append((w.flagged, w.dataSegments, i))
            if top.count > 64 {
                top.sort { ($0.flagged, $0.data) > ($1.flagged, $1.data) }
                top.removeLast(top.count - 20)
            }
        }
        top.sort { ($0.flagged, $0.data) > ($1.flagged, $1.data) }
        let shown = top.prefix(20).map(\.i).sorted()
        for i in shown { if let f = a.tcpFigures(at: i) { tcpFigures(f) } }
        if tcp > shown.count && !shown.isEmpty {
            line(dim("  (\(shown.count) of \(tcp) TCP conversations shown: every one is in --json)"))
        }
    }

    mutating func tcpFigures(_ f: TCPFigures) {
        let c = analysis.conversation(at: f.conversation - 1)
        line("  " + bold("conversation \(f.conversation)") + "  \(c.client) -> \(c.server)")
        func opt(_ v: Int, _ none: String = "-") -> String { v > 0 ? String(v) : none }
        func ws(_ v: Int) -> String { v >= 0 ? String(v) : "-" }
        line("    options     MSS \(opt(f.mssC2S))/\(opt(f.mssS2C)), window scale \(ws(f.wscaleC2S))/\(ws(f.wscaleS2C)), "
             + "SACK \(f.sack ? "yes" : "no"), timestamps \(f.timestamps ? "yes" : "no")" + dim("  (client/server)"))
        var rtt = f.rttSamples > 0
            ? "\(Fmt.grouped(f.rttSamples)) samples: min \(ms(f.rttMinMs)), median \(ms(f.rttMedianMs)), "
                + "p95 \(ms(f.rttP95Ms)), max \(ms(f.rttMaxMs))"
            : "no samples"
        rtt += "; handshake " + (f.handshakeMs.map { ms($0) } ?? "not captured")
        line("    RTT         " + rtt)
        line("    throughput  c>s \(rate(f.throughputBpsC2S)), s>c \(rate(f.throughputBpsS2C)); "
             + "max in flight \(Fmt.grouped(f.maxInFlight)) bytes; max window \(Fmt.grouped(f.maxWindowC2S))/"
             + "\(Fmt.grouped(f.maxWindowS2C)) bytes")
        let set = f.counts.filter { $0.count > 0 }
        let re = f.count("retransmission")
        var text = set.isEmpty ? "nothing flagged" : set.map { "\(Fmt.grouped($0.count)) \($0.field)" }.joined(separator: ", ")
        if re > 0 {
            text += String(format: "; retransmission rate %.2f%% of %@ data segments", f.retransmissionRate * 100,
                           Fmt.grouped(f.dataSegments))
        }
        line("    analysis    " + (set.isEmpty ? good(text) : text))
    }

    private func ms(_ v: Double) -> String { v < 1 ? String(format: "%.3f ms", v) : String(format: "%.1f ms", v) }

    private func rate(_ bps: Double) -> String {
        bps >= 1e6 ? String(format: "%.2f Mbit/s", bps / 1e6) : bps >= 1e3 ? String(format: "%.1f kbit/s", bps / 1e3)
            : String(format: "%.0f bit/s", bps)
    }

    /// --packets: one line per TCP segment.
    mutating func tcpPackets() {
        let a = analysis
        let n = a.tcpPacketCount
        line()
        line(bold("TCP packets") + " (\(Fmt.grouped(n)))" + dim("  number  time  conversation direction  flags  relative seq/ack  len  window  [analysis]"))
        let t0 = a.summary.firstNs
        for i in 0..<n {
            let p = a.tcpPacket(at: i)
            var s = Fmt.padLeft(String(p.packet), 8) + " " + String(format: "%11.6f", NanoTime.span(t0, p.tsNs))
                + " " + Fmt.padLeft("#\(p.conversation)", 5) + " " + (p.fromClient ? "c>s" : "s>c")
                + " [" + tcpFlagsText(p.tcpFlags) + "] Seq=\(p.seq)"
            if p.tcpFlags & 0x10 != 0 { s += " Ack=\(p.ack)" }
            s += " Len=\(p.length) Win=\(p.window)"
            var labels = [String]()
            for f in p.fields {
                if f == "duplicate_ack" { labels.append("TCP Dup ACK \(p.dupAckFrame)#\(p.dupAckNum)"); continue }
                if f == "retransmission" && p.fields.contains(where: { $0 == "fast_retransmission" || $0 == "spurious_retransmission" }) {
                    continue // Wireshark shows the more precise label alone
                }
                labels.append(tcpFlagLabel(field: f))
            }
            if !labels.isEmpty { s += " " + warn(labels.map { "[" + $0 + "]" }.joined(separator: " ")) }
            if p.ackedFrame > 0 { s += dim(String(format: " rtt %.3f ms (frame %llu)", p.ackRttMs, p.ackedFrame)) }
            if let m = p.missing {
                s += dim(" bytes \(Fmt.grouped(Int(m.lowerBound)))-\(Fmt.grouped(Int(m.upperBound))) not in the capture")
            }
            if let u = p.unseen {
                s += dim(" the capture missed bytes \(Fmt.grouped(Int(u.lowerBound)))-\(Fmt.grouped(Int(u.upperBound)))"
                         + " that the receiver acknowledged: they crossed the wire but not the capture point")
            }
            line(s)
        }
    }
}
