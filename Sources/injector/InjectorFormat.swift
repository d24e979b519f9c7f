// injector's own words on top of the shared Fmt (Sources/Netlab/Format.swift).
import Foundation
import Netlab

extension Fmt {
    /// "10:00:00.000300"
    static func clock(_ ns: Int64) -> String {
        let iso = isoTime(ns)
        let t = iso.firstIndex(of: "T")!
        return String(iso[iso.index(after: t)...].dropLast())
    }

    static func word(_ v: UInt16) -> String { String(format: "%04x", v) }

    static func direction(_ p: Packet) -> String { p.fromClient ? "C→S" : "S→C" }
}
