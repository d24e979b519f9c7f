// Grading without a person: analyze --expect-echo on real echo captures (netlab's
// echo server, and ncat's cat that echoes without transforming), and the
// direction-aware --expect on a real chat capture; every packet it names is the
// frame tshark finds the bytes in. Exit statuses: 0 intact, 1 missing / altered /
// unexpected, 2 an unreadable capture, 65 an invalid CSV or input file, 64 usage.
import Foundation
import XCTest

final class ExpectGradingTests: XCTestCase {
    var dir: URL!
    var port = 0

    override func setUpWithError() throws {
        try Lab.requireRoot("capturing real traffic to grade")
        Lab.requireTools(["tshark", "tcpdump", "ncat"])
        dir = Lab.tempDir("grading")
        port = Lab.randomPortBase() + 7
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }

    func captureLo(_ file: String, _ body: () throws -> Void) throws {
        let cap = try Lab.Background("tcpdump", ["-U", "-n", "--immediate-mode", "-i", "lo", "-w", path(file), "tcp port \(port)"],
                                     label: "tcpdump-\(file)", dir: dir)
        try cap.waitFor("listening on")
        usleep(200_000)
        try body()
        usleep(300_000)
        cap.stop()
    }

    func analyze(_ args: [String]) throws -> (status: Int32, json: [String: Any]?, stderr: String) {
        let r = try Lab.run(Lab.product("analyze"), args + ["--json"])
        return (r.status, try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.stderr)
    }

    /// The first frame (from srcPort) whose TCP payload holds text, as tshark finds it.
    func tsharkFrame(_ file: String, holding text: String, from srcPort: Int) throws -> Int? {
        let hex = Array(text.utf8).map { String(format: "%02x", $0) }.joined(separator: ":")
        let out = try Tshark.run(["-r", path(file), "-Y", "tcp.srcport == \(srcPort) && tcp.payload contains \(hex)",
                                  "-T", "fields", "-e", "frame.number"])
        return out.split(separator: "\n").first.flatMap { Int($0) }
    }

