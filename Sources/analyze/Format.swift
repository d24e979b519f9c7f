// Formatting helpers shared by the text and JSON reports.
import Foundation
import Netlab

enum Fmt {
    /// "2025-03-01T10:00:00.000300Z" (nanoseconds when the capture has them); any Int64 (C, nl_time.h).
    static func isoTime(_ ns: Int64, nano: Bool) -> String { NanoTime.iso8601(ns, nano: nano) }

    /// Seconds from first to last, for any two times (computed in C without overflow).
    static func span(_ first: Int64, _ last: Int64) -> Double { NanoTime.span(first, last) }

    static func grouped<T: BinaryInteger>(_ n: T) -> String {
        let s = String(n)
        var out = ""
        out.reserveCapacity(s.count + s.count / 3)
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 && c != "-" { out += "," }
            out.append(c)
        }
        return out
    }

    static func hex16(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - h.count) + h
    }

    static func pad(_ s: String, _ n: Int) -> String {
        let w = s.count
        return w >= n ? s : s + String(repeating: " ", count: n - w)
    }

    static func padLeft(_ s: String, _ n: Int) -> String {
        let w = s.count
        return w >= n ? s : String(repeating: " ", count: n - w) + s
    }

    /// Bytes made safe for one terminal line: escapes, cut to `limit` characters.
    static func preview<C: Collection>(_ bytes: C, limit: Int) -> String where C.Element == UInt8 {
        safePreview(bytes, limit: limit)
    }

    /// Transport protocols present, in a fixed order.
    static func protocols(_ s: CaptureSummary) -> [String] {
        var p = [String]()
        if s.tcp > 0 { p.append("tcp") }
        if s.udp > 0 { p.append("udp") }
        if s.icmp > 0 { p.append("icmp") }
        if s.icmpv6 > 0 { p.append("icmpv6") }
        if s.otherIP > 0 { p.append("other") }
        return p
    }

    /// Names of the interfaces the file records; SLL2 indexes as "ifindex N".
    static func interfaceNames(_ ifs: [InterfaceSeen]) -> [String] {
        var names = [String]()
        for f in ifs where f.kind == .file { if let n = f.name { names.append(n) } }
        for f in ifs where f.kind == .ifindex { names.append("ifindex \(f.index)") }
        return names
    }

    static func direction(_ fromClient: Bool) -> String { fromClient ? "c2s" : "s2c" }
}
