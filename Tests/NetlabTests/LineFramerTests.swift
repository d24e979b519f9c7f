// The resumable line framer (nl_line): every way a stream can be split into
// reads yields the same lines; CRLF and LF; the 4096-byte limit and recovery.
import CNetlab
import XCTest

/// Feeds chunks through one framer and collects what comes out.
final class Framer {
    var f = nl_line()
    var lines: [[UInt8]] = []
    var tooLong: [Int] = []

    init(max: Int = 4096) { nl_line_init(&f, max) }
    deinit { nl_line_free(&f) }

    private static let collect: nl_line_fn = { ud, line, len, status in
        let me = Unmanaged<Framer>.fromOpaque(ud!).takeUnretainedValue()
        if status == Int32(NL_LINE_TOOLONG.rawValue) {
            XCTAssertNil(line, "an over-long line comes without bytes")
            me.tooLong.append(len)
        } else {
            me.lines.append(Array(UnsafeBufferPointer(start: line, count: len)))
        }
        return 0
    }

    func feed(_ bytes: [UInt8]) {
        var copy = bytes
        let rc = copy.withUnsafeMutableBufferPointer { b in
            nl_line_feed(&f, b.baseAddress, b.count, Framer.collect, Unmanaged.passUnretained(self).toOpaque())
        }
        XCTAssertEqual(rc, 0)
    }

    func finish() {
        XCTAssertEqual(nl_line_finish(&f, Framer.collect, Unmanaged.passUnretained(self).toOpaque()), 0)
    }

    var strings: [String] { lines.map { String(decoding: $0, as: UTF8.self) } }
}

final class LineFramerTests: XCTestCase {
    let stream = Array("NICK alice\r\nLIST\n\nMSG bob héllo ✓\r\nPING x\n".utf8)
    let expected = ["NICK alice", "LIST", "", "MSG bob héllo ✓", "PING x"]

    func testWholeStreamInOneRead() {
        let f = Framer()
        f.feed(stream)
        XCTAssertEqual(f.strings, expected)
        XCTAssertEqual(nl_line_pending(&f.f), 0)
    }

    func testEverySplitIntoTwoReads() {
        for cut in 0...stream.count {
            let f = Framer()
            f.feed(Array(stream[..<cut]))
            f.feed(Array(stream[cut...]))
            XCTAssertEqual(f.strings, expected, "split at \(cut)")
        }
    }

    func testOneByteAtATime() {
        let f = Framer()
        for b in stream { f.feed([b]) }
        XCTAssertEqual(f.strings, expected)
    }

    func testEverySplitIntoThreeReads() {
        for a in 0...stream.count {
            for b in a...stream.count {
                let f = Framer()
                f.feed(Array(stream[..<a]))
                f.feed(Array(stream[a..<b]))
                f.feed(Array(stream[b...]))
                XCTAssertEqual(f.strings, expected, "splits at \(a), \(b)")
            }
        }
    }

    func testPendingIsReportedUntilTheLineEnds() {
        let f = Framer()
        f.feed(Array("MSG bob hal".utf8))
        XCTAssertEqual(nl_line_pending(&f.f), 11)
        XCTAssertTrue(f.lines.isEmpty)
        f.feed(Array("f\n".utf8))
        XCTAssertEqual(f.strings, ["MSG bob half"])
        XCTAssertEqual(nl_line_pending(&f.f), 0)
    }

    func testLineOfExactlyTheLimitIsAccepted() {
        for ending in ["\n", "\r\n"] {
            for cut in [0, 1, 4095, 4096, 4097] {
                let line = [UInt8](repeating: 0x61, count: 4096) + Array(ending.utf8)
                let f = Framer()
                f.feed(Array(line[..<min(cut, line.count)]))
                f.feed(Array(line[min(cut, line.count)...]))
                XCTAssertEqual(f.lines.map(\.count), [4096], "ending \(ending.debugDescription) cut \(cut)")
                XCTAssertEqual(f.tooLong, [])
            }
        }
    }

    func testOverLongLineIsReportedOnceAndSkipped() {
        for cut in [0, 100, 4096, 4097, 4098, 9000] {
            let long = [UInt8](repeating: 0x62, count: 9000) + [0x0A]
            let all = long + Array("PING after\n".utf8)
            let f = Framer()
            f.feed(Array(all[..<cut]))
            f.feed(Array(all[cut...]))
            XCTAssertEqual(f.tooLong.count, 1, "cut \(cut)")
            XCTAssertGreaterThan(f.tooLong.first ?? 0, 4096)
            XCTAssertEqual(f.strings, ["PING after"], "framing resumes after the long line (cut \(cut))")
        }
    }

    func testLimitPlusOneWithoutCRIsTooLong() {
        let f = Framer()
        f.feed([UInt8](repeating: 0x63, count: 4097) + [0x0A])
        XCTAssertEqual(f.tooLong.count, 1)
        XCTAssertTrue(f.lines.isEmpty)
        f.feed(Array("ok\n".utf8))
        XCTAssertEqual(f.strings, ["ok"])
    }

    func testFinishDeliversAnUnterminatedLastLine() {
        let f = Framer()
        f.feed(Array("QUIT".utf8))
        f.finish()
        XCTAssertEqual(f.strings, ["QUIT"])
        let g = Framer()
        g.feed(Array("PING\r".utf8))
        g.finish()
        XCTAssertEqual(g.strings, ["PING"], "a trailing CR is the start of a CRLF")
    }

    func testSmallLimit() {
        let f = Framer(max: 3)
        f.feed(Array("abc\nabcd\nab\r\nabc\r\nabcd".utf8))
        f.finish()
        XCTAssertEqual(f.strings, ["abc", "ab", "abc"])
        XCTAssertEqual(f.tooLong.count, 2)
    }
}

final class ByteBufferTests: XCTestCase {
    func testCapIsHardAndNothingIsAllocatedUntilNeeded() {
        var b = nl_buf()
        nl_buf_init(&b, 10)
        XCTAssertNil(b.data)
        XCTAssertEqual(nl_buf_append(&b, "12345678", 8), 0)
        XCTAssertEqual(nl_buf_append(&b, "abc", 3), NL_ELIMIT.rawValue, "11 bytes do not fit a 10-byte cap")
        XCTAssertEqual(b.len, 8, "a refused append changes nothing")
        XCTAssertEqual(nl_buf_append(&b, "ab", 2), 0)
        nl_buf_consume(&b, 4)
        XCTAssertEqual(b.len, 6)
        XCTAssertEqual(nl_buf_append(&b, "wxyz", 4), 0, "consumed room is reused")
        XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: nl_buf_head(&b), count: b.len), as: UTF8.self), "5678abwxyz")
        nl_buf_consume(&b, 10)
        XCTAssertNil(b.data, "a drained buffer gives its memory back")
        nl_buf_clear(&b)
    }
}
