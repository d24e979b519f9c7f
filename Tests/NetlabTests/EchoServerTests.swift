// echoserver with real clients: our echoclient, nc and ncat, many clients at
// once, and a client that does not read (back-pressure, nothing lost).
import Foundation
import Netlab
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class EchoServerTests: XCTestCase {
    var server: ServerProcess!
    var dir: URL!

    override func setUpWithError() throws {
        dir = try makeTempDir("echo")
    }

    override func tearDown() {
        if let server { _ = server.stop() }
        server = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func start(_ args: [String] = []) throws {
        server = try ServerProcess("echoserver", ["--host", "127.0.0.1"] + args, in: dir)
    }

    func answer(_ s: String) -> String { String(decoding: EchoServer.transform(Array(s.utf8)), as: UTF8.self) }

    func testEchoClientRoundTripsEveryKeyboardCharacterAndLength() throws {
        try start()
        try server.waitForLog("host ")
        let printable = String((0x20...0x7E).map { Character(UnicodeScalar(UInt8($0))) })
        let lines = [
            "HELLO", "Hello World", printable, "   leading and trailing spaces   ", "", "", "\ttab\tseparated\t",
            "héllo wörld ✓ 日本語 😀", String(repeating: "long line ", count: 20_000), " ", "x",
        ]
        let input = dir.appendingPathComponent("in-proj.txt")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let r = try runTool(executable("echoclient").path, ["--host", "127.0.0.1", "--port", String(server.port)],
                            cwd: dir)
        XCTAssertEqual(r.status, 0, r.err)
        let out = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(out[0], "connected to 127.0.0.1:\(server.port)")
        XCTAssertEqual(out[1], "greeting: Welcome to netlab!")
        for (i, l) in lines.enumerated() {
            XCTAssertEqual(out[2 + 2 * i], "sent:     " + l)
            XCTAssertEqual(out[3 + 2 * i], "received: " + answer(l))
        }
        XCTAssertTrue(r.out.contains("\(lines.count) lines sent, \(lines.count) answers, 0 not as expected"))
        // Every answer is in the server's output file, in order.
        _ = server.stop()
        let file = try String(contentsOf: dir.appendingPathComponent("out-proj.txt"), encoding: .utf8)
        XCTAssertEqual(file, lines.map(answer).joined(separator: "\n") + "\n")
        XCTAssertTrue(server.log.contains("connection from 127.0.0.1 port "), server.log)
        server = nil
    }

    func testCRLFInputFile() throws {
        try start()
        let input = dir.appendingPathComponent("crlf.txt")
        try "One\r\nTwo Words\r\nno newline at the end".write(to: input, atomically: true, encoding: .utf8)
        let r = try runTool(executable("echoclient").path,
                            ["--host", "127.0.0.1", "--port", String(server.port), "--input", input.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("received: ENo\n"), r.out)
        XCTAssertTrue(r.out.contains("received: SDROw OWt\n"), r.out)
        XCTAssertTrue(r.out.contains("received: DNE EHT TA ENILWEN ON\n"), r.out)
    }

    func testNcAndNcat() throws {
        try start(["--greeting", "Hi from the test"])
        if let nc = which("nc") {
            let r = try runTool(nc, ["-N", "127.0.0.1", String(server.port)], stdin: Data("HELLO\nab c\r\n\nlast".utf8))
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out, "Hi from the test\nolleh\nC BA\n\nTSAL\n")
        }
        if let ncat = which("ncat") {
            let r = try runTool(ncat, ["127.0.0.1", String(server.port)], stdin: Data("Ncat Works\n".utf8))
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out, "Hi from the test\nSKROw TACn\n")
        }
        if which("nc") == nil && which("ncat") == nil { throw XCTSkip("neither nc nor ncat is installed") }
    }

    func testManyClientsAtOnce() throws {
        try start(["--no-output", "--quiet"])
        let clients = try (0..<200).map { _ in try LineClient(port: server.port) }
        for c in clients { XCTAssertEqual(try c.next(), "Welcome to netlab!") }
        for round in 0..<5 {
            for (i, c) in clients.enumerated() { try c.send("Client \(i) Round \(round)\n") }
            for (i, c) in clients.enumerated() { XCTAssertEqual(try c.next(), answer("Client \(i) Round \(round)")) }
        }
    }

    func testEveryAnswerReachesTheFileBatchedOrNot() throws {
        for mode in [[], ["--line-output"]] {
            try start(["--quiet"] + mode)
            let clients = try (0..<20).map { _ in try LineClient(port: server.port) }
            var expected = [String]()
            for c in clients { XCTAssertEqual(try c.next(), "Welcome to netlab!") }
            for round in 0..<10 {
                for (i, c) in clients.enumerated() {
                    try c.send("Line \(round) Of \(i)\n")
                    expected.append(answer("Line \(round) Of \(i)"))
                }
            }
            for c in clients { for _ in 0..<10 { _ = try c.next() } }
            // Every answer a client has received is already in the file.
            let file = try String(contentsOf: dir.appendingPathComponent("out-proj.txt"), encoding: .utf8)
            XCTAssertEqual(file.split(separator: "\n").map(String.init).sorted(), expected.sorted(), "mode \(mode)")
            _ = server.stop()
            server = nil
            try FileManager.default.removeItem(at: dir.appendingPathComponent("out-proj.txt"))
        }
    }

    func testClientThatDoesNotReadIsPausedAndLosesNothing() throws {
        try start(["--no-output", "--quiet"])
        let hog = try LineClient(port: server.port)
        XCTAssertEqual(try hog.next(), "Welcome to netlab!")
        // 32 MiB of lines, far more than the socket buffers and the server's 256 KiB pause mark.
        let line = Array("The Quick Brown Fox Jumps Over The Lazy Dog 0123456789\n".utf8)
        let count = 32 * 1024 * 1024 / line.count
        var payload = [UInt8]()
        payload.reserveCapacity(line.count * count)
        for _ in 0..<count { payload.append(contentsOf: line) }
        var sent = 0
        var stalled = 0
        // Send without reading until the server stops taking bytes (back-pressure).
        while sent < payload.count && stalled < 20 {
            let n = hog.sendSome(payload[sent...])
            if n == 0 {
                stalled += 1
                var p = pollfd(fd: hog.fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 50)
            } else {
                stalled = 0
                sent += n
            }
        }
        XCTAssertLessThan(sent, payload.count, "the server stopped reading from a client that does not read")
        // Meanwhile everyone else is served.
        let other = try LineClient(port: server.port)
        XCTAssertEqual(try other.next(), "Welcome to netlab!")
        try other.send("Still Served\n")
        XCTAssertEqual(try other.next(), "DEVREs LLITs")
        // Now the hog reads: every answer arrives, in order, while the rest is sent.
        let expected = answer(String(decoding: line.dropLast(), as: UTF8.self))
        let writer = Thread { [payload, sent] in
            var off = sent
            while off < payload.count {
                let n = payload[off...].withUnsafeBytes { send(hog.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                off += n
            }
            hog.shutdownWrite()
        }
        writer.start()
        var got = 0
        while let l = try hog.line(timeout: 60) {
            XCTAssertEqual(l, expected)
            if l != expected { break }
            got += 1
        }
        XCTAssertEqual(got, count, "every line answered once the client reads again")
    }

    func testLineLongerThanTheLimit() throws {
        try start(["--max-line", "1000"])
        let c = try LineClient(port: server.port)
        XCTAssertEqual(try c.next(), "Welcome to netlab!")
        try c.send(String(repeating: "a", count: 2000) + "\nAfter\n")
        XCTAssertEqual(try c.next(), "ERR line too long: more than 1000 bytes")
        XCTAssertEqual(try c.next(), "RETFa")
        // The ERR reply is an answer too: in the file, in its place, before it was sent.
        _ = server.stop()
        server = nil
        let file = try String(contentsOf: dir.appendingPathComponent("out-proj.txt"), encoding: .utf8)
        XCTAssertEqual(file, "ERR line too long: more than 1000 bytes\nRETFa\n")
    }

    func testNoGreetingAndUnwritableOutputFile() throws {
        try start(["--greeting", "", "--no-output"])
        let c = try LineClient(port: server.port)
        try c.send("First\n")
        XCTAssertEqual(try c.next(), "TSRIf", "no greeting line")
        _ = server.stop()
        server = nil
        let r = try runTool(executable("echoserver").path,
                            ["--port", "0", "--host", "127.0.0.1", "--output", "/nonexistent-dir/out.txt"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("echoserver: /nonexistent-dir/out.txt: cannot open the output file"), r.err)
        let v = try runTool(executable("echoserver").path, ["--port", "70000"])
        XCTAssertEqual(v.status, 64, "usage errors exit 64")
    }

    func testEchoClientReportsAMissingServerAndFile() throws {
        let r = try runTool(executable("echoclient").path, ["--input", "/nonexistent/in.txt"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("/nonexistent/in.txt: cannot open the input file"), r.err)
        let input = dir.appendingPathComponent("in.txt")
        try "x\n".write(to: input, atomically: true, encoding: .utf8)
        // A port nobody listens on (bound, never listening).
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        defer { close(s) }
        let port = UInt16(bigEndian: a.sin_port)
        let r2 = try runTool(executable("echoclient").path,
                             ["--host", "127.0.0.1", "--port", String(port), "--input", input.path])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.err.contains("connect to 127.0.0.1:\(port): Connection refused"), r2.err)
    }

    /// Streams numbered lines at the server and reads answers until the server goes away.
    /// Returns the whole answer lines received, greeting excluded.
    static func stream(port: UInt16, client i: Int, timeout: Double = 90) -> [String] {
        guard let c = try? LineClient(port: port) else { return [] }
        let pad = String(repeating: "x", count: 80)
        var out = [UInt8](), sentLines = 0, inbuf = [UInt8](), lines = [String](), greeted = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        loop: while Date() < deadline {
            if out.count < 8192 {
                for _ in 0..<64 { out += Array("c\(i) \(sentLines) \(pad)\n".utf8); sentLines += 1 }
            }
            var p = pollfd(fd: c.fd, events: Int16(POLLIN | POLLOUT), revents: 0)
            _ = poll(&p, 1, 200)
            if p.revents & Int16(POLLOUT) != 0 {
                let n = out.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                if n > 0 { out.removeFirst(n) }
            }
            if p.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = recv(c.fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)) { break loop }
                if n > 0 { inbuf += chunk[..<n] }
                while let lf = inbuf.firstIndex(of: 0x0A) {
                    let l = String(decoding: inbuf[..<lf], as: UTF8.self)
                    inbuf.removeFirst(lf + 1)
                    if greeted { lines.append(l) } else { greeted = true }
                }
            }
        }
        return lines
    }

    /// A full disk (a 2 MB tmpfs) under four streaming clients: whatever a client received is in
    /// the file, in order, as whole lines; nothing is sent after the failed write; the server stops
    /// and says how many answers it did not deliver. Batched and --line-output.
    func testFullDiskNothingIsSentThatIsNotInTheFile() throws {
        try TestSupport.requireRoot("mounting a 2 MB tmpfs")
        for mode in [[], ["--line-output"]] {
            let fs = try makeTempDir("echo-full")
            let m = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", fs.path])
            guard m.status == 0 else {
                try? FileManager.default.removeItem(at: fs)
                throw XCTSkip("cannot mount a tmpfs here: \(m.err)")
            }
            defer {
                _ = try? runTool("/bin/umount", [fs.path])
                try? FileManager.default.removeItem(at: fs)
            }
            let outPath = fs.appendingPathComponent("out-proj.txt").path
            try start(["--quiet", "--output", outPath] + mode)
            let port = server.port
            let n = 4
            let results = StreamResults(n)
            let done = DispatchSemaphore(value: 0)
            for i in 0..<n {
                Thread { results.set(i, EchoServerTests.stream(port: port, client: i)); done.signal() }.start()
            }
            for _ in 0..<n { XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "clients finished") }
            let status = server.stop()
            let log = server.log
            server = nil
            XCTAssertEqual(status, 1, "the server stopped on the full disk: \(log)")
            let r = log.range(of: #"cannot append an answer: No space left on device; stopped without sending it: (\d+) answers? not delivered"#,
                              options: .regularExpression)
            XCTAssertNotNil(r, log)
            if let r, let count = Int(log[r].split(separator: " ").dropLast(3).last ?? "") {
                XCTAssertGreaterThan(count, 0, "the answers of the failed write at least")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: outPath))
            XCTAssertGreaterThan(data.count, 1_000_000, "the disk filled up")
            XCTAssertEqual(data.last, 0x0A, "the file ends with a whole line, no half answer")
            var perClient = [[String]](repeating: [], count: n)
            for l in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                // The transform is its own inverse: each line of the file must be the answer to a line sent.
                let sent = answer(String(l)).split(separator: " ")
                guard sent.count == 3, sent[0].hasPrefix("c"), let i = Int(sent[0].dropFirst()), i < n, let k = Int(sent[1]) else {
                    XCTFail("not an answer: \(l.prefix(120))"); break
                }
                XCTAssertEqual(k, perClient[i].count, "client \(i)'s answers in order, none missing")
                perClient[i].append(String(l))
            }
            var received = 0
            for i in 0..<n {
                let got = results.get(i)
                received += got.count
                XCTAssertLessThanOrEqual(got.count, perClient[i].count, "client \(i) received answers missing from the file (\(mode))")
                XCTAssertEqual(got, Array(perClient[i].prefix(got.count)), "client \(i): received == the file's first answers (\(mode))")
            }
            XCTAssertGreaterThan(received, 1000, "the clients were served until the disk filled")
            print("full disk \(mode): \(received) answers received, \(data.count) bytes in the file; "
                  + (r.map { String(log[$0]) } ?? "no message"))
        }
    }
}

/// What each streaming client received, filled in from its own thread.
final class StreamResults: @unchecked Sendable {
    private var lines: [[String]]
    private let lock = NSLock()
    init(_ n: Int) { lines = Array(repeating: [], count: n) }
    func set(_ i: Int, _ l: [String]) { lock.lock(); lines[i] = l; lock.unlock() }
    func get(_ i: Int) -> [String] { lock.lock(); defer { lock.unlock() }; return lines[i] }
}
