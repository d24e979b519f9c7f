// analyze's own words on top of the shared Fmt (Sources/Netlab/Format.swift).
import Foundation
import Netlab

extension Fmt {
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
