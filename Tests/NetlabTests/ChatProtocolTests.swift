// The chat command parser and the client's rendering and translation, with
// terminal neutralisation of everything a server or another user sends.
import CNetlab
import Netlab
import XCTest

final class ChatProtocolTests: XCTestCase {
    struct Parsed: Equatable {
        var verb: String, arg: String, text: String?, ok: Bool
    }

    func parse(_ s: String) -> Parsed {
        let bytes = Array(s.utf8)
        var cmd = nl_chat_cmd()
        let rc = nl_chat_parse(bytes, bytes.count, &cmd)
        func str(_ p: UnsafePointer<UInt8>?, _ n: Int) -> String {
            guard let p else { return "" }
            return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        }
        let verb = cmd.verb == Int32(NL_CHAT_UNKNOWN.rawValue) ? "?" : String(cString: nl_chat_verb_name(cmd.verb))
        return Parsed(verb: verb, arg: str(cmd.arg, cmd.arg_len), text: cmd.has_text != 0 ? str(cmd.text, cmd.text_len) : nil,
                      ok: rc == 0)
    }

    func testVerbsAndArguments() {
        XCTAssertEqual(parse("NICK alice"), Parsed(verb: "NICK", arg: "alice", text: nil, ok: true))
        XCTAssertEqual(parse("nick alice"), Parsed(verb: "NICK", arg: "alice", text: nil, ok: true), "verbs ignore case")
        XCTAssertEqual(parse("  LIST  "), Parsed(verb: "LIST", arg: "", text: nil, ok: true))
        XCTAssertEqual(parse("MSG bob  two spaces kept "), Parsed(verb: "MSG", arg: "bob", text: " two spaces kept ", ok: true))
        XCTAssertEqual(parse("MSG bob "), Parsed(verb: "MSG", arg: "bob", text: "", ok: true), "an empty message is a message")
        XCTAssertEqual(parse("PING"), Parsed(verb: "PING", arg: "", text: nil, ok: true))
        XCTAssertEqual(parse("PING tok en"), Parsed(verb: "PING", arg: "", text: "tok en", ok: true))
        XCTAssertEqual(parse("QUIT bye now"), Parsed(verb: "QUIT", arg: "", text: "bye now", ok: true))
        XCTAssertEqual(parse("SAY hi all"), Parsed(verb: "SAY", arg: "", text: "hi all", ok: true))
        XCTAssertEqual(parse("FOO bar").verb, "?")
        XCTAssertEqual(parse("").verb, "")
    }

    func testArityErrors() {
        XCTAssertFalse(parse("MSG bob").ok)
        XCTAssertFalse(parse("MSG").ok)
        XCTAssertFalse(parse("NICK").ok)
        XCTAssertFalse(parse("NICK a b").ok)
        XCTAssertFalse(parse("LIST everyone").ok)
        XCTAssertFalse(parse("SAY").ok)
        XCTAssertFalse(parse("CHAT").ok)
    }

    func testNames() {
        func valid(_ s: String) -> Bool { nl_chat_name_valid(s, s.utf8.count) == 1 }
        XCTAssertTrue(valid("a"))
        XCTAssertTrue(valid("Bob_the-2nd"))
        XCTAssertTrue(valid(String(repeating: "x", count: 32)))
        XCTAssertFalse(valid(String(repeating: "x", count: 33)))
        XCTAssertFalse(valid(""))
        XCTAssertFalse(valid("bob!"))
        XCTAssertFalse(valid("bøb"))
        XCTAssertFalse(valid("a b"))
    }

