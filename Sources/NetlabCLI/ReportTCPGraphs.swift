// The report's TCP graphs, per conversation: a Stevens-style time-sequence
// graph (each direction: segments, the ACK line, the receive window's right
// edge, retransmissions and duplicate ACKs in their own colours), RTT over time
// and throughput over time, as inline SVG with captions in plain words. Drawing
// only: rows, windows, RTT samples, marks and throughput come from libnetlab.
import Foundation
import Netlab

/// A packet's TCP analysis flags as the graphs use them.
struct TCPMarks: OptionSet {
    let rawValue: UInt8
    static let retransmission = TCPMarks(rawValue: 1)
    static let duplicateAck = TCPMarks(rawValue: 2)
}

extension ReportWriter {
    /// Rows read per conversation for the graphs (drawing is bounded separately: one mark per pixel column).
    static let graphRows = 2_000_000
    static let throughputBins = 120

    /// THE single place the graphs look up each packet's TCP analysis flags and RTT samples: the flow
    /// graph's rows, laid out from the one analysis of the capture (nl_tcpanalysis.c, Wireshark's rules;
    /// fast and spurious retransmissions carry "retransmission" too), so the red bars are exactly the
    /// frames `analyze` and tshark call retransmissions.
    static func tcpAnalysisFlags(_ c: FlowConversation) -> (marks: [UInt64: TCPMarks], rtt: [UInt64: Double]) {
        var out: [UInt64: TCPMarks] = [:]
        var rtt: [UInt64: Double] = [:]
        for r in c.rows {
            var m: TCPMarks = []
            if r.markedRetransmission { m.insert(.retransmission) }
            if r.markedDuplicateAck { m.insert(.duplicateAck) }
            if !m.isEmpty { out[r.frame] = m }
            // The RTT samples analyze counts (tcp.analysis.ack_rtt): the ACK's frame -> milliseconds.
            if r.rttFrame > 0 { rtt[r.frame] = r.rttMs }
        }
        return (out, rtt)
    }

    /// The three graphs of flow-graph conversation `index` of the capture (c: its rows).
    mutating func tcpGraphs(_ rc: ReportedCapture, index: Int, conv c: FlowConversation, stem: String) throws {
        guard !c.rows.isEmpty else { return }
        let tp = try rc.throughput(index, c, bins: Self.throughputBins)
        let (marks, rttOf) = Self.tcpAnalysisFlags(c)
        let id = c.conversation
        let retrans = marks.values.filter { $0.contains(.retransmission) }.count
        let dups = marks.values.filter { $0.contains(.duplicateAck) }.count
        let cut = c.total > c.rows.count ? " Only the first \(c.rows.count) of its \(c.total) packets are drawn." : ""
        picture(TCPGraphs.timeSequence(c, marks: marks), name: "\(stem)-tseq.svg",
                alt: "Time-sequence graph of conversation \(id), one panel per direction: each blue bar is a segment of data, "
                    + "drawn from its first to its last byte at the moment it was captured; the green steps are the receiver's "
                    + "acknowledgements (everything below them has arrived) and the orange steps the right edge of its receive "
                    + "window (the highest byte it lets the sender send). Red bars are retransmissions (\(retrans) here): data "
                    + "sent again because the first copy was lost or late. Purple diamonds are duplicate ACKs (\(dups) here): "
                    + "the receiver repeating its acknowledgement because a segment in between is missing." + cut)
        let samples = c.rows.compactMap { r in rttOf[r.frame].map { (r, $0) } }
        let rttText = samples.isEmpty ? "no ACK ended exactly at a segment, so there is no sample"
            : "\(samples.count) samples from \(String(format: "%.3f", samples.map(\.1).min()!)) to \(String(format: "%.3f", samples.map(\.1).max()!)) ms"
        picture(TCPGraphs.rtt(c, rtt: rttOf), name: "\(stem)-rtt.svg",
                alt: "Round-trip time of conversation \(id) over time: each dot is the time from a data segment to the ACK that "
                    + "ends exactly at its last byte (the oldest such segment not yet acknowledged), as Wireshark's "
                    + "tcp.analysis.ack_rtt measures it and analyze counts it in its rtt figures; \(rttText). Like Wireshark, "
                    + "netlab keeps a sample whose segment was sent twice (TCP's own timer leaves those out, Karn's rule, as it "
                    + "cannot tell which copy the ACK answers). Dots rise when queues fill and when the receiver delays its ACKs.")
        picture(TCPGraphs.throughput(c, tp), name: "\(stem)-throughput.svg",
                alt: "Throughput of conversation \(id): payload bits per second in each direction, in \(tp.sentA.count) slices "
                    + "of \(String(format: "%.3f", Double(tp.binNs) / 1e6)) ms. The solid line counts every byte sent, "
                    + "retransmissions included; the dashed line only new bytes (goodput). A gap between them is the price of loss.")
    }
}

