// Unfinished lines cannot take unbounded memory: the servers keep a budget for bytes held
// across all connections (--max-input), drop the largest half-lines past it with an ERR reply,
// keep serving everyone else, and give freed memory back. Memory is read from /proc (VmHWM,
// VmRSS of the server process); "has the server read everything" from the kernel's receive
// queues in /proc/net/tcp. Deadlines only turn a hang into a failure.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A /proc file's text (read(2) until the end: /proc files have no size to go by).
func readProc(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        data += chunk[..<n]
    }
    return String(decoding: data, as: UTF8.self)
}

/// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM").
func procMemory(_ pid: Int32, _ field: String) -> Int {
    guard let text = readProc("/proc/\(pid)/status") else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1) * 1024
    }
    return -1
}

/// The receive-queue sizes of the established TCP sockets whose local port is port (the server's side).
func receiveQueues(port: UInt16) -> [Int] {
    var out = [Int]()
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = readProc(file) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 4, f[3] == "01", let local = f[1].split(separator: ":").last,
                  UInt16(local, radix: 16) == port, let rx = f[4].split(separator: ":").last else { continue }
            out.append(Int(rx, radix: 16) ?? 0)
        }
    }
    return out
}

/// Waits until cond holds (polling), failing after timeout seconds.
func waitUntil(_ what: String, timeout: Double = 60, _ cond: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !cond() {
        if Date() > deadline { throw TestError.failed("never happened: \(what)") }
        usleep(50_000)
    }
}

/// The lines a client has been sent so far (what is already in its socket), without waiting for more.
func linesNow(_ c: LineClient) throws -> [String] {
    var out = [String]()
    while true {
        var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0, let l = try c.line(timeout: 2) else { break }
        out.append(l)
    }
    return out
}

final class ServerMemoryTests: XCTestCase {
    func testEchoHalfLinesStayWithinTheBudgetAndMemoryComesBack() throws {
        let server = try ServerProcess("echoserver", ["--host", "127.0.0.1", "--quiet", "--no-output"])
        defer { _ = server.stop() }
        let base = procMemory(server.pid, "VmRSS")
        XCTAssertGreaterThan(base, 0)
        // 300 clients each hold a 1,000,000-byte line with no LF: 300 MB if all were kept.
        let holders = 300, budget = 128 << 20
        let half = [UInt8](repeating: 0x61, count: 1_000_000)
        var clients = [LineClient]()
        for _ in 0..<holders {
            let c = try LineClient(port: server.port)
            XCTAssertEqual(try c.next(), "Welcome to netlab!")
            try c.sendBytes(half)
            clients.append(c)
        }
        try waitUntil("the server read every byte") {
            let q = receiveQueues(port: server.port)
            return q.count >= holders && q.allSatisfy { $0 == 0 }
        }
        let peak = procMemory(server.pid, "VmHWM")
        var dropped = 0
        for c in clients {
            for l in try linesNow(c) {
                XCTAssertEqual(l, "ERR line dropped: the server holds too much unfinished input (134217728 bytes at most)")
                dropped += 1
            }
        }
        // 1 MiB buffers: 128 fit the 128 MiB budget, the rest were dropped.
        XCTAssertEqual(dropped, holders - budget / (1 << 20), "half-lines dropped past the budget")
        XCTAssertLessThan(peak - base, budget + (24 << 20), "peak RSS \(peak >> 20) MiB from \(base >> 20) MiB at the start")
        // Everyone else is served meanwhile.
        let other = try LineClient(port: server.port)
        XCTAssertEqual(try other.next(), "Welcome to netlab!")
        try other.send("Still Served\n")
        XCTAssertEqual(try other.next(), "DEVREs LLITs")
        other.close()
        // They leave: the memory goes back to the system.
        for c in clients { c.close() }
        clients.removeAll()
        try waitUntil("every holder's connection is gone") { receiveQueues(port: server.port).isEmpty }
        var after = procMemory(server.pid, "VmRSS")
        try? waitUntil("RSS back near the start", timeout: 15) {
            after = procMemory(server.pid, "VmRSS")
            return after - base < 32 << 20
        }
        XCTAssertLessThan(after - base, 32 << 20, "RSS \(after >> 20) MiB after the holders left (start \(base >> 20) MiB)")
        print("echo half-lines: start \(base >> 20) MiB, peak \(peak >> 20) MiB, after \(after >> 20) MiB, \(dropped) of \(holders) dropped")
    }

    func testChatHalfLinesStayWithinTheBudget() throws {
        let server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--quiet", "--max-input", "1048576"])
        defer { _ = server.stop() }
        let alice = try LineClient(port: server.port), bob = try LineClient(port: server.port)
        XCTAssertEqual(try alice.register("alice"), "OK NICK alice")
        XCTAssertEqual(try bob.register("bob"), "OK NICK bob")
        // 400 connections each hold a 4,011-byte unfinished line (4 KiB buffers): 1.6 MiB against a 1 MiB budget.
        let holders = 400
        let half = Array("MSG nobody ".utf8) + [UInt8](repeating: 0x78, count: 4000)
        var clients = [LineClient]()
        for _ in 0..<holders {
            let c = try LineClient(port: server.port)
            _ = try c.waitFor("HELLO")
            try c.sendBytes(half)
            clients.append(c)
        }
        try waitUntil("the server read every byte") {
            let q = receiveQueues(port: server.port)
            return q.count >= holders + 2 && q.allSatisfy { $0 == 0 }
        }
        // Registered users carry on meanwhile.
        try alice.send("CHAT bob\n")
        XCTAssertEqual(try alice.next(), "OK CHAT bob")
        XCTAssertEqual(try bob.next(), "REQUEST alice")
        var dropped = 0
        for c in clients {
            for l in try linesNow(c) {
                XCTAssertEqual(l, "ERR 503 line dropped: the server holds too much unfinished input; send it again")
                dropped += 1
            }
        }
        XCTAssertEqual(dropped, holders - (1 << 20) / 4096, "256 buffers of 4 KiB fit 1 MiB; the rest were dropped")
        // Finishing the lines: the kept ones are whole commands (ERR 401, not registered), the dropped ones nothing.
        for c in clients { try c.send("\nPING done\n") }
        var kept = 0
        for c in clients {
            let l = try c.next()
            if l.hasPrefix("ERR 401") {
                kept += 1
                XCTAssertEqual(try c.next(), "PONG done")
            } else {
                XCTAssertEqual(l, "PONG done")
            }
        }
        XCTAssertEqual(kept, holders - dropped)
    }
}