    func sanitize(_ b: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: b.count * 8 + 1)
        _ = nl_text_sanitize(b, b.count, &out, out.count)
        return String(cString: out)
    }

    func testTerminalNeutralisation() {
        XCTAssertEqual(sanitize(Array("plain text ✓\tok".utf8)), "plain text ✓\tok")
        XCTAssertEqual(sanitize(Array("\u{1b}[31mred\u{1b}]0;title\u{07}".utf8)), "^[[31mred^[]0;title^G")
        XCTAssertEqual(sanitize([0x0D, 0x7F, 0x00]), "^M^?^@")
        XCTAssertEqual(sanitize(Array("\u{9b}2J".utf8)), "<U+009B>2J", "C1 CSI")
        XCTAssertEqual(sanitize(Array("abc\u{202e}def".utf8)), "abc<U+202E>def", "bidi override")
        XCTAssertEqual(sanitize([0x41, 0xFF, 0x9B, 0x42]), "A\\xFF\\x9BB", "bytes that are not UTF-8")
        // Nothing a terminal acts on survives, whatever the input.
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...64)).map { _ in UInt8.random(in: 0...255) }
            let out = Array(sanitize(bytes).utf8)
            XCTAssertFalse(out.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }, "control byte left in \(bytes)")
            XCTAssertFalse(sanitize(bytes).unicodeScalars.contains { (0x80...0x9F).contains($0.value) })
        }
    }

    func testTextSafety() {
        func safe(_ b: [UInt8]) -> Bool { nl_chat_text_safe(b, b.count) == 1 }
        XCTAssertTrue(safe(Array("MSG bob hello\tworld ✓ 日本語 \u{a0}".utf8)), "TAB, UTF-8 and U+00A0 pass")
        XCTAssertTrue(safe([]))
        for c in (0x00...0x1F).filter({ $0 != 0x09 }) + [0x7F] {
            XCTAssertFalse(safe([0x61, UInt8(c), 0x62]), "C0/DEL \(c)")
        }
        for c in 0x80...0x9F { XCTAssertFalse(safe([0x61, 0xC2, UInt8(c)]), "C1 U+00\(String(c, radix: 16))") }
        XCTAssertTrue(safe([0xC2, 0xA0]), "U+00A0 is not C1")
        XCTAssertTrue(safe([0xC3, 0x85]), "U+00C5 has 0x85 as its second byte, but is a letter")
    }

    /// nl_chat_text_safe reads eight printable ASCII bytes at a time: the same verdict as the rule read
    /// byte by byte, on lines made mostly of printable ASCII with the bytes that matter anywhere in them
    /// (at every offset from the eight-byte steps, at the ends, and 0xC2 before and after a step).
    func testTextSafetyWordAtATimeAgreesWithTheRule() {
        func rule(_ b: [UInt8]) -> Bool {
            for (i, c) in b.enumerated() {
                if (c < 0x20 && c != 0x09) || c == 0x7F { return false }
                if c == 0xC2 && i + 1 < b.count && (0x80...0x9F).contains(b[i + 1]) { return false }
            }
            return true
        }
        let odd: [UInt8] = [0x00, 0x09, 0x0A, 0x1B, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xC2, 0xC3, 0xFF]
        var g = SystemRandomNumberGenerator()
        var unsafeSeen = 0
        for _ in 0..<20_000 {
            var b = (0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0x20...0x7E, using: &g) }
            for _ in 0..<Int.random(in: 0...2, using: &g) where !b.isEmpty {
                b[Int.random(in: 0..<b.count, using: &g)] = odd.randomElement(using: &g)!
            }
            let want = rule(b)
            unsafeSeen += want ? 0 : 1
            XCTAssertEqual(nl_chat_text_safe(b, b.count) == 1, want, "\(b)")
        }
        XCTAssertGreaterThan(unsafeSeen, 1000, "the lines tried include unsafe ones")
    }

    func testClientRendering() {
        func r(_ s: String) -> String { ChatClient.render(Array(s.utf8)) }
        XCTAssertEqual(r("FROM bob hi there"), "<bob> hi there")
        XCTAssertEqual(r("FROM bob \u{1b}[2Jgotcha"), "<bob> ^[[2Jgotcha")
        XCTAssertEqual(r("REQUEST bob"), "* bob asks to chat: /accept bob or /decline bob")
        XCTAssertEqual(r("ACCEPTED bob"), "* bob accepted: you are talking to bob")
        XCTAssertEqual(r("GONE bob"), "* bob went offline")
        XCTAssertEqual(r("USERS 2 alice bob"), "* 2 online: alice bob")
        XCTAssertEqual(r("OK NICK alice"), "* you are alice")
        XCTAssertEqual(r("ERR 404 no such user: zed"), "! no such user: zed (error 404)")
        XCTAssertEqual(r("ROOM carol hello all"), "#room <carol> hello all")
        XCTAssertEqual(r("SOMETHING new"), "* SOMETHING new")
        XCTAssertEqual(r("PROBE someone asked for your name; this line checks that your connection is still there (nothing to answer)"),
                       "* someone asked for your name: the server checked that you are still connected (you keep it)")
    }

    func testClientTranslation() {
        func tr(_ current: String, _ s: String) -> (Int32, String, String) {
            var out = [CChar](repeating: 0, count: 8192), note = [CChar](repeating: 0, count: 256)
            let bytes = Array(s.utf8)
            let n = nl_chat_client_translate(current, bytes, bytes.count, &out, out.count, &note, note.count)
            return (n, n > 0 ? String(cString: out) : "", String(cString: note))
        }
        XCTAssertEqual(tr("", "/chat bob").1, "CHAT bob")
        XCTAssertEqual(tr("", "/accept bob").1, "ACCEPT bob")
        XCTAssertEqual(tr("", "/list").1, "LIST")
        XCTAssertEqual(tr("", "/quit").1, "QUIT")
        XCTAssertEqual(tr("bob", "hello bob").1, "MSG bob hello bob")
        XCTAssertEqual(tr("bob", "//slash").1, "MSG bob /slash")
        XCTAssertEqual(tr("bob", "/leave").1, "LEAVE bob")
        XCTAssertEqual(tr("bob", "/msg carol hi").1, "MSG carol hi")
        XCTAssertEqual(tr("", "/raw PING x").1, "PING x")
        XCTAssertEqual(tr("", "hello").0, -1, "no session: nothing is sent")
        XCTAssertTrue(tr("", "hello").2.contains("no session"))
        XCTAssertEqual(tr("", "/frobnicate").0, -1)
        XCTAssertTrue(tr("", "/frobnicate").2.contains("unknown command"))
        XCTAssertEqual(tr("", "/chat").0, -1)
        XCTAssertEqual(tr("", "").0, 0)
    }
}
