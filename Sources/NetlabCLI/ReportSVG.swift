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
}
