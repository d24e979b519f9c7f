// Fairness between a flooder and its readers (issue 8, item 7), over real TCP
// on loopback: a SAY flooder is slowed down to what the room reads instead of
// its readers being dropped; a client that does not read is dropped (ERR 507)
// after the soft timeout; and the kernel's share of what waits for non-readers
// is bounded (ss's per-socket memory, both ends, as the oracle).
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Reads a socket through its own line buffer, a budget of bytes at a time.
final class MeteredReader {
    let fd: Int32
    var buf: [UInt8] = []
    var eof = false
    init(fd: Int32) { self.fd = fd }

    /// Takes at most budget bytes that are already there (no waiting); returns the complete lines.
    func read(budget: Int) -> [String] {
        var chunk = [UInt8](repeating: 0, count: max(1, budget))
        var got = 0
        while got < budget && !eof {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, budget - got, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                buf.append(contentsOf: chunk[..<n])
                got += n
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                eof = true
            } else {
                break
            }
        }
        var lines: [String] = []
        var start = 0
        for i in buf.indices where buf[i] == 10 {
            lines.append(String(decoding: buf[start..<i], as: UTF8.self))
            start = i + 1
        }
        buf.removeFirst(start)
        return lines
    }
}

final class ChatFairnessTests: XCTestCase {
    var server: ServerProcess!

    override func tearDown() {
        if let server { _ = server.stop() }
        server = nil
    }

    func member(_ name: String, receiveBuffer: Int32? = nil) throws -> LineClient {
        let c = try LineClient(port: server.port, receiveBuffer: receiveBuffer)
        XCTAssertEqual(try c.register(name), "OK NICK \(name)")
        try c.send("JOIN\n")
        XCTAssertTrue(try c.waitFor("OK JOIN").hasPrefix("OK JOIN"))
        return c
    }

    /// "SAY seq<n> xxxx...\n", about 4 KB.
    static func sayLine(_ n: Int) -> [UInt8] {
        Array("SAY seq\(n) \(String(repeating: "x", count: 4000))\n".utf8)
    }

    /// Sends as much of the flood as the socket takes now (at most limit bytes); returns messages completed.
    static func pump(_ c: LineClient, _ pending: inout ArraySlice<UInt8>, _ next: inout Int, limit: Int) -> Int {
        var sent = 0, done = 0
        while sent < limit {
            if pending.isEmpty {
                pending = ArraySlice(sayLine(next))
                next += 1
            }
            let n = c.sendSome(pending)
            if n == 0 { break }
            pending = pending.dropFirst(n)
            sent += n
            if pending.isEmpty { done += 1 }
        }
        return done
    }

