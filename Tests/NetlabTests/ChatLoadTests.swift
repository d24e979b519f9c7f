// chatserver under load from chatload, a separate process with its own
// open-file limit: 1000 clients in sessions with every message checked,
// 10,000 clients held at once, and a flood of connects and disconnects.
// Counts and deadlines are bounded; the pass/fail criteria are correctness only.
import Foundation
import XCTest

final class ChatLoadTests: XCTestCase {
    var server: ServerProcess!

    override func tearDown() {
        if let server { _ = server.stop() }
        server = nil
    }

    func chatload(_ args: [String]) throws -> (status: Int32, fields: [String: String], text: String) {
        let r = try runTool(executable("chatload").path, args + ["--port", String(server.port), "--timeout", "240"])
        return (r.status, resultFields(r.out), r.out + r.err)
    }

    func assertStillServing() throws {
        let c = try LineClient(port: server.port)
        XCTAssertEqual(try c.register("after_load"), "OK NICK after_load")
        try c.send("PING ok\n")
        XCTAssertEqual(try c.next(), "PONG ok")
    }

    func testThousandClientsInPairwiseSessionsLoseNothing() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--quiet"])
        for window in ["1", "16"] {
            let r = try chatload(["pairs", "--clients", "1000", "--messages", "100", "--window", window,
                                  "--prefix", "w\(window)_"])
            XCTAssertEqual(r.status, 0, r.text)
            XCTAssertEqual(r.fields["delivered"], "100000", r.text)
            for k in ["lost", "dup", "reordered", "wrong_sender", "errors"] {
                XCTAssertEqual(r.fields[k], "0", "\(k) with \(window) in flight: \(r.text)")
            }
        }
        try assertStillServing()
    }

    func testTenThousandClientsHeldAtOnce() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--quiet"])
        try server.waitForLog("up to ")
        guard let limit = server.log.range(of: #"up to (\d+) clients"#, options: .regularExpression)
            .map({ Int(server.log[$0].split(separator: " ")[2])! }), limit >= 10_000 else {
            throw XCTSkip("the open-file limit lets the server hold fewer than 10,000 clients: \(server.log)")
        }
        let r = try chatload(["hold", "--clients", "10000", "--hold", "2", "--server-pid", String(server.pid)])
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertEqual(r.fields["alive"], "10000", r.text)
        XCTAssertEqual(r.fields["errors"], "0", r.text)
        try assertStillServing()
    }

    func testFloodOfConnectsAndDisconnects() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--quiet"])
        let r = try chatload(["flood", "--clients", "500", "--rounds", "6"])
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertEqual(r.fields["served_after"], "yes", r.text)
        try assertStillServing()
        // Every flooded name was freed.
        let c = try LineClient(port: server.port)
        XCTAssertEqual(try c.register("counter"), "OK NICK counter")
        try c.send("LIST\n")
        let users = try c.next()
        let flooded = users.split(separator: " ").dropFirst(2).filter { $0.range(of: #"^f\d+_\d+$"#, options: .regularExpression) != nil }
        XCTAssertEqual(flooded, [], users)
    }

    func testConnectionsBeyondTheOpenFileLimitAreRefusedWithAnError() throws {
        // 64 descriptors: the server keeps a few back and refuses the rest of 100 clients with ERR 503.
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1"], openFiles: 64)
        try server.waitForLog("up to 48 clients")
        var accepted = [LineClient](), refused = 0
        for _ in 0..<100 {
            let c = try LineClient(port: server.port)
            let first = try c.next()
            if first.hasPrefix("HELLO") {
                accepted.append(c)
            } else {
                XCTAssertEqual(first, "ERR 503 server full: try again later")
                XCTAssertNil(try c.line(), "a refused connection is closed")
                refused += 1
            }
        }
        XCTAssertEqual(accepted.count, 48)
        XCTAssertEqual(refused, 52)
        for (i, c) in accepted.enumerated() {
            try c.send("NICK held\(i)\nPING \(i)\n")
            XCTAssertEqual(try c.next(), "OK NICK held\(i)")
            XCTAssertEqual(try c.next(), "PONG \(i)")
        }
        accepted.removeAll() // they leave
        var served = false
        for _ in 0..<200 where !served {
            if let c = try? LineClient(port: server.port), let l = try? c.next(), l.hasPrefix("HELLO") {
                try c.send("NICK back\n")
                XCTAssertEqual(try c.next(), "OK NICK back")
                served = true
            } else {
                usleep(20_000)
            }
        }
        XCTAssertTrue(served, "the server serves again once clients leave")
    }
}
