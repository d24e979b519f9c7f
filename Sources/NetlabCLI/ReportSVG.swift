// Pictures for the report, as inline SVG: header diagrams laid out 32 bits per
// row as in the RFCs, the nesting of the layers, a TCP sequence diagram and a
// bytes-over-time plot. Drawing only; every value comes from libnetlab.
import Foundation
import Netlab

enum SVG {
    static func esc(_ s: String) -> String {
        var o = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default:
                if c.value < 0x20 { o += " " } else { o.unicodeScalars.append(c) }
            }
        }
        return o
    }

    static let layerFill = ["IPv4": "#dbeafe", "TCP": "#dcfce7", "Payload": "#fef9c3"]
    static let layerStroke = ["IPv4": "#1d4ed8", "TCP": "#15803d", "Payload": "#a16207"]

    /// A header drawn as the RFCs do: 32 bits per row, each field a box as wide as its bits.
    static func headerDiagram(layer: String, fields: [Field], title: String) -> String {
        let cell = 24.0, rowH = 46.0, left = 44.0, top = 40.0
        let fs = fields.filter { $0.layer == layer }
        let totalBits = fs.map { $0.bitOffset + $0.bitWidth }.max() ?? 0
        let rows = max(1, (totalBits + 31) / 32)
        let w = left + 32 * cell + 10, h = top + Double(rows) * rowH + 12
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"hdr\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"\(esc(title))\">"
        s += "<text x=\"\(left)\" y=\"14\" class=\"t\">\(esc(title))</text>"
        for b in 0..<32 where b % 4 == 0 || b == 31 {
            s += "<text x=\"\(left + Double(b) * cell + cell / 2)\" y=\"32\" class=\"bit\" text-anchor=\"middle\">\(b)</text>"
        }
        for r in 0..<rows {
            s += "<text x=\"\(left - 6)\" y=\"\(top + Double(r) * rowH + rowH / 2 + 4)\" class=\"bit\" text-anchor=\"end\">\(r * 4)</text>"
        }
        let fill = layerFill[layer] ?? "#eee", stroke = layerStroke[layer] ?? "#333"
        for f in fs {
            var bit = f.bitOffset
            var left_ = f.bitWidth
            var first = true
            while left_ > 0 {
                let row = bit / 32, col = bit % 32
                let n = min(left_, 32 - col)
                let x = left + Double(col) * cell, y = top + Double(row) * rowH
                let bw = Double(n) * cell
                s += "<g><title>\(esc(f.name)) (\(f.bitWidth) bits) = \(esc(f.valueText)): \(esc(f.meaning))</title>"
                s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(bw)\" height=\"\(rowH)\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
                if first || n >= 8 {
                    let name = n == 1 ? String(f.name.prefix(3)) : fit(f.name, bw, 6.2)
                    let value = n == 1 ? f.valueText : fit(f.valueText, bw, 7.4)
                    s += "<text x=\"\(x + bw / 2)\" y=\"\(y + 17)\" class=\"fn\" text-anchor=\"middle\">\(esc(name))</text>"
                    s += "<text x=\"\(x + bw / 2)\" y=\"\(y + 36)\" class=\"fv\" text-anchor=\"middle\">\(esc(value))</text>"
                }
                s += "</g>"
                first = false
                bit += n
                left_ -= n
            }
        }
        return s + "</svg>"
    }

    /// Cut a label to what fits in `width` pixels at about `perChar` pixels a character.
    static func fit(_ s: String, _ width: Double, _ perChar: Double) -> String {
        let n = Int(width / perChar) - 1
        if s.count <= n { return s }
        if n <= 1 { return "" }
        return String(s.prefix(n - 1)) + "…"
    }

    /// The layers nested like envelopes: IPv4 header | TCP header | payload, with byte counts.
    static func nesting(spans: [Span], total: Int) -> String {
        let w = 760.0, h = 96.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"nest\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"encapsulation\">"
        s += "<rect x=\"2\" y=\"2\" width=\"\(w - 4)\" height=\"\(h - 4)\" fill=\"#f8fafc\" stroke=\"#1d4ed8\" rx=\"6\"/>"
        s += "<text x=\"12\" y=\"20\" class=\"t\">IPv4 packet: \(total) bytes</text>"
        // Widths proportional to the square root of the sizes keeps small headers readable.
        let weights = spans.map { sqrt(Double(max($0.length, 1))) }
        let sum = weights.reduce(0, +)
        var x = 12.0
        for (i, sp) in spans.enumerated() {
            let bw = (w - 24) * weights[i] / sum
            s += "<rect x=\"\(x)\" y=\"32\" width=\"\(bw - 4)\" height=\"52\" fill=\"\(layerFill[sp.layer] ?? "#eee")\" stroke=\"\(layerStroke[sp.layer] ?? "#333")\" rx=\"4\"/>"
            let label = sp.layer == "Payload" ? "application data" : "\(sp.layer) header"
            s += "<text x=\"\(x + bw / 2 - 2)\" y=\"54\" class=\"fn\" text-anchor=\"middle\">\(esc(label))</text>"
            s += "<text x=\"\(x + bw / 2 - 2)\" y=\"72\" class=\"fv\" text-anchor=\"middle\">bytes \(sp.offset)-\(sp.offset + sp.length - 1) (\(sp.length))</text>"
            x += bw
        }
        return s + "</svg>"
    }

    /// Wireshark's flow graph for one TCP conversation: two lifelines, one arrow per segment.
    static func sequenceDiagram(_ c: FlowConversation, maxRows: Int = 60) -> String {
        let rows = Array(c.rows.prefix(maxRows))
        let xa = 250.0, xb = 700.0, top = 64.0, step = 26.0
        let more = c.total - rows.count
        let h = top + Double(rows.count) * step + (more > 0 ? 40 : 20)
        let w = 860.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"seq\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"sequence diagram of conversation \(c.id)\">"
        s += "<defs><marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#334155\"/></marker></defs>"
        s += "<text x=\"\(xa)\" y=\"20\" class=\"t\" text-anchor=\"middle\">\(esc(c.a))</text>"
        s += "<text x=\"\(xb)\" y=\"20\" class=\"t\" text-anchor=\"middle\">\(esc(c.b))</text>"
        s += "<text x=\"8\" y=\"44\" class=\"bit\">frame   time (s)</text>"
        s += "<line x1=\"\(xa)\" y1=\"30\" x2=\"\(xa)\" y2=\"\(h - 8)\" class=\"life\"/>"
        s += "<line x1=\"\(xb)\" y1=\"30\" x2=\"\(xb)\" y2=\"\(h - 8)\" class=\"life\"/>"
        let t0 = rows.first?.timeNs ?? 0
        for (i, r) in rows.enumerated() {
            let y = top + Double(i) * step
            let (x1, x2) = r.fromA ? (xa, xb) : (xb, xa)
            let cls = r.flags.contains("SYN") || r.flags.contains("FIN") || r.flags.contains("RST") ? "ctl" : (r.length > 0 ? "data" : "ack")
            s += "<text x=\"8\" y=\"\(y + 4)\" class=\"bit\">\(r.frame)</text>"
            s += "<text x=\"60\" y=\"\(y + 4)\" class=\"bit\">\(String(format: "%.6f", NanoTime.span(t0, r.timeNs)))</text>"
            s += "<line x1=\"\(x1)\" y1=\"\(y)\" x2=\"\(x2)\" y2=\"\(y + 10)\" class=\"arrow \(cls)\" marker-end=\"url(#ah)\"/>"
            var label = "[\(r.flags)] Seq=\(r.relativeSeq)"
            if r.flags.contains("ACK") { label += " Ack=\(r.relativeAck)" }
            label += " Len=\(r.length)"
            s += "<text x=\"\((xa + xb) / 2)\" y=\"\(y + 1)\" class=\"lbl\" text-anchor=\"middle\">\(esc(label))</text>"
        }
        if more > 0 {
            s += "<text x=\"\((xa + xb) / 2)\" y=\"\(h - 14)\" class=\"bit\" text-anchor=\"middle\">… and \(more) more packets (see the capture)</text>"
        }
        return s + "</svg>"
    }

    /// Payload bytes sent so far, per direction, against time since the conversation's first packet.
    static func bytesOverTime(_ c: FlowConversation) -> String {
        let w = 760.0, h = 260.0, l = 70.0, r = 20.0, t = 24.0, b = 40.0
        let t0 = c.rows.first?.timeNs ?? 0
        var series: [(Bool, [(Double, Double)])] = [(true, [(0, 0)]), (false, [(0, 0)])]
        var total = [true: 0.0, false: 0.0]
        for row in c.rows where row.length > 0 {
            let x = NanoTime.span(t0, row.timeNs)
            total[row.fromA]! += Double(row.length)
            let idx = row.fromA ? 0 : 1
            series[idx].1.append((x, total[row.fromA]!))
        }
        let maxX = max(c.rows.map { NanoTime.span(t0, $0.timeNs) }.max() ?? 0, 1e-6)
        let maxY = max(total.values.max() ?? 0, 1)
        func px(_ x: Double) -> Double { l + x / maxX * (w - l - r) }
        func py(_ y: Double) -> Double { h - b - y / maxY * (h - t - b) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"bytes over time, conversation \(c.id)\">"
        s += "<line x1=\"\(l)\" y1=\"\(h - b)\" x2=\"\(w - r)\" y2=\"\(h - b)\" class=\"axis\"/><line x1=\"\(l)\" y1=\"\(t)\" x2=\"\(l)\" y2=\"\(h - b)\" class=\"axis\"/>"
        let decimals = max(3, Int(-log10(maxX).rounded(.down)) + 2)
        for k in 0...4 {
            let yv = maxY * Double(k) / 4, xv = maxX * Double(k) / 4
            s += "<text x=\"\(l - 6)\" y=\"\(py(yv) + 4)\" class=\"bit\" text-anchor=\"end\">\(Int(yv))</text>"
            s += "<text x=\"\(px(xv))\" y=\"\(h - b + 16)\" class=\"bit\" text-anchor=\"middle\">\(String(format: "%.*f", decimals, xv))</text>"
        }
        s += "<text x=\"\((l + w - r) / 2)\" y=\"\(h - 6)\" class=\"bit\" text-anchor=\"middle\">seconds since the first packet</text>"
        s += "<text x=\"12\" y=\"14\" class=\"bit\">payload bytes sent (cumulative)</text>"
        for (i, (fromA, pts)) in series.enumerated() {
            // A step line: the total jumps when a segment is sent.
            var d = ""
            var last = (0.0, 0.0)
            for (j, p) in pts.enumerated() {
                if j == 0 { d += "M\(px(p.0)),\(py(p.1))" } else { d += " L\(px(p.0)),\(py(last.1)) L\(px(p.0)),\(py(p.1))" }
                last = p
            }
            d += " L\(px(maxX)),\(py(last.1))"
            let color = fromA ? "#1d4ed8" : "#15803d"
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            let name = fromA ? "\(c.a) -> \(c.b)" : "\(c.b) -> \(c.a)"
            s += "<text x=\"\(l + 10)\" y=\"\(t + 14 + Double(i) * 16)\" class=\"lbl\" fill=\"\(color)\">\(esc(name)): \(Int(total[fromA]!)) bytes</text>"
        }
        return s + "</svg>"
    }
}
