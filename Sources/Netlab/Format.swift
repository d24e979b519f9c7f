// Fmt: the one set of text formatting helpers every tool uses (times, grouped numbers,
// hex, terminal previews, and padding to a display width). Tools add their own words
// (a direction arrow, a protocol list) in an `extension Fmt` of their own.
import Foundation

public enum Fmt {
    /// "2025-03-01T10:00:00.000300Z" (nine fraction digits when `nano`); any Int64 (C, nl_time.h).
    public static func isoTime(_ ns: Int64, nano: Bool = false) -> String { NanoTime.iso8601(ns, nano: nano) }

    /// Seconds from first to last, for any two times (computed in C without overflow).
    public static func span(_ first: Int64, _ last: Int64) -> Double { NanoTime.span(first, last) }

    /// 1234567 -> "1,234,567" (the sign stays in front).
    public static func grouped<T: BinaryInteger>(_ n: T) -> String {
        let s = String(n)
        var out = ""
        out.reserveCapacity(s.count + s.count / 3)
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 && c != "-" { out += "," }
            out.append(c)
        }
        return out
    }

    /// "0x01bb"
    public static func hex16(_ v: UInt16) -> String { String(format: "0x%04x", v) }

    /// Bytes made safe for one terminal line (C's sanitizer), cut to `limit` characters.
    public static func preview<C: Collection>(_ bytes: C, limit: Int) -> String where C.Element == UInt8 {
        safePreview(bytes, limit: limit)
    }

    /// Display width of a string, counting East Asian wide characters and emoji as 2 columns
    /// and combining marks, variation selectors and joiners as 0.
    public static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            let v = u.value
            if v == 0x200d || (0xfe00...0xfe0f).contains(v) || (0x300...0x36f).contains(v) { return w }
            let wide = (0x1100...0x115f).contains(v) || (0x2e80...0xa4cf).contains(v) || (0xac00...0xd7a3).contains(v)
                || (0xf900...0xfaff).contains(v) || (0xfe30...0xfe4f).contains(v) || (0xff00...0xff60).contains(v)
                || (0xffe0...0xffe6).contains(v) || (0x1f300...0x1faff).contains(v) || (0x20000...0x3fffd).contains(v)
            return w + (wide ? 2 : 1)
        }
    }

    /// s followed by spaces up to n display columns.
    public static func pad(_ s: String, _ n: Int) -> String {
        let w = width(s)
        return w >= n ? s : s + String(repeating: " ", count: n - w)
    }

    /// s after spaces up to n display columns.
    public static func padLeft(_ s: String, _ n: Int) -> String {
        let w = width(s)
        return w >= n ? s : String(repeating: " ", count: n - w) + s
    }
}
