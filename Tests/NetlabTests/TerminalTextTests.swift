// One text path (issue 11): every byte a tool shows on a terminal goes through C's nl_text.c.
// U+202E (RIGHT-TO-LEFT OVERRIDE) and the other bidirectional controls reach no terminal
// unmasked: not in a chat message the client shows, not in a capture payload the packet tools
// preview or follow. The Swift helpers are thin calls into C; their notation is checked here.
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
        let py = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: py) else { throw XCTSkip("needs \(py)") }
        let dir = try makeTempDir("rlo-chat")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = dir.appendingPathComponent("server.py")
        // One connection: greet, say a message and a room line carrying U+202E, then close.
        try """
        import socket, sys
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        s.settimeout(20)
        c, _ = s.accept()
        c.sendall("Welcome\\nFROM mallory hi \\u202egnp.exe\\nROOM mallory \\u202ertl\\n".encode())
        c.close(); s.close()
        """.write(to: server, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = [server.path]
        let portPipe = Pipe()
        p.standardOutput = portPipe
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) }; p.waitUntilExit() }
        var portLine = Data()
        while !portLine.contains(0x0A) {
            let d = portPipe.fileHandleForReading.availableData
            if d.isEmpty { break }
            portLine.append(d)
        }
        let port = String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(UInt16(port), "server port: \(port)")
        // Input stays open until the server has closed, so the client reads everything it is sent.
        let r = try TestSupport.sh("sleep 3 | '\(TestSupport.product("chatclient"))' --host 127.0.0.1 --port \(port)")
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
}
