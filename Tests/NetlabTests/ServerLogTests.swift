// The servers' log must never hold up their loop: chatserver with its standard output a pipe
// that nobody reads keeps registering clients and stops at once on SIGTERM; the lines the
// reader was too slow for are dropped, counted, and the count is logged once it catches up.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ServerLogTests: XCTestCase {
    /// chatserver with stdout a pipe the test reads only when it chooses to.
    func startWithPipe(_ args: [String]) throws -> (Process, LineReader, UInt16) {
        let p = Process()
        p.executableURL = executable("chatserver")
        p.arguments = ["--host", "127.0.0.1", "--port", "0"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        let reader = LineReader(fd: out.fileHandleForReading.fileDescriptor)
        let first = try reader.waitFor("", timeout: 20)
        guard let r = first.range(of: #"\(port (\d+)"#, options: .regularExpression), let port = UInt16(first[r].dropFirst(6)) else {
            p.terminate()
            throw TestError.failed("no port in '\(first)'")
        }
        return (p, reader, port)
    }

    func testALogNobodyReadsNeverBlocksTheServer() throws {
        let (server, reader, port) = try startWithPipe(["--login-timeout", "0"])
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        // 2,000 joins: ~130 KB of log, twice what a pipe holds. Nobody reads it.
        var clients = [LineClient]()
        for i in 0..<2000 {
            let c = try LineClient(port: port)
            _ = try c.waitFor("HELLO", timeout: 10)
            try c.send("NICK u\(i)\n")
            XCTAssertEqual(try c.next(timeout: 10), "OK NICK u\(i)", "registration \(i) with the log unread")
            clients.append(c)
        }
        for c in clients { c.close() } // 2,000 "gone" lines more
        clients.removeAll()
        let probe = try LineClient(port: port)
        _ = try probe.waitFor("HELLO", timeout: 10)
        try probe.send("NICK probe\nPING x\n")
        XCTAssertEqual(try probe.next(timeout: 10), "OK NICK probe")
        XCTAssertEqual(try probe.next(timeout: 10), "PONG x")
        probe.close()
        // Now read: what the reader missed is counted in a line of its own once the server catches up.
        var read = 0
        var dropped = 0
        while true {
            let l = try reader.line(timeout: 20) ?? ""
            if let r = l.range(of: #"(\d+) log lines dropped"#, options: .regularExpression) {
                dropped = Int(l[r].split(separator: " ")[0]) ?? 0
                break
            }
            read += 1
        }
        XCTAssertGreaterThan(dropped, 0)
        // Every event is either in the log or in the count: 2,001 joins and 2,001 departures.
        var more = 0
        while let l = try? reader.line(timeout: 1), l != nil { more += 1 }
        XCTAssertEqual(read + dropped + more, 2001 + 2001, "read \(read), dropped \(dropped), after the count \(more)")
        // Unread again: 2,000 more joins, then SIGTERM with the pipe full stops it at once.
        for i in 0..<2000 {
            let c = try LineClient(port: port)
            _ = try c.waitFor("HELLO", timeout: 10)
            try c.send("NICK v\(i)\n")
            XCTAssertEqual(try c.next(timeout: 10), "OK NICK v\(i)")
            clients.append(c)
        }
        kill(server.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(server.isRunning, "SIGTERM stopped the server although nobody reads its log")
        if !server.isRunning { XCTAssertEqual(server.terminationStatus, 0) }
        for c in clients { XCTAssertTrue(try c.waitFor("ERR 503 server shutting down", timeout: 10).hasPrefix("ERR 503")) }
    }
}