/// The drawings.
enum TCPGraphs {
    static let w = 760.0, h = 320.0, l = 100.0, r = 24.0, t = 30.0, b = 44.0
    static let dataColor = "#1d4ed8", ackColor = "#15803d", winColor = "#ea580c", retransColor = "#dc2626",
               dupColor = "#9333ea", colorB = "#0891b2"

    struct Frame {
        let x0: Double, x1: Double, y0: Double, y1: Double
        let top: Double, height: Double
        func px(_ x: Double) -> Double { l + (x - x0) / max(x1 - x0, 1e-12) * (w - l - r) }
        func py(_ y: Double) -> Double { top + height - (y - y0) / max(y1 - y0, 1e-12) * height }
    }

    static func open(_ height: Double, _ label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 \(Int(w)) \(Int(height))\" width=\"\(Int(w))\" height=\"\(Int(height))\" font-family=\"ui-monospace,monospace\" font-size=\"11\" role=\"img\" aria-label=\"\(SVG.esc(label))\">"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Axes with five ticks each; x in seconds.
    static func axes(_ fr: Frame, yLabel: String, yFormat: (Double) -> String) -> String {
        var s = "<line x1=\"\(l)\" y1=\"\(f(fr.top + fr.height))\" x2=\"\(w - r)\" y2=\"\(f(fr.top + fr.height))\" class=\"axis\" stroke=\"#334155\"/>"
        s += "<line x1=\"\(l)\" y1=\"\(f(fr.top))\" x2=\"\(l)\" y2=\"\(f(fr.top + fr.height))\" class=\"axis\" stroke=\"#334155\"/>"
        let span = fr.x1 - fr.x0
        let decimals = max(2, min(6, Int(-log10(max(span, 1e-9)).rounded(.down)) + 3))
        for k in 0...4 {
            let xv = fr.x0 + span * Double(k) / 4, yv = fr.y0 + (fr.y1 - fr.y0) * Double(k) / 4
            s += "<text x=\"\(f(fr.px(xv)))\" y=\"\(f(fr.top + fr.height + 15))\" class=\"bit\" text-anchor=\"middle\">\(String(format: "%.*f", decimals, xv))</text>"
            s += "<text x=\"\(l - 6)\" y=\"\(f(fr.py(yv) + 4))\" class=\"bit\" text-anchor=\"end\">\(SVG.esc(yFormat(yv)))</text>"
            s += "<line x1=\"\(l)\" y1=\"\(f(fr.py(yv)))\" x2=\"\(w - r)\" y2=\"\(f(fr.py(yv)))\" stroke=\"#e2e8f0\"/>"
        }
        s += "<text x=\"\(f((l + w - r) / 2))\" y=\"\(f(fr.top + fr.height + 32))\" class=\"bit\" text-anchor=\"middle\">seconds since the first packet</text>"
        s += "<text x=\"\(l)\" y=\"\(f(fr.top - 8))\" class=\"bit\">\(SVG.esc(yLabel))</text>"
        return s
    }

    static func legend(_ items: [(String, String)], x: Double, y: Double) -> String {
        var s = ""
        var cx = x
        for (color, text) in items {
            s += "<rect x=\"\(f(cx))\" y=\"\(f(y - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(cx + 14))\" y=\"\(f(y + 1))\" class=\"lbl\">\(SVG.esc(text))</text>"
            cx += 14 + Double(text.count) * 6.8 + 16
        }
        return s
    }

    static func bytes(_ v: Double) -> String {
        v >= 1e6 ? String(format: "%.2f MB", v / 1e6) : v >= 1e4 ? String(format: "%.0f kB", v / 1e3) : String(format: "%.0f", v)
    }

    static func bits(_ v: Double) -> String {
        v >= 1e9 ? String(format: "%.2f Gbit/s", v / 1e9) : v >= 1e6 ? String(format: "%.2f Mbit/s", v / 1e6)
            : v >= 1e3 ? String(format: "%.1f kbit/s", v / 1e3) : String(format: "%.0f bit/s", v)
    }

    /// Stevens' time-sequence graph, one panel per direction.
    static func timeSequence(_ c: FlowConversation, marks: [UInt64: TCPMarks]) -> String {
        let panelH = 230.0, gap = 96.0
        // The earliest and latest times, not the first and last rows: a capture's clock can step back.
        let t0 = c.rows.map(\.timeNs).min()!
        let x1 = max(NanoTime.span(t0, c.rows.map(\.timeNs).max()!), 1e-6)
        // A panel for each direction that carried data (the first one even when none did).
        var ways = [true, false].filter { d in c.rows.contains { $0.fromA == d && $0.length > 0 } }
        if ways.isEmpty { ways = [true] }
        let height = 20 + Double(ways.count) * (panelH + gap)
        var s = open(height, "time-sequence graph of conversation \(c.id)")
        for (p, fromA) in ways.enumerated() {
            let sender = fromA ? c.a : c.b, receiver = fromA ? c.b : c.a
            let data = c.rows.filter { $0.fromA == fromA && $0.length > 0 }
            let acks = c.rows.filter { $0.fromA != fromA && $0.flags.contains("ACK") }
            let dataTop = Double(data.map { Int($0.relativeSeq) + $0.length }.max() ?? 1)
            let ackTop = Double(acks.map { $0.relativeAck }.max() ?? 1)
            let edgeTop = Double(acks.map { Double($0.relativeAck) + Double($0.window) }.max() ?? 1)
            // A window edge far above the data would flatten it: then the plot stops above the data and says so.
            let clipEdge = edgeTop > 4 * max(dataTop, ackTop, 1)
            let yMax = clipEdge ? max(dataTop, ackTop, 1) * 1.25 : max(edgeTop, dataTop, ackTop, 1) * 1.05
            let top = 20 + Double(p) * (panelH + gap) + 34
            let fr = Frame(x0: 0, x1: x1, y0: 0, y1: yMax, top: top, height: panelH - 34)
            let nRetrans = data.filter { marks[$0.frame]?.contains(.retransmission) == true }.count
            let nDup = acks.filter { marks[$0.frame]?.contains(.duplicateAck) == true }.count
            s += "<text x=\"8\" y=\"\(f(top - 26))\" font-size=\"12\" font-weight=\"bold\">\(SVG.esc("\(sender) -> \(receiver)")): \(data.count) segments, \(nRetrans) resent, \(nDup) dup ACKs back</text>"
            s += axes(fr, yLabel: "relative sequence number (bytes)", yFormat: bytes)
            // ACK line and window edge: step lines, last value per pixel column.
            func steps(_ value: (FlowRow) -> Double, clip: Double) -> String {
                var last: [Int: Double] = [:]
                for row in acks { last[Int(fr.px(NanoTime.span(t0, row.timeNs)).rounded())] = min(value(row), clip) }
                var path = ""
                var prevY: Double?
                for (x, v) in last.sorted(by: { $0.key < $1.key }) {
                    let y = fr.py(v)
                    path += prevY == nil ? "M\(x),\(f(y))" : " H\(x) V\(f(y))"
                    prevY = y
                }
                return path.isEmpty ? path : path + " H\(f(w - r))"
            }
            let ackPath = steps({ Double($0.relativeAck) }, clip: yMax)
            if !ackPath.isEmpty { s += "<path d=\"\(ackPath)\" stroke=\"\(ackColor)\" stroke-width=\"1.4\" fill=\"none\"/>" }
            let winPath = steps({ Double($0.relativeAck) + Double($0.window) }, clip: yMax)
            if !winPath.isEmpty { s += "<path d=\"\(winPath)\" stroke=\"\(winColor)\" stroke-width=\"1.4\" fill=\"none\" stroke-dasharray=\"5 3\"/>" }
            // Data bars, bounded: normal and resent segments merged per pixel column.
            var cols: [Int: (lo: Double, hi: Double)] = [:], rcols: [Int: (lo: Double, hi: Double)] = [:]
            for row in data {
                let x = Int(fr.px(NanoTime.span(t0, row.timeNs)).rounded())
                let lo = Double(row.relativeSeq), hi = lo + Double(row.length)
                if marks[row.frame]?.contains(.retransmission) == true {
                    rcols[x] = rcols[x].map { (min($0.lo, lo), max($0.hi, hi)) } ?? (lo, hi)
                } else {
                    cols[x] = cols[x].map { (min($0.lo, lo), max($0.hi, hi)) } ?? (lo, hi)
                }
            }
            var d = ""
            for (x, v) in cols.sorted(by: { $0.key < $1.key }) {
                d += "M\(x),\(f(fr.py(v.lo))) V\(f(min(fr.py(v.hi), fr.py(v.lo) - 1.5))) "
            }
            if !d.isEmpty { s += "<path d=\"\(d)\" stroke=\"\(dataColor)\" stroke-width=\"1.6\" fill=\"none\"/>" }
            var rd = ""
            for (x, v) in rcols.sorted(by: { $0.key < $1.key }) {
                rd += "M\(x),\(f(fr.py(v.lo) + 2)) V\(f(min(fr.py(v.hi), fr.py(v.lo) - 1.5) - 2)) "
            }
            if !rd.isEmpty { s += "<path d=\"\(rd)\" stroke=\"\(retransColor)\" stroke-width=\"3\" fill=\"none\"><title>retransmissions</title></path>" }
            // Duplicate ACKs: one diamond per pixel column (the count in its tooltip).
            var dcols: [Int: (y: Double, n: Int)] = [:]
            for row in acks where marks[row.frame]?.contains(.duplicateAck) == true {
                let x = Int(fr.px(NanoTime.span(t0, row.timeNs)).rounded())
                dcols[x] = (fr.py(min(Double(row.relativeAck), yMax)), (dcols[x]?.n ?? 0) + 1)
            }
            for (x, v) in dcols.sorted(by: { $0.key < $1.key }) {
                s += "<path d=\"M\(x),\(f(v.y - 4)) l4,4 l-4,4 l-4,-4 z\" fill=\"\(dupColor)\"><title>\(v.n) duplicate ACK\(v.n == 1 ? "" : "s")</title></path>"
            }
            var items = [(dataColor, "data"), (retransColor, "retransmission"), (ackColor, "ACK"),
                         (winColor, "window edge"), (dupColor, "duplicate ACK")]
            if clipEdge { items[3].1 = "window edge (up to \(bytes(edgeTop)), above the plot)" }
            s += legend(Array(items.prefix(3)), x: l, y: top + panelH - 34 + 48)
            s += legend(Array(items.suffix(2)), x: l, y: top + panelH - 34 + 64)
            if data.isEmpty {
                s += "<text x=\"\(f((l + w - r) / 2))\" y=\"\(f(top + 60))\" class=\"lbl\" text-anchor=\"middle\">no data was sent this way</text>"
            }
        }
        return s + "</svg>"
    }

    /// RTT samples over time, one colour per direction of the data.
    static func rtt(_ c: FlowConversation, rtt rttOf: [UInt64: Double]) -> String {
        // The earliest and latest times, not the first and last rows: a capture's clock can step back.
        let t0 = c.rows.map(\.timeNs).min()!
        let x1 = max(NanoTime.span(t0, c.rows.map(\.timeNs).max()!), 1e-6)
        let samples = c.rows.compactMap { r in rttOf[r.frame].map { (row: r, ms: $0) } }
        let yMax = max((samples.map(\.ms).max() ?? 1) * 1.1, 0.01)
        let fr = Frame(x0: 0, x1: x1, y0: 0, y1: yMax, top: t, height: h - t - b - 36)
        var s = open(h, "round-trip time over time, conversation \(c.id)")
        s += axes(fr, yLabel: "round-trip time (ms)", yFormat: { String(format: yMax < 1 ? "%.3f" : "%.1f", $0) })
        // Bounded: at most one dot per pixel for each direction (the lowest and the highest sample there).
        for fromA in [true, false] {
            // An ACK from b carries the RTT of a's data.
            var cols: [Int: (lo: Double, hi: Double)] = [:]
            for (row, ms) in samples where row.fromA != fromA {
                let x = Int(fr.px(NanoTime.span(t0, row.timeNs)).rounded())
                cols[x] = cols[x].map { (min($0.lo, ms), max($0.hi, ms)) } ?? (ms, ms)
            }
            let color = fromA ? dataColor : colorB
            for (x, v) in cols.sorted(by: { $0.key < $1.key }) {
                s += "<circle cx=\"\(x)\" cy=\"\(f(fr.py(v.lo)))\" r=\"2\" fill=\"\(color)\"/>"
                if v.hi != v.lo { s += "<circle cx=\"\(x)\" cy=\"\(f(fr.py(v.hi)))\" r=\"2\" fill=\"\(color)\"/>" }
            }
        }
        let na = samples.filter { !$0.row.fromA }.count, nb = samples.count - na
        s += legend([(dataColor, "data \(c.a) -> \(c.b): \(na) samples")], x: l, y: h - 24)
        s += legend([(colorB, "data \(c.b) -> \(c.a): \(nb) samples")], x: l, y: h - 8)
        if samples.isEmpty {
            s += "<text x=\"\(f((l + w - r) / 2))\" y=\"\(f(t + 60))\" class=\"lbl\" text-anchor=\"middle\">no RTT sample: no ACK ended exactly at a segment</text>"
        }
        return s + "</svg>"
    }

    /// Payload throughput per time slice, each direction: all bytes (solid) and new bytes (dashed).
    static func throughput(_ c: FlowConversation, _ tp: FlowThroughput) -> String {
        let n = tp.sentA.count
        let x1 = max(Double(tp.binNs) * Double(n) / 1e9, 1e-6)
        let yMax = max((tp.sentA + tp.sentB).max() ?? 1, 1) * 1.1
        let fr = Frame(x0: 0, x1: x1, y0: 0, y1: yMax, top: t, height: h - t - b - 36)
        var s = open(h, "throughput over time, conversation \(c.id)")
        s += axes(fr, yLabel: "payload throughput", yFormat: bits)
        for (series, color, dashed) in [(tp.sentA, dataColor, false), (tp.freshA, dataColor, true),
                                        (tp.sentB, colorB, false), (tp.freshB, colorB, true)] {
            guard series.contains(where: { $0 > 0 }) else { continue }
            var d = ""
            for (i, v) in series.enumerated() {
                let xa = fr.px(Double(i) * Double(tp.binNs) / 1e9), xb = fr.px(Double(i + 1) * Double(tp.binNs) / 1e9)
                d += (i == 0 ? "M" : " L") + "\(f(xa)),\(f(fr.py(v))) L\(f(xb)),\(f(fr.py(v)))"
            }
            s += "<path d=\"\(d)\" stroke=\"\(color)\" stroke-width=\"\(dashed ? 1.2 : 1.8)\" fill=\"none\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
        }
        s += legend([(dataColor, "\(c.a) -> \(c.b)")], x: l, y: h - 24)
        s += legend([(colorB, "\(c.b) -> \(c.a)")], x: l, y: h - 8)
        s += "<text x=\"\(f(w - r))\" y=\"\(f(t - 8))\" class=\"bit\" text-anchor=\"end\">solid: all bytes sent; dashed: new bytes only</text>"
        return s + "</svg>"
    }
}
