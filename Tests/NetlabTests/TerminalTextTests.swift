// One text path (issue 11): every byte a tool shows on a terminal goes through C's nl_text.c.
// U+202E (RIGHT-TO-LEFT OVERRIDE) and the other bidirectional controls reach no terminal
// unmasked: not in a chat message the client shows, not in a capture payload the packet tools
// preview or follow. The Swift helpers are thin calls into C; their notation is checked here.
// Issue 20 item 5: a capture's interface names, descriptions and comments and a chat user's
// name from an OK NICK line reach no output of analyze raw (text, --packets, --answers, --follow,
// each as text and JSON), and JSON strings hold controls only as RFC 8259 escapes.
import CNetlab
import Foundation
import Netlab
import XCTest

final class TerminalTextTests: XCTestCase {
    /// U+202E in UTF-8.
    static let rlo: [UInt8] = [0xE2, 0x80, 0xAE]

    static func containsRLO(_ d: Data) -> Bool { d.range(of: Data(rlo)) != nil }

    func testPreviewNotationComesFromC() {
        let b = Array("a\nb\r\t\\".utf8) + [0x01, 0x7F, 0xC2, 0x85] + Array("é".utf8)
        XCTAssertEqual(safePreview(b, limit: 100), "a\\nb\\r\\t\\\\\\x01\\x7f\\x85é")
        XCTAssertEqual(safePreview(Array("abcdef".utf8), limit: 3), "abc…")
        XCTAssertEqual(safePreview(Array("abc".utf8), limit: 3), "abc")
        XCTAssertEqual(safePreview(Array("abc".utf8), limit: 0), "…")
        XCTAssertEqual(safePreview([UInt8](), limit: 0), "")
        XCTAssertEqual(safePreview([0xFF, 0x41], limit: 10), "\u{FFFD}A")
        // Lines and tabs kept for --follow, every other control escaped.
        XCTAssertEqual(safeStreamText(Array("a\nb\tc\r".utf8) + [0x1B]), "a\nb\tc\\x0d\\x1b")
        // A preview longer than any first guess of the buffer size.
        let long = [UInt8](repeating: 0x01, count: 5000)
        XCTAssertEqual(safePreview(long, limit: 5000), String(repeating: "\\x01", count: 5000))
        // Only the shown part of a large message is handed to C; the ellipsis still says more follows.
        XCTAssertEqual(safePreview([UInt8](repeating: 0x61, count: 1 << 24), limit: 5), "aaaaa…")
        XCTAssertEqual(safePreview(Array("ééééé".utf8), limit: 5), "ééééé")
        XCTAssertEqual(safePreview(Array("éééééé".utf8), limit: 5), "ééééé…")
    }

    func testBidiControlsAreMaskedOnEveryPath() {
        for cp in [0x202E, 0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029] {
            let s = "ok" + String(UnicodeScalar(UInt32(cp))!) + "evil"
            let mask = String(format: "<U+%04X>", cp)
            for shown in [safePreview(Array(s.utf8), limit: 100), safeStreamText(Array(s.utf8)),
                          ChatClient.render(Array(("FROM mallory " + s).utf8))] {
                XCTAssertFalse(shown.unicodeScalars.contains { $0.value == UInt32(cp) }, "U+\(String(cp, radix: 16)) in \(shown)")
                XCTAssertTrue(shown.contains(mask), shown)
            }
        }
    }

    func testNicknameRuleIsC() {
        for name in ["alice", "A-b_9", String(repeating: "x", count: 32)] { XCTAssertTrue(chatNameValid(name), name) }
        for name in ["", String(repeating: "x", count: 33), "al ice", "élan", "a\u{202E}b", "a.b"] {
            XCTAssertFalse(chatNameValid(name), name)
        }
        let r = try? TestSupport.run(TestSupport.product("chatclient"), ["--nick", "a\u{202E}b"])
        XCTAssertEqual(r?.status, 64)
    }