    func testFlooderIsSlowedAndReadersReadingAtAModestRateAreKept() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1"]) // defaults: 1 MiB hard, 256 KiB soft, 10 s
        var readers: [LineClient] = []
        for i in 0..<10 { readers.append(try member("reader\(i)")) }
        let flooder = try member("flood")
        for r in readers { XCTAssertEqual(try r.waitFor("JOINED flood"), "JOINED flood") }
        let meters = readers.map { MeteredReader(fd: $0.fd) }
        var expect = [Int](repeating: 0, count: readers.count)
        var problems: [String] = []
        func take(_ i: Int, budget: Int) {
            for line in meters[i].read(budget: budget) {
                if line.hasPrefix("ROOM flood seq") {
                    let n = Int(line.dropFirst(14).prefix { $0 != " " }) ?? -1
                    if n != expect[i] { problems.append("reader\(i): seq \(n), expected \(expect[i])") }
                    expect[i] = n + 1
                } else {
                    problems.append("reader\(i): \(line.prefix(120))")
                }
            }
            if meters[i].eof { problems.append("reader\(i): connection closed") }
        }
        // 4 s of flooding; each reader takes 13,000 bytes per 10 ms (about 1.3 MB/s).
        var pending = ArraySlice<UInt8>(), next = 0
        let start = Date()
        var ticks = 0
        while Date().timeIntervalSince(start) < 4 && problems.isEmpty {
            _ = Self.pump(flooder, &pending, &next, limit: 1 << 20)
            for i in readers.indices { take(i, budget: 13_000) }
            ticks += 1
            usleep(10_000)
        }
        let floodSeconds = Date().timeIntervalSince(start)
        // Finish the message in flight (the server may be holding the flooder: keep reading
        // meanwhile), then let the readers read everything.
        let sent = next
        let deadline = Date().addingTimeInterval(60)
        while (!pending.isEmpty || expect.contains(where: { $0 < sent })) && problems.isEmpty && Date() < deadline {
            if !pending.isEmpty { pending = pending.dropFirst(flooder.sendSome(pending)) }
            for i in readers.indices { take(i, budget: 1 << 20) }
            usleep(2_000)
        }
        XCTAssertEqual(problems, [], "no reader was dropped or lost a message")
        XCTAssertEqual(expect, [Int](repeating: sent, count: readers.count), "every reader got all \(sent) messages in order")
        // The flooder went as fast as the readers read: about 1.3 MB/s of 4 KB messages, not the server's speed.
        let perSecond = Double(sent) / floodSeconds
        print("flooder: \(sent) messages in \(String(format: "%.1f", floodSeconds)) s (\(Int(perSecond))/s), \(ticks) reader ticks")
        try flooder.send("QUIT\n")
        XCTAssertEqual(server.stop(), 0)
        let log = server.log
        XCTAssertTrue(log.contains(" 0 dropped for not reading"), log)
        let held = log.range(of: #"(\d+) times a sender was slowed"#, options: .regularExpression).map {
            Int(log[$0].prefix { $0.isNumber }) ?? 0 } ?? 0
        XCTAssertGreaterThan(held, 0, "the flooder was held back for its readers: \(log)")
        server = nil
    }

    func testClientThatDoesNotReadIsDroppedWithERR507AfterTheSoftTimeout() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--soft-output-timeout", "2"])
        let reader = try member("reader")
        let sink = try member("sink", receiveBuffer: 4096)
        let flooder = try member("flood")
        XCTAssertEqual(try reader.waitFor("JOINED flood"), "JOINED flood")
        let meter = MeteredReader(fd: reader.fd)
        var pending = ArraySlice<UInt8>(), next = 0
        var parted = false, afterParted = 0
        let deadline = Date().addingTimeInterval(60)
        // The reader reads everything; the sink nothing. Flood until the reader has seen
        // the sink leave and then more of the flood (the flooder carries on without it).
        while afterParted < 20 && Date() < deadline {
            _ = Self.pump(flooder, &pending, &next, limit: 256 << 10)
            for line in meter.read(budget: 4 << 20) {
                if line == "PARTED sink" { parted = true } else if parted && line.hasPrefix("ROOM flood seq") { afterParted += 1 }
            }
            XCTAssertFalse(meter.eof, "the reader stays connected")
            usleep(5_000)
        }
        XCTAssertTrue(parted, "the sink was dropped")
        XCTAssertGreaterThanOrEqual(afterParted, 20, "the flood went on to the reader after the sink was dropped")
        // What the sink finally reads ends with the explanation, then the connection closes.
        var last: String?
        while let l = try sink.line(timeout: 30) { last = l }
        XCTAssertEqual(last, "ERR 507 you are not reading: more than 262144 bytes waited for you for 2 s; disconnected")
        try server.waitForLog("gone sink 127.0.0.1:")
        try server.waitForLog("not reading: over the soft output limit for too long")
    }

    /// Kernel socket memory on both ends of the server's port (skmem r + w per socket, from ss), in bytes.
    func kernelMemory(port: UInt16) throws -> (total: Int, sockets: Int) {
        guard let ss = which("ss") else { throw XCTSkip("ss (iproute2) is not installed") }
        let r = try TestSupport.run(ss, ["-tmnH", "state", "established", "( sport = :\(port) or dport = :\(port) )"])
        var total = 0, sockets = 0
        for part in r.stdout.components(separatedBy: "skmem:(").dropFirst() {
            // r<rmem_alloc>,rb<rcvbuf>,t<wmem_alloc>,tb<sndbuf>,f<fwd_alloc>,w<wmem_queued>,...
            let fields = part.prefix { $0 != ")" }.split(separator: ",")
            func field(_ key: String) -> Int? {
                fields.first { $0.hasPrefix(key) && Int($0.dropFirst(key.count)) != nil }.map { Int($0.dropFirst(key.count))! }
            }
            guard let rm = field("r"), let wq = field("w") else { continue }
            total += rm + wq
            sockets += 1
        }
        return (total, sockets)
    }

    func testTwoHundredNonReadersHoldBoundedKernelMemory() throws {
        server = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--soft-output-timeout", "3"])
        var sinks: [LineClient] = []
        for i in 0..<200 { sinks.append(try member("sink\(i)")) }
        let flooder = try member("flood")
        var pending = ArraySlice<UInt8>(), next = 0
        var peak = 0, peakSockets = 0
        let start = Date()
        // Flood for 2.5 s (before the soft timeout drops the sinks), sampling kernel memory.
        while Date().timeIntervalSince(start) < 2.5 {
            _ = Self.pump(flooder, &pending, &next, limit: 4 << 20)
            let m = try kernelMemory(port: server.port)
            if m.total > peak { peak = m.total; peakSockets = m.sockets }
            usleep(100_000)
        }
        let mb = Double(peak) / 1e6
        print("kernel socket memory, both ends of \(peakSockets) sockets: peak \(String(format: "%.1f", mb)) MB "
              + "(\(peak / 200 / 1024) KiB per non-reader) after \(next) messages")
        XCTAssertGreaterThan(next, 300, "the flood got going (the sinks' queues filled)")
        XCTAssertLessThan(peak, 200 * 640 * 1024, "at most 640 KiB of kernel memory per non-reader (SO_SNDBUF)")
        // Then every sink is dropped as not reading, and the server serves on.
        let deadline = Date().addingTimeInterval(30)
        var dropped = 0
        while Date() < deadline {
            dropped = server.log.components(separatedBy: "over the soft output limit for too long").count - 1
            if dropped >= 200 { break }
            usleep(50_000)
        }
        XCTAssertEqual(dropped, 200, "every non-reader was dropped")
        try flooder.sendBytes(Array(pending)) // the flooder is read again: finish its last SAY
        try flooder.send("PING done\n")
        XCTAssertEqual(try flooder.waitFor("PONG", timeout: 60), "PONG done")
    }
}
