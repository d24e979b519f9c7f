// A small streaming JSON writer: fields come out in the order written (stable
// for readers and diffs), strings are escaped per RFC 8259 by C's text path
// (nl_text_json: no control, C1 or bidirectional character raw), output is indented
// and handed to stdout in 256 KB pieces (or taken whole as `text`). The one JSON strategy
// of every tool: keys come out in the order the code writes them.
import CNetlab
import Foundation

public struct JSONWriter {
    public private(set) var out: [UInt8] = []
    private var first: [Bool] = []   // per open container: nothing written in it yet
    private var inArray: [Bool] = []

    private let streaming: Bool
    private let compact: Bool

    /// streaming: hand the output to stdout in pieces while writing (else keep it all for `text`).
    /// compact: each document on one line (JSON Lines), no indentation.
    public init(streaming: Bool = true, compact: Bool = false) {
        self.streaming = streaming
        self.compact = compact
        out.reserveCapacity(1 << 16)
    }

    private mutating func raw(_ s: String) { out.append(contentsOf: s.utf8) }

    private mutating func newline() {
        if compact { return }
        out.append(10)
        out.append(contentsOf: repeatElement(32, count: 2 * first.count))
    }

    /// What is buffered, as text (for a tool that prints or returns the document whole).
    public var text: String { String(decoding: out, as: UTF8.self) }

    /// The line break that ends the document.
    public mutating func endDocument() { out.append(10) }

    /// Write what is buffered to stdout.
    public mutating func flush() {
        out.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
        out.removeAll(keepingCapacity: true)
    }

    /// Comma, line break and "key": before a value.
    private mutating func lead(_ key: String?) {
        if streaming && out.count >= 1 << 18 { flush() }
        if let last = first.last {
            if !last { out.append(44) }
            first[first.count - 1] = false
            newline()
        }
        if let key {
            string(key)
            out.append(58)
            out.append(32)
        }
    }

    private mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { p in self.escaped(p) }
    }

    /// A string given as UTF-8 bytes.
    public mutating func field(_ key: String?, utf8 b: UnsafeBufferPointer<UInt8>) {
        lead(key)
        escaped(b)
    }

    private mutating func escaped(_ b: UnsafeBufferPointer<UInt8>) {
        out.append(34)
        // In pieces of 64 KiB (cut before a UTF-8 sequence's lead byte), so a large string costs at most
        // NL_TEXT_JSON_MAX times a piece of room, not times its size.
        var start = 0
        while start < b.count, let base = b.baseAddress {
            var end = min(b.count, start + (1 << 16))
            var back = 0
            while end < b.count && back < 3 && b[end] & 0xC0 == 0x80 { end -= 1; back += 1 }
            let n = end - start
            // nl_text_json writes at most NL_TEXT_JSON_MAX bytes per input byte, plus its NUL.
            let room = n * Int(NL_TEXT_JSON_MAX) + 1, at = out.count
            out.append(contentsOf: repeatElement(0, count: room))
            let k = out.withUnsafeMutableBufferPointer { o in
                o.baseAddress!.advanced(by: at).withMemoryRebound(to: CChar.self, capacity: room) {
                    nl_text_json(base + start, n, $0, room)
                }
            }
            out.removeLast(room - k)
            start = end
        }
        out.append(34)
    }

    public mutating func beginObject(_ key: String? = nil) {
        lead(key)
        out.append(123)
        first.append(true)
        inArray.append(false)
    }

    public mutating func endObject() {
        let empty = first.removeLast()
        inArray.removeLast()
        if !empty { newline() }
        out.append(125)
    }

    public mutating func beginArray(_ key: String? = nil) {
        lead(key)
        out.append(91)
        first.append(true)
        inArray.append(true)
    }

    public mutating func endArray() {
        let empty = first.removeLast()
        inArray.removeLast()
        if !empty { newline() }
        out.append(93)
    }

    public mutating func field(_ key: String?, _ v: String?) {
        lead(key)
        if let v { string(v) } else { raw("null") }
    }

    public mutating func field<T: BinaryInteger>(_ key: String?, _ v: T) {
        lead(key)
        raw(String(v))
    }

    public mutating func field(_ key: String?, _ v: Bool) {
        lead(key)
        raw(v ? "true" : "false")
    }

    public mutating func field(_ key: String?, _ v: Double) {
        lead(key)
        raw(v.isFinite ? String(v) : "null")
    }

    public mutating func null(_ key: String?) {
        lead(key)
        raw("null")
    }

    /// An array of integers on one line.
    public mutating func intArray<T: BinaryInteger>(_ key: String?, _ values: [T]) {
        lead(key)
        out.append(91)
        for (i, v) in values.enumerated() {
            if i > 0 { raw(", ") }
            raw(String(v))
        }
        out.append(93)
    }

    /// An array of strings on one line.
    public mutating func stringArray(_ key: String?, _ values: [String]) {
        lead(key)
        out.append(91)
        for (i, v) in values.enumerated() {
            if i > 0 { raw(", ") }
            string(v)
        }
        out.append(93)
    }
}