    /// A server that says U+202E in a chat message: the client's output (pipe mode) shows it masked.
    func testChatMessageWithRLOReachesTheTerminalMasked() throws {
        let dir = try makeTempDir("rlo-chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        // One connection: greet, say a message and a room line carrying U+202E, then close.
        let server = try PythonServer(script: """
        import socket, sys
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        s.settimeout(20)
        c, _ = s.accept()
        c.sendall("Welcome\\nFROM mallory hi \\u202egnp.exe\\nROOM mallory \\u202ertl\\n".encode())
        c.close(); s.close()
        """, in: dir)
        let port = server.port
        // Input stays open until the server has closed, so the client reads everything it is sent.
        let r = try withExtendedLifetime(server) {
            try TestSupport.sh("sleep 3 | '\(TestSupport.product("chatclient"))' --host 127.0.0.1 --port \(port)")
        }
        XCTAssertTrue(r.stdout.contains("<U+202E>gnp.exe"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("<U+202E>rtl"), r.stdout + r.stderr)
        XCTAssertFalse(Self.containsRLO(r.stdoutData), r.stdout)
        XCTAssertFalse(Self.containsRLO(Data(r.stderr.utf8)), r.stderr)
    }

    /// A capture whose payload holds U+202E: the injector's preview, analyze's --follow and its
    /// report show it masked, never raw.
    func testCapturePayloadWithRLOReachesTheTerminalMasked() throws {
        let dir = try makeTempDir("rlo-capture")
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("rlo.csv"), pcap = dir.appendingPathComponent("rlo.pcap")
        try """
        msg_id,app_protocol,src_app,dst_app,message,timestamp
        1,CHAT,server,client,Welcome,2025-03-01T10:00:00.000Z
        2,CHAT,client,server,SAY invoice\u{202E}fdp.exe,2025-03-01T10:00:01.000Z

        """.write(to: csv, atomically: true, encoding: .utf8)
        let inj = try TestSupport.run(TestSupport.product("injector"), [csv.path, "--write", pcap.path, "--no-inject"])
        XCTAssertEqual(inj.status, 0, inj.stderr)
        XCTAssertFalse(Self.containsRLO(inj.stdoutData), inj.stdout)
        XCTAssertTrue(inj.stdout.contains("<U+202E>"), inj.stdout)

        let follow = try TestSupport.run(TestSupport.product("analyze"), [pcap.path, "--follow", "1"])
        XCTAssertEqual(follow.status, 0, follow.stderr)
        XCTAssertTrue(follow.stdout.contains("SAY invoice<U+202E>fdp.exe"), follow.stdout)
        XCTAssertFalse(Self.containsRLO(follow.stdoutData), follow.stdout)

        let report = try TestSupport.run(TestSupport.product("analyze"), [pcap.path, "--find", "invoice"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertFalse(Self.containsRLO(report.stdoutData), report.stdout)
    }

    // ---- issue 20 item 5: strings from a capture, in every output mode of analyze ----

    /// JSON strings are escaped by C (nl_text_json): RFC 8259's escapes for C0, \u00xx for DEL and the C1
    /// controls, \uxxxx for the bidirectional controls and line separators; everything else as it is.
    func testJSONStringNotationComesFromC() {
        var w = JSONWriter(streaming: false)
        w.field(nil, "q\"b\\\u{1b}]0;t\u{07}\u{08}\u{0c}\n\r\t\u{7f}\u{9b}\u{85}\u{202e}\u{2028}é漢😀/")
        XCTAssertEqual(w.text, #""q\"b\\\u001b]0;t\u0007\b\f\n\r\t\u007f\u009b\u0085\u202e\u2028é漢😀/""#)
        // Bytes that are not UTF-8 (a raw C1 byte, a truncated sequence) become U+FFFD: JSON text is UTF-8.
        var v = JSONWriter(streaming: false)
        let bad: [UInt8] = [0x61, 0x9B, 0x32, 0x4A, 0xE2, 0x80]
        bad.withUnsafeBufferPointer { v.field(nil, utf8: $0) }
        XCTAssertEqual(v.text, "\"a\u{FFFD}2J\u{FFFD}\u{FFFD}\"")
        let parsed = try? JSONSerialization.jsonObject(with: Data(w.text.utf8), options: .fragmentsAllowed) as? String
        XCTAssertEqual(parsed, "q\"b\\\u{1b}]0;t\u{07}\u{08}\u{0c}\n\r\t\u{7f}\u{9b}\u{85}\u{202e}\u{2028}é漢😀/")
        // A string longer than the writer's 64 KiB pieces, characters of 1-4 bytes across every cut.
        let long = String(repeating: "aé漢😀\u{9b}", count: 20_000)
        var l = JSONWriter(streaming: false)
        l.field(nil, long)
        XCTAssertEqual(try? JSONSerialization.jsonObject(with: Data(l.text.utf8), options: .fragmentsAllowed) as? String, long)
        XCTAssertFalse(l.text.contains("\u{FFFD}"))
    }

    static let esc: [UInt8] = [0x1B]
    /// An interface name with an OSC title, a screen clear, CR LF, CSI as a UTF-8 C1 control and as a raw byte, and U+202E.
    static let hostileName: [UInt8] = Array("eth0".utf8) + esc + Array("]0;pwned".utf8) + [0x07] + esc + Array("[2J".utf8)
        + [0x0D, 0x0A, 0xC2, 0x9B] + Array("31m".utf8) + [0x9B] + Array("2J".utf8) + rlo
    static let hostileDescription: [UInt8] = Array("desc".utf8) + esc + Array("[2J".utf8) + esc + Array("]0;t".utf8)
        + [0x07, 0x0D, 0x0A, 0x08, 0x7F, 0xE2, 0x80, 0xA8]
    static let hostileComment: [UInt8] = Array("zq-comment".utf8) + esc + Array("[2J".utf8) + [0xC2, 0x9D] + Array("0;t".utf8) + [0x07]
    /// A chat user's name as an OK NICK line carries it (the server's word is all the capture has).
    static let hostileNick: [UInt8] = Array("ev".utf8) + esc + Array("[2Jil".utf8) + esc + Array("]0;t".utf8) + [0x07, 0xC2, 0x9B] + rlo

    /// A pcapng whose section, interface and packet options are hostile, holding a chat conversation
    /// (greeting, NICK, OK NICK, a message) and an echo one whose payloads carry escape sequences too.
    static func hostileCapture() -> [UInt8] {
        typealias C = CaptureBytes
        func opts(_ o: [(Int, [UInt8])]) -> [UInt8] { o.flatMap { C.option($0.0, $0.1) } + C.le32(0) }
        var b = C.block(0x0a0d0d0a, C.le32(0x1a2b3c4d) + C.le16(1) + C.le16(0) + [UInt8](repeating: 0xff, count: 8)
                        + opts([(1, hostileComment), (2, hostileComment), (3, hostileComment), (4, hostileComment)]))
        b += C.block(1, C.le16(101) + C.le16(0) + C.le32(0)
                     + opts([(2, hostileName), (3, hostileDescription), (1, hostileComment), (12, hostileComment)]))
        let c: [UInt8] = [10, 0, 0, 1], s: [UInt8] = [10, 0, 0, 2]
        var frames: [[UInt8]] = []
        func conversation(_ sport: Int, _ dport: Int, _ lines: [(Bool, [UInt8])]) {
            var cs: UInt32 = 1000, ss: UInt32 = 5000
            frames.append(Pkt.tcp4(src: c, dst: s, sport: sport, dport: dport, seq: cs, flags: Pkt.SYN))
            frames.append(Pkt.tcp4(src: s, dst: c, sport: dport, dport: sport, seq: ss, ack: cs + 1, flags: Pkt.SYN | Pkt.ACK))
            cs += 1; ss += 1
            frames.append(Pkt.tcp4(src: c, dst: s, sport: sport, dport: dport, seq: cs, ack: ss, flags: Pkt.ACK))
            for (fromClient, p) in lines {
                if fromClient {
                    frames.append(Pkt.tcp4(src: c, dst: s, sport: sport, dport: dport, seq: cs, ack: ss, flags: Pkt.PSH | Pkt.ACK, payload: p))
                    cs += UInt32(p.count)
                    frames.append(Pkt.tcp4(src: s, dst: c, sport: dport, dport: sport, seq: ss, ack: cs, flags: Pkt.ACK))
                } else {
                    frames.append(Pkt.tcp4(src: s, dst: c, sport: dport, dport: sport, seq: ss, ack: cs, flags: Pkt.PSH | Pkt.ACK, payload: p))
                    ss += UInt32(p.count)
                    frames.append(Pkt.tcp4(src: c, dst: s, sport: sport, dport: dport, seq: cs, ack: ss, flags: Pkt.ACK))
                }
            }
        }
        let text = Array("hi ".utf8) + esc + Array("]0;x".utf8) + [0x07] + esc + Array("[2J".utf8) + [0x0D, 0xC2, 0x9B] + rlo
        conversation(40001, 7000, [(false, Array("HELLO netlab-chat ".utf8) + text + [10]),
                                   (true, Array("NICK ".utf8) + hostileNick + [10]),
                                   (false, Array("OK NICK ".utf8) + hostileNick + [10]),
                                   (true, Array("MSG bob ".utf8) + text + [10])])
        conversation(40002, 7007, [(false, Array("Welcome ".utf8) + text + [10]), (true, text + [10]),
                                   (false, text.reversed() + [10])])
        for (i, f) in frames.enumerated() {
            let body = C.le32(0) + C.le32(0) + C.le32(1_000_000 + i) + C.le32(f.count) + C.le32(f.count) + C.pad4(f)
                + opts([(1, hostileComment)])
            b += C.block(6, body)
        }
        return b
    }

    /// The first thing in output a terminal would act on, or nil: bytes that are not UTF-8, C0 controls but LF
    /// (and TAB where `tabs`), DEL, C1 controls, bidirectional controls and line separators.
    static func rawControl(_ d: Data, tabs: Bool = false) -> String? {
        guard let s = String(data: d, encoding: .utf8) else { return "output that is not UTF-8" }
        let bidi: Set<UInt32> = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
                                 0x2069, 0x2028, 0x2029]
        var seen = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            let v = u.value
            if (v < 0x20 && v != 0x0A && !(tabs && v == 0x09)) || (0x7F...0x9F).contains(v) || bidi.contains(v) {
                return String(format: "U+%04X after \"%@\"", v, String(String(seen).suffix(40)))
            }
            seen.append(u)
        }
        return nil
    }

    func testCaptureStringsReachNoOutputModeRaw() throws {
        let dir = try makeTempDir("hostile-capture")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = dir.appendingPathComponent("hostile.pcapng").path
        try Data(Self.hostileCapture()).write(to: URL(fileURLWithPath: pcap))
        let analyze = TestSupport.product("analyze")
        // What a JSON reader must get: the capture's strings, a byte that is not UTF-8 read as U+FFFD.
        let name = String(decoding: Self.hostileName, as: UTF8.self)
        let description = String(decoding: Self.hostileDescription, as: UTF8.self)
        let nick = String(decoding: Self.hostileNick, as: UTF8.self)
        for mode in [[], ["--packets"], ["--answers"], ["--follow", "1"], ["--follow", "2"], ["--json"],
                     ["--packets", "--json"], ["--answers", "--json"], ["--follow", "1", "--json"]] {
            let r = try TestSupport.run(analyze, [pcap] + mode)
            let what = "analyze " + mode.joined(separator: " ")
            XCTAssertEqual(r.status, 0, what + ": " + r.stderr)
            XCTAssertNil(Self.rawControl(r.stdoutData, tabs: mode.first == "--follow"), what)
            XCTAssertNil(Self.rawControl(Data(r.stderr.utf8)), what + " (stderr)")
            XCTAssertFalse(r.stdout.contains("zq-comment"), what + ": a comment is never shown")
            if mode.contains("--json") {
                let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any], what)
                if mode == ["--answers", "--json"] {
                    let users = (doc["chat_users"] as? [[String: Any]])?.map { $0["name"] as? String }
                    XCTAssertEqual(users, [nick], what)
                    let convs = try XCTUnwrap(doc["conversations"] as? [[String: Any]])
                    let ifs = (convs.first?["answers"] as? [String: Any])?["interfaces"] as? [[String: Any]]
                    XCTAssertEqual(ifs?.first?["name"] as? String, name, what)
                    XCTAssertEqual(ifs?.first?["description"] as? String, description, what)
                } else {
                    let ifs = try XCTUnwrap(doc["interface_details"] as? [[String: Any]], what)
                    XCTAssertEqual(ifs.map { $0["name"] as? String }, [name], what)
                    XCTAssertEqual(ifs.map { $0["description"] as? String }, [description], what)
                    XCTAssertEqual(doc["interfaces"] as? [String], [name], what)
                }
                continue
            }
            // Text: the notation of the one text path (nl_text_escape), visible and inert.
            XCTAssertTrue(r.stdout.contains("eth0\\x1b]0;pwned\\x07\\x1b[2J\\r\\n\\x9b31m\u{FFFD}2J<U+202E>"), what + ": " + r.stdout)
            if mode == ["--answers"] {
                XCTAssertTrue(r.stdout.contains("chat user   ev\\x1b[2Jil\\x1b]0;t\\x07\\x9b<U+202E>: client port 40001"), r.stdout)
                XCTAssertTrue(r.stdout.contains("chat user         ev\\x1b[2Jil\\x1b]0;t\\x07\\x9b<U+202E>\n"), r.stdout)
            }
            if mode == ["--follow", "1"] {
                XCTAssertTrue(r.stdout.contains("OK NICK ev\\x1b[2Jil\\x1b]0;t\\x07\\x9b<U+202E>\n"), r.stdout)
            }
        }
    }

    /// The same end to end with generated captures (fuzz/escapes.py): every output mode of the built
    /// analyze, on a pipe and on a terminal (a pty: colour on), stdout and stderr checked byte by byte.
    func testHostileCapturesThroughEveryOutputModeOnAPipeAndATerminal() throws {
        let py = try TestSupport.requireTool("python3")
        let r = try TestSupport.run(py, [Lab.repoRoot.appendingPathComponent("fuzz/escapes.py").path,
                                         TestSupport.product("analyze"), "4242", "40"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("no control byte reached stdout or stderr"), r.stdout + r.stderr)
    }
}