    func testExpectEchoGradesARealEchoCaptureAndCatchesAServerThatDoesNotTransform() throws {
        let lines = ["Hello World", "  spaces kept  ", "Welcome to netlab!", "MiXeD CaSe 123"]
        try (lines.map { $0 + "\r\n" }.joined()).write(toFile: path("in-proj.txt"), atomically: true, encoding: .utf8)
        let server = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)", "--no-output"],
                                        label: "echoserver", dir: dir)
        try server.waitFor("listening")
        try captureLo("echo.pcap") {
            let r = try Lab.run(Lab.product("echoclient"), ["--host", "127.0.0.1", "--port", "\(port)", "--input", path("in-proj.txt")])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        server.stop(SIGTERM)

        let ok = try analyze([path("echo.pcap"), "--expect-echo", path("in-proj.txt")])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let ex = try XCTUnwrap(ok.json?["expect"] as? [String: Any])
        XCTAssertEqual(ex["ok"] as? Bool, true)
        XCTAssertEqual(ex["found"] as? Int, 2 * lines.count)
        XCTAssertEqual(ex["unexpected"] as? Int, 0)
        let results = try XCTUnwrap(ex["results"] as? [[String: Any]])
        for (k, line) in lines.enumerated() {
            let req = results[2 * k], rep = results[2 * k + 1]
            XCTAssertEqual(req["direction"] as? String, "c2s")
            XCTAssertEqual(rep["direction"] as? String, "s2c")
            XCTAssertEqual(req["line"] as? Int, k + 1, "the input file's line number")
            let echoed = String(line.reversed().map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
            let clientPort = try XCTUnwrap(Int(try Tshark.run(["-r", path("echo.pcap"), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                                                                  "-T", "fields", "-e", "tcp.srcport"]).trimmingCharacters(in: .whitespacesAndNewlines)))
            XCTAssertEqual(req["packet"] as? Int, try tsharkFrame("echo.pcap", holding: line + "\n", from: clientPort))
            XCTAssertEqual(rep["packet"] as? Int, try tsharkFrame("echo.pcap", holding: echoed + "\n", from: port))
        }
        let greeting = try XCTUnwrap((ex["unexpected_payload"] as? [[String: Any]])?.first)
        XCTAssertEqual(greeting["kind"] as? String, "greeting")
        XCTAssertEqual(greeting["packet"] as? Int, try tsharkFrame("echo.pcap", holding: "Welcome to netlab!\n", from: port))

        // A line the capture does not hold: missing, and the line it does hold instead is unexpected.
        try "Hello World\nnot sent\n  spaces kept  \nWelcome to netlab!\nMiXeD CaSe 123\n".write(toFile: path("more.txt"), atomically: true, encoding: .utf8)
        let more = try analyze([path("echo.pcap"), "--expect-echo", path("more.txt")])
        XCTAssertEqual(more.status, 1)
        let mr = try XCTUnwrap((more.json?["expect"] as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(mr.filter { $0["status"] as? String == "missing" }.map { $0["msg_id"] as? String }, ["line 2", "echo 2"])
        XCTAssertTrue(more.stderr.contains("--expect-echo"), more.stderr)

        // ncat's cat echoes every line unchanged and sends no greeting: each reply is altered, not found.
        let cat = try Lab.Background("ncat", ["-l", "127.0.0.1", "\(port)", "--keep-open", "--exec", "/bin/cat"], label: "ncat", dir: dir)
        defer { cat.stop(SIGTERM) }
        usleep(300_000)
        try captureLo("cat.pcap") {
            let c = try LineClient(port: UInt16(port))
            for l in lines {
                try c.send(l + "\n")
                XCTAssertEqual(try c.next(), l)
            }
            c.close()
        }
        let bad = try analyze([path("cat.pcap"), "--expect-echo", path("in-proj.txt")])
        XCTAssertEqual(bad.status, 1)
        let br = try XCTUnwrap((bad.json?["expect"] as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(br.filter { ($0["msg_id"] as! String).hasPrefix("line") }.map { $0["status"] as! String }, ["found", "found", "found", "found"])
        XCTAssertTrue(br.filter { ($0["msg_id"] as! String).hasPrefix("echo") }.allSatisfy { $0["status"] as? String != "found" })
    }

    func testExpectIsDirectionAwareOnARealChatCapture() throws {
        let server = try Lab.Background(Lab.product("chatserver"), ["--host", "127.0.0.1", "--port", "\(port)"], label: "chat", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try captureLo("chat.pcap") {
            let c = try LineClient(port: UInt16(port))
            XCTAssertEqual(try c.register("alice"), "OK NICK alice")
            try c.send("PING Welcome\n")
            XCTAssertEqual(try c.next(), "PONG Welcome")
            try c.send("QUIT\n")
            XCTAssertEqual(try c.next(), "OK QUIT")
        }
        func csv(_ rows: [(String, String, String)]) throws -> String {
            var s = "msg_id,app_protocol,src_app,dst_app,message,timestamp\n"
            for (i, r) in rows.enumerated() { s += "\(i + 1),CHAT,\(r.0),\(r.1),\"\(r.2)\",\n" }
            let p = path("m\(rows.count)-\(rows.first!.0).csv")
            try s.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        // The server sends the greeting and the replies; the client the commands.
        let right = try csv([("server", "client", "HELLO netlab-chat 1: register with NICK <name>; HELP lists the commands"), ("client", "server", "NICK alice"),
                             ("server", "client", "OK NICK alice"), ("client", "server", "PING Welcome"),
                             ("server", "client", "PONG Welcome"), ("client", "server", "QUIT"), ("server", "client", "OK QUIT")])
        let ok = try analyze([path("chat.pcap"), "--expect", right])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let results = try XCTUnwrap((ok.json?["expect"] as? [String: Any])?["results"] as? [[String: Any]])
        let clientPort = try XCTUnwrap(Int(try Tshark.run(["-r", path("chat.pcap"), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                                                           "-T", "fields", "-e", "tcp.srcport"]).trimmingCharacters(in: .whitespacesAndNewlines)))
        for r in results {
            let text = ["HELLO netlab-chat 1: register with NICK <name>; HELP lists the commands", "NICK alice", "OK NICK alice", "PING Welcome", "PONG Welcome", "QUIT", "OK QUIT"][Int(r["msg_id"] as! String)! - 1]
            let fromClient = r["direction"] as? String == "c2s"
            XCTAssertEqual(r["packet"] as? Int, try tsharkFrame("chat.pcap", holding: text, from: fromClient ? clientPort : port), text)
        }
        // "PONG Welcome" claimed to come from the client: the client never sent it; direction matters.
        let wrong = try csv([("client", "server", "NICK alice"), ("client", "server", "PONG Welcome")])
        let w = try analyze([path("chat.pcap"), "--expect", wrong])
        XCTAssertEqual(w.status, 1)
        let wr = try XCTUnwrap((w.json?["expect"] as? [String: Any])?["results"] as? [[String: Any]])
        XCTAssertEqual(wr.map { $0["status"] as? String }, ["found", "missing"])
        // What the client sent beyond the CSV is unexpected.
        let un = try XCTUnwrap((w.json?["expect"] as? [String: Any])?["unexpected_payload"] as? [[String: Any]])
        XCTAssertTrue(un.contains { ($0["preview"] as? String)?.contains("PING Welcome") == true && $0["kind"] as? String == "unexpected" }, "\(un)")
    }

    func testExitStatusesForBadInputsAndUnreadableCaptures() throws {
        let capture = path("x.pcap")
        try Data(CaptureBytes.pcap(linkType: 1, frames: [])).write(to: URL(fileURLWithPath: capture))
        let badCSV = path("bad.csv")
        try "msg_id,app_protocol\n1,CHAT\n".write(toFile: badCSV, atomically: true, encoding: .utf8)
        var r = try analyze([capture, "--expect", badCSV])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.json?["file"] as? String, badCSV)
        XCTAssertNotNil(r.json?["error"] as? String)
        try "".write(toFile: path("empty.txt"), atomically: true, encoding: .utf8)
        r = try analyze([capture, "--expect-echo", path("empty.txt")])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("empty.txt"), r.stderr)
        r = try analyze([capture, "--expect-echo", path("absent.txt")])
        XCTAssertEqual(r.status, 65)
        try "a line\n".write(toFile: path("one.txt"), atomically: true, encoding: .utf8)
        r = try analyze([path("absent.pcap"), "--expect-echo", path("one.txt")])
        XCTAssertEqual(r.status, 2)
        r = try analyze([capture, "--expect-echo", path("one.txt")])
        XCTAssertEqual(r.status, 1, "an empty capture misses the line")
        r = try analyze([capture, "--expect", badCSV, "--expect-echo", path("one.txt")])
        XCTAssertEqual(r.status, 64)
    }
}
