// The echo transform: reverse by UTF-8 character, swap ASCII case, keep
// everything else; never split a multi-byte character.
import CNetlab
import Netlab
import XCTest

final class EchoTransformTests: XCTestCase {
    func t(_ s: String) -> String { String(decoding: EchoServer.transform(Array(s.utf8)), as: UTF8.self) }

    func testKnownAnswers() {
        XCTAssertEqual(t("HELLO"), "olleh")
        XCTAssertEqual(t("Hello World"), "DLROw OLLEh")
        XCTAssertEqual(t(""), "")
        XCTAssertEqual(t(" a "), " A ")
        XCTAssertEqual(t("héllo"), "OLLéH")
        XCTAssertEqual(t("日本語 ok"), "KO 語本日")
        XCTAssertEqual(t("a😀b"), "B😀A")
        XCTAssertEqual(t("123-_=+"), "+=_-321")
        XCTAssertEqual(t("\tTab"), "BAt\t")
    }

    func testEveryUSKeyboardCharacter() {
        let printable = (0x20...0x7E).map { Character(UnicodeScalar(UInt8($0))) }
        let s = String(printable)
        let expected = String(s.reversed().map { c -> Character in
            guard let a = c.asciiValue, c.isLetter else { return c }
            return Character(UnicodeScalar(a ^ 0x20))
        })
        XCTAssertEqual(t(s), expected)
    }

    func testInvolutionOnValidUTF8() {
        var rng = SystemRandomNumberGenerator()
        let pool: [String] = ["a", "Z", " ", "é", "ß", "€", "😀", "中", "\u{301}", "~", "\t", "Ω", "𝄞"]
        for _ in 0..<2000 {
            let s = (0..<Int.random(in: 0...40, using: &rng)).map { _ in pool.randomElement(using: &rng)! }.joined()
            let once = EchoServer.transform(Array(s.utf8))
            XCTAssertEqual(once.count, s.utf8.count)
            XCTAssertEqual(String(decoding: EchoServer.transform(once), as: UTF8.self), s)
            XCTAssertEqual(nl_utf8_valid(once, once.count), 1, "the answer to UTF-8 is UTF-8")
        }
    }

    func testBytesThatAreNotUTF8StandAlone() {
        // A stray continuation byte, a truncated sequence and an overlong form are single bytes.
        let input: [UInt8] = [0x41, 0x80, 0xC3, 0x62, 0xE2, 0x82, 0xC0, 0xAF]
        XCTAssertEqual(EchoServer.transform(input), [0xAF, 0xC0, 0x82, 0xE2, 0x42, 0xC3, 0x80, 0x61])
    }

    func testUTF8Validation() {
        func valid(_ b: [UInt8]) -> Bool { nl_utf8_valid(b, b.count) == 1 }
        XCTAssertTrue(valid(Array("plain ✓ 😀".utf8)))
        XCTAssertFalse(valid([0xC0, 0x80]), "overlong NUL")
        XCTAssertFalse(valid([0xED, 0xA0, 0x80]), "surrogate")
        XCTAssertFalse(valid([0xF4, 0x90, 0x80, 0x80]), "above U+10FFFF")
        XCTAssertFalse(valid([0xE2, 0x82]), "truncated")
        XCTAssertFalse(valid([0x80]), "continuation alone")
        XCTAssertTrue(valid([0xF4, 0x8F, 0xBF, 0xBF]), "U+10FFFF")
    }

    /// nl_utf8_valid skips eight ASCII bytes at a time: the same verdict as reading every sequence
    /// with nl_utf8_seq, on ASCII with multi-byte and broken sequences at every offset.
    func testUTF8ValidationWordAtATimeAgreesWithSequences() {
        func bySequence(_ b: [UInt8]) -> Bool {
            var i = 0
            while i < b.count {
                let l = b[i...].withUnsafeBufferPointer { nl_utf8_seq($0.baseAddress, $0.count, nil) }
                if l == 0 { return false }
                i += l
            }
            return true
        }
        let pieces: [[UInt8]] = [[0xC3, 0xA9], [0xE2, 0x9C, 0x93], [0xF0, 0x9F, 0x98, 0x80], [0x80], [0xC0, 0x80],
                                 [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xFF]]
        var g = SystemRandomNumberGenerator()
        var invalidSeen = 0
        for _ in 0..<20_000 {
            var b = (0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...0x7F, using: &g) }
            for _ in 0..<Int.random(in: 0...2, using: &g) {
                b.insert(contentsOf: pieces.randomElement(using: &g)!, at: Int.random(in: 0...b.count, using: &g))
            }
            let want = bySequence(b)
            invalidSeen += want ? 0 : 1
            XCTAssertEqual(nl_utf8_valid(b, b.count) == 1, want, "\(b)")
        }
        XCTAssertGreaterThan(invalidSeen, 1000, "the texts tried include invalid ones")
    }
}
