// analyze --answers checked against tshark on real traffic: netlab's echo and
// chat servers on 127.0.0.1, captured on lo (tcpdump, pcap), on "any" (netlab's
// capture, Linux cooked v2) and with dumpcap (pcapng, named interface). Every
// answer (greeting frame and tcp.len, -z conv,tcp frame bytes, every tied largest
// tcp.len, the interface, each request/reply pair, chat users' ports) is what
// tshark says of the same file, including the traps: a client line holding the
// greeting's text, a chat message holding "Welcome", ties, the client first.
import Foundation
import Netlab
import XCTest

/// What tshark says about one TCP conversation of a capture.
struct TsharkAnswers {
    struct Seg {
        let frame: Int, sport: Int, dport: Int, len: Int
        let payload: [UInt8]
        let ifindex: Int?
        let ifname: String?
        let seq: UInt32, ack: UInt32
    }
    let segs: [Seg]

    init(_ path: String, stream: Int) throws {
        let out = try Tshark.run(["-r", path, "-Y", "tcp.stream == \(stream)", "-T", "fields", "-E", "separator=/t",
                                  "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.len",
                                  "-e", "tcp.payload", "-e", "sll.ifindex", "-e", "frame.interface_name",
                                  "-e", "tcp.seq_raw", "-e", "tcp.ack_raw"])
        segs = out.split(separator: "\n").map { line in
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Seg(frame: Int(c[0])!, sport: Int(c[1])!, dport: Int(c[2])!, len: Int(c[3]) ?? 0,
                       payload: TsharkAnswers.hex(c.count > 4 ? c[4] : ""),
                       ifindex: c.count > 5 ? Int(c[5]) : nil, ifname: c.count > 6 && !c[6].isEmpty ? c[6] : nil,
                       seq: c.count > 7 ? UInt32(c[7]) ?? 0 : 0, ack: c.count > 8 ? UInt32(c[8]) ?? 0 : 0)
        }
    }

    static func hex(_ s: String) -> [UInt8] {
        let h = s.replacingOccurrences(of: ":", with: "")
        var out = [UInt8](), it = h.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }

    /// The server's first payload frame, when the server sent it before it had any of the client's
    /// bytes (before the client's first payload, or acknowledging none of it), or netlab chat's HELLO,
    /// or when it is not the echo of the client's first line and a later server payload is.
    func greeting(serverPort: Int) -> Seg? {
        let server = segs.filter { $0.len > 0 && $0.sport == serverPort }
        guard let s = server.first else { return nil }
        guard let c = segs.first(where: { $0.len > 0 && $0.sport != serverPort }), c.frame < s.frame else { return s }
        if Int32(bitPattern: s.ack &- c.seq) <= 0 { return s }
        if s.payload.starts(with: Array("HELLO netlab-chat".utf8)) { return s }
        var line = Array(c.payload.prefix { $0 != 10 })
        if line.last == 13 { line.removeLast() }
        let echo = EchoServer.transform(line)
        func echoes(_ p: [UInt8]) -> Bool { p.starts(with: echo) && p.count > echo.count && [10, 13].contains(p[echo.count]) }
        return !echoes(s.payload) && server.dropFirst().contains { echoes($0.payload) } ? s : nil
    }

    /// Every frame carrying the largest tcp.len.
    var largest: (Int, [Int]) {
        let m = segs.map(\.len).max() ?? 0
        return (m, m == 0 ? [] : segs.filter { $0.len == m }.map(\.frame))
    }

    func seg(_ frame: Int) -> Seg? { segs.first { $0.frame == frame } }
}

final class AnswersTests: XCTestCase {
    var dir: URL!
    var port = 0

    override func setUpWithError() throws {
        try Lab.requireRoot("capturing real traffic for the answer sheet")
        Lab.requireTools(["tshark", "tcpdump", "dumpcap"])
        dir = Lab.tempDir("answers")
        port = Lab.randomPortBase() + 3
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }

    /// Runs body while `how` captures TCP port `port` into file.
    func capture(_ file: String, with how: String, _ body: () throws -> Void) throws {
        let filter = "tcp port \(port)"
        let cap: Lab.Background
        switch how {
        case "tcpdump-lo":
            cap = try Lab.Background("tcpdump", ["-U", "-n", "--immediate-mode", "-i", "lo", "-w", path(file), filter],
                                     label: "tcpdump", dir: dir)
        case "dumpcap-lo":
            cap = try Lab.Background("dumpcap", ["-i", "lo", "-f", filter, "-w", path(file)], label: "dumpcap", dir: dir)
        default:
            cap = try Lab.Background(Lab.product("capture"), ["-i", "any", "-w", path(file), "tcp", "port", "\(port)"],
                                     label: "capture", dir: dir)
        }
        try cap.waitFor(how == "dumpcap-lo" ? "Capturing on" : "listening on")
        usleep(200_000)
        try body()
        usleep(300_000)
        cap.stop()
    }

    func answersJSON(_ file: String) throws -> [String: Any] {
        let r = try Lab.run(Lab.product("analyze"), [path(file), "--answers", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    }

    func conversations(_ j: [String: Any]) -> [[String: Any]] {
        ((j["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["answers"] as? [String: Any] }
    }

    func checkAgainstTshark(_ file: String, _ a: [String: Any], stream: Int, file path: String) throws -> TsharkAnswers {
        try answersAgreeWithTshark(file, a, stream: stream, path: path)
    }
}

/// analyze --answers --json of a capture: each conversation's answers object.
func answersOf(_ path: String) throws -> [[String: Any]] {
    let r = try Lab.run(Lab.product("analyze"), [path, "--answers", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let j = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
    return ((j["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["answers"] as? [String: Any] }
}

/// Server port, greeting, frame bytes both ways, payload, largest ties of one conversation: each as tshark says.
@discardableResult
func answersAgreeWithTshark(_ file: String, _ a: [String: Any], stream: Int, path: String,
                            retransmissions: Bool = false) throws -> TsharkAnswers {
    do {
        let t = try TsharkAnswers(path, stream: stream)
        let sp = a["server_port"] as! Int, cp = a["client_port"] as! Int
        XCTAssertEqual(t.segs.first?.dport, sp, "\(file): the SYN goes to the server port")
        XCTAssertEqual(t.segs.first?.sport, cp)
        if let g = t.greeting(serverPort: sp) {
            let gj = try XCTUnwrap(a["greeting"] as? [String: Any], "\(file): tshark sees a greeting in frame \(g.frame)")
            XCTAssertEqual(gj["packet"] as? Int, g.frame, "\(file): greeting frame")
            XCTAssertEqual(gj["payload_bytes"] as? Int, g.len, "\(file): greeting tcp.len")
            XCTAssertEqual(Array((gj["text"] as! String).utf8), g.payload)
        } else {
            XCTAssertTrue(a["greeting"] is NSNull, "\(file): the client spoke first, no greeting: \(a["greeting"]!)")
        }
        let conv = try Tshark.conversations(path, proto: "tcp", excluding: [])
        let row = try XCTUnwrap(conv.first { Set([$0.a, $0.b]) == Set([a["client"] as! String, a["server"] as! String]) })
        let c2s = a["bytes_c2s"] as! [String: Any], s2c = a["bytes_s2c"] as! [String: Any]
        let clientIsA = row.a == a["client"] as! String
        XCTAssertEqual("\(c2s["frames"]!) bytes", clientIsA ? row.bytesAB : row.bytesBA, "\(file): frame bytes c->s")
        XCTAssertEqual("\(s2c["frames"]!) bytes", clientIsA ? row.bytesBA : row.bytesAB, "\(file): frame bytes s->c")
        XCTAssertEqual(c2s["frame_count"] as? Int, clientIsA ? row.framesAB : row.framesBA)
        XCTAssertEqual(s2c["frame_count"] as? Int, clientIsA ? row.framesBA : row.framesAB)
        let payC2S = t.segs.filter { $0.sport == cp }.map(\.len).reduce(0, +)
        let payS2C = t.segs.filter { $0.sport == sp }.map(\.len).reduce(0, +)
        if !retransmissions {
            XCTAssertEqual(c2s["payload"] as? Int, payC2S, "\(file): no retransmission here, so every tcp.len counts")
            XCTAssertEqual(s2c["payload"] as? Int, payS2C)
        }
        let lp = a["largest_payload"] as! [String: Any]
        XCTAssertEqual(lp["bytes"] as? Int, t.largest.0, "\(file): largest tcp.len")
        XCTAssertEqual(lp["packets"] as? [Int], t.largest.1, "\(file): every frame tied for the largest")
        return t
    }
}

extension AnswersTests {

    func testEchoOnLoopbackWithTheGreetingTextInAClientLineAndTies() throws {
        let lines = ["Hello World", "Welcome to netlab! (the client says it too)", "abcd", "ABCDEFGH", "hgfedcba"]
        try (lines.map { $0 + "\n" }.joined()).write(toFile: path("in.txt"), atomically: true, encoding: .utf8)
        let server = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)", "--no-output"],
                                        label: "echoserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try capture("echo.pcap", with: "tcpdump-lo") {
            let r = try Lab.run(Lab.product("echoclient"), ["--host", "127.0.0.1", "--port", "\(port)", "--input", path("in.txt")])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let j = try answersJSON("echo.pcap")
        let convs = conversations(j)
        XCTAssertEqual(convs.count, 1)
        let a = try XCTUnwrap(convs.first)
        XCTAssertEqual(a["transport"] as? String, "TCP")
        let t = try checkAgainstTshark("echo.pcap", a, stream: 0, file: path("echo.pcap"))
        let g = try XCTUnwrap(a["greeting"] as? [String: Any])
        XCTAssertEqual(g["text"] as? String, "Welcome to netlab!\n", "the server's greeting, not the client's line")
        // Each request and its reply are tshark's payloads of those frames; the reply is the echo of the request.
        let xs = try XCTUnwrap(a["exchanges"] as? [[String: Any]])
        XCTAssertEqual(xs.count, lines.count)
        for (k, x) in xs.enumerated() {
            let req = try XCTUnwrap(t.seg(x["request_packet"] as! Int)), rep = try XCTUnwrap(t.seg(x["reply_packet"] as! Int))
            XCTAssertEqual(req.sport, a["client_port"] as! Int)
            XCTAssertEqual(rep.sport, a["server_port"] as! Int)
            XCTAssertEqual(req.payload, Array((lines[k] + "\n").utf8))
            XCTAssertEqual(rep.payload, EchoServer.transform(Array(lines[k].utf8)) + [10])
            XCTAssertEqual(x["field"] as? String, "tcp.payload")
        }
        // "abcd" and its reply "DCBA", "ABCDEFGH"/"hgfedcba" and theirs: the largest is tied four ways.
        XCTAssertGreaterThanOrEqual((a["largest_payload"] as! [String: Any])["count"] as! Int, 2)
        // The interface: tcpdump's pcap has one, unnamed.
        let ifs = try XCTUnwrap(a["interfaces"] as? [[String: Any]])
        XCTAssertEqual(ifs.count, 1)
        XCTAssertEqual(ifs.first?["index_of"] as? String, "file interface")
        XCTAssertEqual(ifs.first?["kind"] as? String, "loopback", "tcpdump -i lo: Ethernet header with all-zero addresses")
        XCTAssertEqual(ifs.first?["loopback"] as? Bool, true)
        // The text sheet says the same.
        let text = try Lab.run(Lab.product("analyze"), [path("echo.pcap"), "--answers"]).text
        XCTAssertTrue(text.contains("greeting          packet \(g["packet"]!), \(g["payload_bytes"]!) bytes of payload"), text)
    }

    func testGreetingSentAfterTheClientsFirstLineIsStillTheGreeting() throws {
        let server = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)", "--no-output"],
                                        label: "echoserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try capture("cross.pcap", with: "tcpdump-lo") {
            // The server is stopped: the kernel completes the handshake and takes the line, and the
            // server accepts (and greets) only afterwards, acknowledging the line with its greeting.
            kill(server.process.processIdentifier, SIGSTOP)
            let c = try LineClient(port: UInt16(port))
            try c.send("Welcome to netlab!\n")
            usleep(300_000)
            kill(server.process.processIdentifier, SIGCONT)
            XCTAssertEqual(try c.next(), "Welcome to netlab!")
            XCTAssertEqual(try c.next(), "!BALTEN OT EMOCLEw")
            try c.send("abc\n")
            XCTAssertEqual(try c.next(), "CBA")
            c.close()
        }
        let a = try XCTUnwrap(conversations(try answersJSON("cross.pcap")).first)
        let t = try checkAgainstTshark("cross.pcap", a, stream: 0, file: path("cross.pcap"))
        let g = try XCTUnwrap(a["greeting"] as? [String: Any])
        XCTAssertEqual(g["text"] as? String, "Welcome to netlab!\n")
        XCTAssertEqual(g["packet"] as? Int, t.segs.first { $0.len > 0 && $0.sport == port }?.frame)
        let firstClient = try XCTUnwrap(t.segs.first { $0.len > 0 && $0.sport != port })
        XCTAssertLessThan(firstClient.frame, g["packet"] as! Int, "the client's line came first on the wire")
        let xs = try XCTUnwrap(a["exchanges"] as? [[String: Any]])
        XCTAssertEqual(xs.map { $0["reply_text"] as? String }, ["!BALTEN OT EMOCLEw\n", "CBA\n"])
    }

    func testClientSpeaksFirstOnANamedPcapngInterface() throws {
        try "first\nsecond line\n".write(toFile: path("in.txt"), atomically: true, encoding: .utf8)
        let server = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)",
                                                                    "--no-output", "--greeting", ""],
                                        label: "echoserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try capture("first.pcapng", with: "dumpcap-lo") {
            // echoclient waits for a greeting it never gets; the replies still come.
            let c = try LineClient(port: UInt16(port))
            try c.send("first\n")
            XCTAssertEqual(try c.next(), "TSRIF")
            try c.send("second line\n")
            XCTAssertEqual(try c.next(), "ENIL DNOCES")
            c.close()
        }
        let j = try answersJSON("first.pcapng")
        let a = try XCTUnwrap(conversations(j).first)
        let t = try checkAgainstTshark("first.pcapng", a, stream: 0, file: path("first.pcapng"))
        XCTAssertNil(t.greeting(serverPort: a["server_port"] as! Int), "tshark: the client's payload comes first")
        XCTAssertTrue(a["greeting"] is NSNull)
        let xs = try XCTUnwrap(a["exchanges"] as? [[String: Any]])
        XCTAssertEqual(xs.map { $0["request_text"] as? String }, ["first\n", "second line\n"])
        XCTAssertEqual(xs.map { $0["reply_text"] as? String }, ["TSRIF\n", "ENIL DNOCES\n"])
        XCTAssertEqual(xs.first?["reply_packet"] as? Int,
                       t.segs.first { $0.len > 0 && $0.sport == a["server_port"] as! Int }?.frame,
                       "the server's first payload is the first reply")
        // dumpcap names the interface in the pcapng IDB; tshark reads the same name.
        let ifs = try XCTUnwrap(a["interfaces"] as? [[String: Any]])
        XCTAssertEqual(ifs.first?["name"] as? String, t.segs.first?.ifname)
        XCTAssertEqual(ifs.first?["name"] as? String, "lo")
    }

    func testChatOnAnyWithWelcomeInAMessageAndUsersPorts() throws {
        let server = try Lab.Background(Lab.product("chatserver"), ["--host", "127.0.0.1", "--port", "\(port)"],
                                        label: "chatserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        var ports: [String: Int] = [:]
        try capture("chat.pcap", with: "any") {
            let alice = try LineClient(port: UInt16(port)), bob = try LineClient(port: UInt16(port))
            XCTAssertEqual(try alice.register("alice"), "OK NICK alice")
            XCTAssertEqual(try bob.register("bob"), "OK NICK bob")
            for (n, c) in [("alice", alice), ("bob", bob)] {
                var sa = sockaddr_in(), len = socklen_t(MemoryLayout<sockaddr_in>.size)
                _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(c.fd, $0, &len) } }
                ports[n] = Int(UInt16(bigEndian: sa.sin_port))
            }
            try alice.send("CHAT bob\n"); XCTAssertEqual(try alice.next(), "OK CHAT bob")
            _ = try bob.waitFor("REQUEST alice")
            try bob.send("ACCEPT alice\n"); XCTAssertEqual(try bob.next(), "OK ACCEPT alice")
            _ = try alice.waitFor("ACCEPTED bob")
            try bob.send("MSG alice Welcome to netlab, Alice!\n")
            XCTAssertEqual(try alice.next(), "FROM bob Welcome to netlab, Alice!")
            try alice.send("PING x\n"); XCTAssertEqual(try alice.next(), "PONG x")
            try bob.send("QUIT\n"); XCTAssertEqual(try bob.next(), "OK QUIT")
            _ = try alice.waitFor("GONE bob")
            try alice.send("QUIT\n"); XCTAssertEqual(try alice.next(), "OK QUIT")
        }
        let j = try answersJSON("chat.pcap")
        let convs = conversations(j)
        XCTAssertEqual(convs.count, 2)
        for (k, a) in convs.enumerated() {
            let t = try checkAgainstTshark("chat.pcap", a, stream: k, file: path("chat.pcap"))
            let g = try XCTUnwrap(a["greeting"] as? [String: Any])
            XCTAssertTrue((g["text"] as! String).hasPrefix("HELLO netlab-chat"), "the greeting, not bob's Welcome message")
            XCTAssertEqual(a["chat"] as? Bool, true)
            // "any" records each frame's interface index: the same as tshark's sll.ifindex.
            let ifs = try XCTUnwrap(a["interfaces"] as? [[String: Any]])
            XCTAssertEqual(Set(ifs.map { $0["index"] as! Int }), Set(t.segs.compactMap(\.ifindex)))
            XCTAssertEqual(ifs.first?["index_of"] as? String, "ifindex")
            // Events (REQUEST, FROM, GONE) are not replies; PING is answered by PONG.
            for x in (a["exchanges"] as! [[String: Any]]) {
                if let rep = x["reply_text"] as? String {
                    XCTAssertFalse(["REQUEST", "ACCEPTED", "FROM", "GONE"].contains { rep.hasPrefix($0) }, rep)
                    XCTAssertEqual(t.seg(x["reply_packet"] as! Int)?.sport, a["server_port"] as? Int)
                }
                if (x["request_text"] as! String).hasPrefix("PING") { XCTAssertEqual(x["reply_text"] as? String, "PONG x\n") }
                if (x["request_text"] as! String).hasPrefix("MSG") { XCTAssertEqual(x["reply_expected"] as? Bool, false) }
            }
        }
        // Users and their client ports: ours, and tshark's destination port of "OK NICK <name>".
        let users = try XCTUnwrap(j["chat_users"] as? [[String: Any]])
        XCTAssertEqual(users.map { $0["name"] as! String }.sorted(), ["alice", "bob"])
        for u in users {
            let name = u["name"] as! String
            XCTAssertEqual(u["client_port"] as? Int, ports[name])
            let out = try Tshark.run(["-r", path("chat.pcap"), "-Y", "tcp.payload contains \"OK NICK \(name)\"",
                                      "-T", "fields", "-e", "tcp.dstport", "-e", "frame.number"])
            let f = out.split(separator: "\n").first.map { $0.split(separator: "\t").map(String.init) } ?? []
            XCTAssertEqual(f.first.flatMap { Int($0) }, ports[name])
            XCTAssertEqual(u["packet"] as? Int, f.count > 1 ? Int(f[1]) : nil)
        }
        // The capture-wide largest payload (the 72-byte greeting, twice): every tie.
        let lp = try XCTUnwrap(j["largest_payload"] as? [String: Any])
        let all = try Tshark.run(["-r", path("chat.pcap"), "-Y", "tcp.len > 0", "-T", "fields", "-e", "frame.number", "-e", "tcp.len"])
        let rows = all.split(separator: "\n").map { $0.split(separator: "\t").map { Int($0)! } }
        let m = rows.map { $0[1] }.max()!
        XCTAssertEqual(lp["bytes"] as? Int, m)
        XCTAssertEqual(lp["packets"] as? [Int], rows.filter { $0[1] == m }.map { $0[0] })
    }

    func testAnswersOfAMissingFileAndTheCLibraryOnAnEmptyCapture() throws {
        let r = try Lab.run(Lab.product("analyze"), [path("nope.pcap"), "--answers"])
        XCTAssertEqual(r.status, 2, "a capture that cannot be read")
        XCTAssertTrue(r.stderr.contains("nope.pcap"), r.stderr)
        // A capture with no TCP at all: nothing to answer, and no error.
        let empty = CaptureBytes.pcap(linkType: 1, frames: [])
        try Data(empty).write(to: URL(fileURLWithPath: path("empty.pcap")))
        let a = try CaptureAnswers(path: path("empty.pcap"))
        XCTAssertEqual(a.conversations.count, 0)
        XCTAssertEqual(a.largestBytes, 0)
        XCTAssertTrue(a.largestPackets.isEmpty)
    }
}
