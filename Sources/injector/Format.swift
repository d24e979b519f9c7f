// Small formatting helpers shared by the text and JSON renderers.
import Foundation
import Netlab

enum Fmt {
    /// "2025-03-01T10:00:00.000300Z" (any Int64: libnetlab's nl_time_iso8601)
    static func isoTime(_ ns: Int64) -> String { NanoTime.iso8601(ns, nano: false) }

    /// "10:00:00.000300"
    static func clock(_ ns: Int64) -> String {
        let iso = isoTime(ns)
        let t = iso.firstIndex(of: "T")!
        return String(iso[iso.index(after: t)...].dropLast())
    }

    static func hex16(_ v: UInt16) -> String { String(format: "0x%04x", v) }
    static func word(_ v: UInt16) -> String { String(format: "%04x", v) }

    /// Message text made safe for a terminal line: escapes, cut to `limit` characters.
    static func preview(_ bytes: ArraySlice<UInt8>, limit: Int) -> String { safePreview(bytes, limit: limit) }

    static func grouped(_ n: UInt64) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }

    static func direction(_ p: Packet) -> String { p.fromClient ? "C→S" : "S→C" }

    /// Display width of a string, counting East Asian wide characters and emoji as 2 columns.
    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            let v = u.value
            if v == 0x200d || (0xfe00...0xfe0f).contains(v) || (0x300...0x36f).contains(v) { return w }
            let wide = (0x1100...0x115f).contains(v) || (0x2e80...0xa4cf).contains(v) || (0xac00...0xd7a3).contains(v)
                || (0xf900...0xfaff).contains(v) || (0xfe30...0xfe4f).contains(v) || (0xff00...0xff60).contains(v)
                || (0xffe0...0xffe6).contains(v) || (0x1f300...0x1faff).contains(v) || (0x20000...0x3fffd).contains(v)
            return w + (wide ? 2 : 1)
        }
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let w = width(s)
        return w >= n ? s : s + String(repeating: " ", count: n - w)
    }

    static func padLeft(_ s: String, _ n: Int) -> String {
        let w = width(s)
        return w >= n ? s : String(repeating: " ", count: n - w) + s
    }
}
