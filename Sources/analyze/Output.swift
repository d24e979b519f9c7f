// Output: the report's bytes, appended without intermediate Strings and written
// to stdout in 256 KB pieces, so a capture with 100,000 conversations prints
// quickly and in constant memory.
import Foundation

struct Output {
    private(set) var buf: [UInt8] = []
    private static let digits: [UInt8] = Array("0123456789".utf8)

    init() { buf.reserveCapacity(1 << 18) }

    mutating func write(_ s: String) {
        var s = s
        s.withUTF8 { buf.append(contentsOf: $0) }
        flushIfFull()
    }

    mutating func write(_ b: UnsafeBufferPointer<UInt8>) { buf.append(contentsOf: b) }
    mutating func byte(_ b: UInt8) { buf.append(b) }
    mutating func newline() { buf.append(10); flushIfFull() }
    mutating func spaces(_ n: Int) { if n > 0 { buf.append(contentsOf: repeatElement(32, count: n)) } }

    /// Decimal digits of v.
    mutating func int<T: BinaryInteger>(_ v: T) {
        var n = UInt64(v), tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = t.count
            repeat {
                i -= 1
                t[i] = Output.digits[Int(n % 10)]
                n /= 10
            } while n > 0
            buf.append(contentsOf: t[i...])
        }
    }

    static func width<T: BinaryInteger>(_ v: T) -> Int {
        var n = UInt64(v), w = 1
        while n >= 10 { n /= 10; w += 1 }
        return w
    }

    /// "a/b" right-aligned in width columns.
    mutating func pair<T: BinaryInteger>(_ a: T, _ b: T, width: Int) {
        spaces(width - Output.width(a) - 1 - Output.width(b))
        int(a); byte(47); int(b)
    }

    mutating func flushIfFull() { if buf.count >= 1 << 18 { flush() } }

    mutating func flush() {
        buf.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
        buf.removeAll(keepingCapacity: true)
    }
}
