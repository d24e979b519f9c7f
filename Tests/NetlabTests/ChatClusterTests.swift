// Several chatservers as one chat through Redis (issue 12): each test starts
// its own redis-server on a free loopback port without persistence, two or
// three chatservers joined to it, drives them with real TCP clients (and
// chatload in a process of its own), and stops every process it started by PID.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of the test's own on 127.0.0.1, no persistence.
final class RedisProcess {
    let process = Process()
    let port: UInt16
    let dir: URL
    let host: String

    /// bind: the address it listens on (127.0.0.1, or ::1); extra: more redis-server options.
    init(port: UInt16? = nil, bind: String = "127.0.0.1", extra: [String] = []) throws {
        guard let server = which("redis-server") else { throw XCTSkip("redis-server is not installed (scripts/install-deps.sh)") }
        dir = try makeTempDir("redis")
        host = bind
        self.port = try port ?? freePort()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = ["--port", String(self.port), "--bind", bind, "--save", "", "--appendonly", "no",
                             "--dir", dir.path] + extra
        let log = dir.appendingPathComponent("redis.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let out = try FileHandle(forWritingTo: log)
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let c = try? LineClient(port: self.port, host: bind) {
                try c.send("PING\r\n")
                if (try? c.next(timeout: 2)) == "+PONG" { return }
            }
            usleep(20_000)
        }
        stop()
        throw TestError.failed("redis-server did not start on port \(self.port)")
    }

    var url: String { host.contains(":") ? "redis://[\(host)]:\(port)" : "redis://\(host):\(port)" }

    /// One command through a plain socket (RESP inline form); the first reply line.
    @discardableResult
    func command(_ line: String) throws -> String {
        let c = try LineClient(port: port, host: host)
        try c.send(line + "\r\n")
        return try c.next(timeout: 5)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
func freePort() throws -> UInt16 {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(s) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
    }
    guard ok else { throw TestError.failed("no free port") }
    return UInt16(bigEndian: a.sin_port)
}

/// A chatserver joined to the cluster through redis as node, once it is in sync.
func startClusterServer(_ redis: RedisProcess, _ node: String, port: UInt16? = nil, extra: [String] = [],
                        url: String? = nil) throws -> ServerProcess {
    var args = ["--host", "127.0.0.1", "--cluster", url ?? redis.url, "--node", node, "--login-timeout", "0"] + extra
    if let port { args += ["--port", String(port)] }
    let s = try ServerProcess("chatserver", args)
    try s.waitForLog("cluster: ready as \(node)")
    return s
}

/// The names of every USERS line of one LIST answer.
func listNames(_ c: LineClient) throws -> Set<String> {
    try c.send("LIST\n")
    var names = Set<String>()
    var total = -1
    repeat {
        let l = try c.waitFor("USERS")
        let parts = l.split(separator: " ").map(String.init)
        total = Int(parts[1]) ?? -1
        names.formUnion(parts.dropFirst(2))
    } while names.count < total
    return names
}

/// The USERS lines of one LIST answer, every name as listed (a name listed twice counts twice).
func listAll(_ c: LineClient) throws -> [String] {
    try c.send("LIST\n")
    var names = [String]()
    var total = -1
    repeat {
        let l = try c.waitFor("USERS")
        let parts = l.split(separator: " ").map(String.init)
        total = Int(parts[1]) ?? -1
        names += parts.dropFirst(2)
    } while names.count < total
    return names
}

/// LIST as seen through c until it equals `want` or `seconds` pass (the copies travel through Redis).
func listConverged(_ c: LineClient, _ want: Set<String>, within seconds: Double) throws -> Set<String> {
    let deadline = Date().addingTimeInterval(seconds)
    var names = try listNames(c)
    while names != want && Date() < deadline {
        usleep(100_000)
        names = try listNames(c)
    }
    return names
}

/// A client of s registered as name.
func clusterClient(_ s: ServerProcess, _ name: String) throws -> LineClient {
    let c = try LineClient(port: s.port)
    XCTAssertEqual(try c.register(name), "OK NICK \(name)")
    return c
}

final class ChatClusterTests: XCTestCase {
    func startServer(_ redis: RedisProcess, _ node: String, port: UInt16? = nil, extra: [String] = []) throws -> ServerProcess {
        try startClusterServer(redis, node, port: port, extra: extra)
    }

    func list(_ c: LineClient) throws -> Set<String> { try listNames(c) }

    func client(_ s: ServerProcess, _ name: String) throws -> LineClient { try clusterClient(s, name) }

    func testNamesAreUniqueAcrossServersEvenWhenClaimedAtOnce() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b"), c = try startServer(redis, "c")
        let alice = try client(a, "alice")
        let other = try LineClient(port: b.port)
        XCTAssertEqual(try other.register("ALICE"), "ERR 409 name taken: alice")
        try other.send("NICK bob\n")
        XCTAssertEqual(try other.next(), "OK NICK bob")
        // 60 clients over three servers send NICK racer in one burst: exactly one gets it.
        let r = try runTool(executable("chatload").path,
                            ["nick", "--ports", "\(a.port),\(b.port),\(c.port)", "--clients", "60", "--timeout", "60"])
        let f = resultFields(r.out)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertEqual(f["got_name"], "1")
        XCTAssertEqual(f["refused"], "59")
        // Released on QUIT: the name is free on another server at once.
        try alice.send("QUIT\n")
        XCTAssertEqual(try alice.next(), "OK QUIT")
        let again = try LineClient(port: c.port)
        var reply = try again.register("alice")
        for _ in 0..<50 where reply != "OK NICK alice" { // the release is one Redis round trip behind the OK QUIT
            usleep(20_000)
            try again.send("NICK alice\n")
            reply = try again.next()
        }
        XCTAssertEqual(reply, "OK NICK alice")
    }

    func testListAndWhoCoverEveryServer() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b"), c = try startServer(redis, "c")
        let u1 = try client(a, "ann"), u2 = try client(b, "ben"), u3 = try client(c, "cat")
        try u2.send("JOIN\n")
        XCTAssertEqual(try u2.next(), "OK JOIN 1")
        for u in [u1, u2, u3] {
            var names = Set<String>()
            for _ in 0..<100 { // announcements travel through Redis
                names = try list(u)
                if names.count == 3 { break }
                usleep(20_000)
            }
            XCTAssertEqual(names, ["ann", "ben", "cat"])
        }
        try u1.send("WHO ben\n")
        XCTAssertTrue(try u1.next().hasPrefix("USER ben "), "WHO of a user elsewhere")
        try u1.send("WHO BEN\nWHO cat\nWHO ann\nWHO nobody\nPING done\n")
        let w1 = try u1.next(), w2 = try u1.next(), w3 = try u1.next(), w4 = try u1.next()
        XCTAssertTrue(w1.hasPrefix("USER ben ") && w1.hasSuffix(" 0 room @b"), w1)
        XCTAssertTrue(w2.hasPrefix("USER cat ") && w2.hasSuffix(" 0 @c"), w2)
        XCTAssertTrue(w3.hasPrefix("USER ann ") && w3.hasSuffix(" 0 @a"), w3)
        XCTAssertEqual(w4, "ERR 404 no such user: nobody")
        XCTAssertEqual(try u1.next(), "PONG done", "replies stay in command order around answers from other servers")
        // Gone from every LIST once they quit.
        try u3.send("QUIT\n")
        var names = Set<String>()
        for _ in 0..<100 {
            names = try list(u1)
            if names.count == 2 { break }
            usleep(20_000)
        }
        XCTAssertEqual(names, ["ann", "ben"])
    }

    func testSessionsAndTheRoomAcrossServers() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b")
        let alice = try client(a, "alice"), bob = try client(b, "bob"), carol = try client(b, "carol")
        try alice.send("CHAT bob\n")
        XCTAssertEqual(try alice.next(), "OK CHAT bob")
        XCTAssertEqual(try bob.next(), "REQUEST alice")
        try bob.send("ACCEPT alice\n")
        XCTAssertEqual(try bob.next(), "OK ACCEPT alice")
        XCTAssertEqual(try alice.next(), "ACCEPTED bob")
        for i in 0..<200 { try alice.send("MSG bob m\(i)\n"); try bob.send("MSG alice r\(i)\n") }
        for i in 0..<200 { XCTAssertEqual(try bob.next(), "FROM alice m\(i)") }
        for i in 0..<200 { XCTAssertEqual(try alice.next(), "FROM bob r\(i)") }
        try alice.send("SESSIONS\nMSG carol hi\n")
        XCTAssertEqual(try alice.next(), "SESSIONS 1 bob")
        XCTAssertEqual(try alice.next(), "ERR 403 no session with carol: CHAT carol first")
        try bob.send("LEAVE alice\n")
        XCTAssertEqual(try bob.next(), "OK LEAVE alice")
        XCTAssertEqual(try alice.next(), "LEFT bob")
        // The room: members on both servers hear each other.
        try alice.send("JOIN\n")
        XCTAssertEqual(try alice.next(), "OK JOIN 1")
        usleep(100_000)
        try carol.send("JOIN\n")
        XCTAssertEqual(try carol.next(), "OK JOIN 2")
        XCTAssertEqual(try alice.next(), "JOINED carol")
        try carol.send("SAY hello from b\n")
        XCTAssertEqual(try alice.next(), "ROOM carol hello from b")
        try alice.send("SAY hello from a\nPART\n")
        XCTAssertEqual(try carol.next(), "ROOM alice hello from a")
        XCTAssertEqual(try alice.next(), "OK PART")
        XCTAssertEqual(try carol.next(), "PARTED alice")
        // Many pairs, all across the two servers: every message once and in order (chatload checks).
        let r = try runTool(executable("chatload").path,
                            ["pairs", "--ports", "\(a.port),\(b.port)", "--clients", "200", "--messages", "200",
                             "--window", "16", "--timeout", "120"])
        let f = resultFields(r.out)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertEqual(f["delivered"], "40000")
        XCTAssertEqual(f["lost"], "0")
        XCTAssertEqual(f["dup"], "0")
        XCTAssertEqual(f["reordered"], "0")
    }

    /// Two users on two servers CHAT each other at the same moment (Redis holds both requests back
    /// until both servers have answered OK CHAT): each request is the other's acceptance, one session.
    func testCrossingRequestsAcrossServersOpenOneSession() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b")
        let alice = try client(a, "alice"), bob = try client(b, "bob")
        XCTAssertTrue(try redis.command("CLIENT PAUSE 600 WRITE").hasPrefix("+OK"))
        try alice.send("CHAT bob\n")
        try bob.send("CHAT alice\n")
        XCTAssertEqual(try alice.next(), "OK CHAT bob")
        XCTAssertEqual(try bob.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.next(), "ACCEPTED bob")
        XCTAssertEqual(try bob.next(), "ACCEPTED alice")
        try alice.send("SESSIONS\nMSG bob hi\n")
        XCTAssertEqual(try alice.next(), "SESSIONS 1 bob")
        XCTAssertEqual(try bob.next(), "FROM alice hi")
        try bob.send("SESSIONS\nMSG alice hello\n")
        XCTAssertEqual(try bob.next(), "SESSIONS 1 alice")
        XCTAssertEqual(try alice.next(), "FROM bob hello")
        // On one server the same two CHATs come one after the other: the second is told to answer.
        let dave = try client(a, "dave"), erin = try client(a, "erin")
        try dave.send("CHAT erin\n")
        XCTAssertEqual(try dave.next(), "OK CHAT erin")
        XCTAssertEqual(try erin.next(), "REQUEST dave")
        try erin.send("CHAT dave\n")
        XCTAssertEqual(try erin.next(), "ERR 409 dave has asked you: ACCEPT dave or DECLINE dave")
    }

    /// The per-user limit counts sessions and requests with users on other servers, also for a local CHAT.
    func testLocalChatCountsCrossServerSessionsInTheLimit() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a", extra: ["--max-sessions", "2"]), b = try startServer(redis, "b", extra: ["--max-sessions", "2"])
        let alice = try client(a, "alice"), dave = try client(a, "dave")
        let bob = try client(b, "bob"), carol = try client(b, "carol")
        try alice.send("CHAT bob\n")
        XCTAssertEqual(try alice.next(), "OK CHAT bob")
        XCTAssertEqual(try bob.next(), "REQUEST alice")
        try bob.send("ACCEPT alice\n")
        XCTAssertEqual(try bob.next(), "OK ACCEPT alice")
        XCTAssertEqual(try alice.next(), "ACCEPTED bob")
        try carol.send("CHAT alice\n")
        XCTAssertEqual(try carol.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.next(), "REQUEST carol")
        // alice holds one session and one request, both across servers: a local CHAT either way is refused.
        try alice.send("CHAT dave\n")
        XCTAssertEqual(try alice.next(), "ERR 429 too many sessions (at most 2 each)")
        try dave.send("CHAT alice\n")
        XCTAssertEqual(try dave.next(), "ERR 429 too many sessions (at most 2 each)")
        // One gone, room again.
        try alice.send("DECLINE carol\n")
        XCTAssertEqual(try alice.next(), "OK DECLINE carol")
        XCTAssertEqual(try carol.next(), "DECLINED alice")
        try dave.send("CHAT alice\n")
        XCTAssertEqual(try dave.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.next(), "REQUEST dave")
    }

    func testAKilledServersUsersVanishAndTheirPeersGetGone() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b"), c = try startServer(redis, "c")
        let alice = try client(a, "alice"), bob = try client(b, "bob")
        try bob.send("CHAT alice\n")
        XCTAssertEqual(try bob.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.next(), "REQUEST bob")
        try alice.send("ACCEPT bob\n")
        XCTAssertEqual(try bob.waitFor("ACCEPTED"), "ACCEPTED alice")
        // Users of b and c keep chatting while a dies (checked by chatload: nothing lost or repeated).
        let load = Process()
        load.executableURL = executable("chatload")
        load.arguments = ["pairs", "--ports", "\(b.port),\(c.port)", "--clients", "100", "--messages", "3000",
                          "--window", "4", "--timeout", "120"]
        let out = Pipe()
        load.standardOutput = out
        load.standardError = out
        try load.run()
        sleep(1)
        let killed = Date()
        kill(a.pid, SIGKILL)
        XCTAssertEqual(try bob.waitFor("GONE", timeout: 10), "GONE alice")
        var names = Set<String>()
        repeat {
            names = try list(bob)
            if !names.contains("alice") { break }
            usleep(50_000)
        } while Date().timeIntervalSince(killed) < 10
        let took = Date().timeIntervalSince(killed)
        XCTAssertFalse(names.contains("alice"))
        XCTAssertLessThanOrEqual(took, 3.0, "the issue's bound: a killed server's users leave every LIST within 3 s")
        // The name is free again.
        let again = try LineClient(port: c.port)
        XCTAssertEqual(try again.register("alice"), "OK NICK alice")
        load.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let f = resultFields(text)
        XCTAssertEqual(load.terminationStatus, 0, text)
        XCTAssertEqual(f["lost"], "0")
        XCTAssertEqual(f["dup"], "0")
        XCTAssertEqual(f["reordered"], "0")
    }

    func testRedisDownAnswers503ThenTheClusterRecovers() throws {
        let redis = try RedisProcess()
        let port = redis.port
        let a = try startServer(redis, "a"), b = try startServer(redis, "b")
        let ann = try client(a, "ann"), amy = try client(a, "amy"), ben = try client(b, "ben")
        try ann.send("CHAT amy\n")
        _ = try ann.next()
        _ = try amy.next()
        try amy.send("ACCEPT ann\n")
        _ = try amy.next()
        _ = try ann.next()
        try ann.send("CHAT ben\n")
        XCTAssertEqual(try ann.next(), "OK CHAT ben")
        XCTAssertEqual(try ben.next(), "REQUEST ann")
        try ben.send("ACCEPT ann\n")
        XCTAssertEqual(try ann.waitFor("ACCEPTED"), "ACCEPTED ben")
        let ida = try client(a, "ida")
        try ida.send("CHAT ben\n")
        XCTAssertEqual(try ben.waitFor("REQUEST"), "REQUEST ida")
        try ben.send("ACCEPT ida\n")
        XCTAssertEqual(try ben.next(), "OK ACCEPT ida")
        XCTAssertEqual(try ida.waitFor("ACCEPTED"), "ACCEPTED ben")

        redis.stop()
        try a.waitForLog("cluster: unavailable")
        try b.waitForLog("cluster: unavailable")
        // Local service goes on; what needs the cluster says so.
        try ann.send("MSG amy still here\n")
        XCTAssertEqual(try amy.next(), "FROM ann still here")
        try ann.send("MSG ben lost?\nLIST\nWHO ben\n")
        XCTAssertEqual(try ann.next(), "ERR 503 cluster unavailable: message to ben not delivered")
        XCTAssertEqual(try ann.next(), "ERR 503 cluster unavailable")
        XCTAssertEqual(try ann.next(), "ERR 503 cluster unavailable")
        let newcomer = try LineClient(port: a.port)
        XCTAssertEqual(try newcomer.register("nia"), "ERR 503 cluster unavailable")
        // ida leaves while Redis is away: once it is back her name is given back and ben hears GONE.
        try ida.send("QUIT\n")
        XCTAssertEqual(try ida.next(), "OK QUIT")

        let redis2 = try RedisProcess(port: port)
        try a.waitForLog("announced 2 local users again")
        try b.waitForLog("announced 1 local users again")
        var reply = ""
        for _ in 0..<100 {
            try newcomer.send("NICK nia\n")
            reply = try newcomer.next()
            if reply == "OK NICK nia" { break }
            usleep(50_000)
        }
        XCTAssertEqual(reply, "OK NICK nia")
        XCTAssertEqual(try ben.waitFor("GONE"), "GONE ida")
        var names = Set<String>()
        for _ in 0..<100 {
            names = try list(ben)
            if names.count == 4 { break }
            usleep(50_000)
        }
        XCTAssertEqual(names, ["ann", "amy", "ben", "nia"])
        // The session across servers survived the outage.
        try ann.send("MSG ben back again\n")
        XCTAssertEqual(try ben.waitFor("FROM"), "FROM ann back again")
        // The rule for a name claimed twice while a server was cut off: the claim Redis holds wins. Here server
        // "zz" holds amy when a must announce its users again (a's liveness key lapsed): a's amy is told and dropped.
        let c = try LineClient(port: redis2.port)
        try c.send("MULTI\r\nSET nl:alive:zz 1 PX 60000\r\nSET nl:name:amy \"zz amy\"\r\nDEL nl:alive:a\r\nEXEC\r\n")
        XCTAssertEqual(try c.next(), "+OK")
        let dropped = try amy.waitFor("ERR 409", timeout: 10)
        XCTAssertTrue(dropped.hasPrefix("ERR 409 name taken: amy was claimed on another server"), dropped)
        XCTAssertNil(try amy.line(timeout: 10), "then disconnected")
        try ann.send("PING x\n")
        XCTAssertEqual(try ann.waitFor("PONG"), "PONG x", "ann kept her name and her connection")
    }

    func converged(_ c: LineClient, _ want: Set<String>, within seconds: Double) throws -> Set<String> {
        try listConverged(c, want, within: seconds)
    }

    /// Every server keeps a copy of the other servers' users fed by broadcasts: a broadcast that never
    /// arrives (a subscription cut by Redis, e.g. its pubsub output-buffer limit) must not leave LIST wrong.
    func testEveryListConvergesAfterALostBroadcastAndACutSubscription() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b"), c = try startServer(redis, "c")
        let ann = try client(a, "ann"), ben = try client(b, "ben"), cat = try client(c, "cat")
        var everyone: Set<String> = ["ann", "ben", "cat"]
        for u in [ann, ben, cat] { XCTAssertEqual(try converged(u, everyone, within: 5), everyone) }
        // A server zz (alive as far as Redis knows) whose claim of zed reached nobody: made in Redis as the claim
        // script makes it (nl:dir:<node> maps a skeleton to the name), without the PUBLISH. a and c notice that zz's user set moved on and take it again.
        let r = try LineClient(port: redis.port)
        try r.send("MULTI\r\nSET nl:alive:zz 1 PX 120000\r\nSADD nl:nodes zz\r\nSET nl:name:zed \"zz zed\"\r\n" +
                   "HSET nl:dir:zz zed zed\r\nINCR nl:ver:zz\r\nEXEC\r\n")
        XCTAssertEqual(try r.next(), "+OK")
        XCTAssertEqual(try r.waitFor("*5"), "*5", "the transaction ran")
        let withZed = everyone.union(["zed"])
        XCTAssertEqual(try converged(ann, withZed, within: 5), withZed, "a lost ADD reaches a's LIST")
        XCTAssertEqual(try converged(cat, withZed, within: 5), withZed, "a lost ADD reaches c's LIST")
        // And its DEL lost the same way.
        let r2 = try LineClient(port: redis.port)
        try r2.send("MULTI\r\nDEL nl:name:zed\r\nHDEL nl:dir:zz zed\r\nINCR nl:ver:zz\r\nEXEC\r\n")
        XCTAssertEqual(try r2.waitFor("*3"), "*3", "the transaction ran")
        XCTAssertEqual(try converged(ann, everyone, within: 5), everyone, "a lost DEL leaves a's LIST")
        XCTAssertEqual(try converged(cat, everyone, within: 5), everyone, "a lost DEL leaves c's LIST")
        XCTAssertTrue(a.log.contains("cluster: taking the users of zz again"), a.log)

        // Now Redis cuts every subscription (as its client-output-buffer-limit for pubsub does to a slow
        // subscriber) again and again while users come and go on all three servers: every LIST converges
        // to exactly the users there are.
        let load = try runTool(executable("chatload").path,
                               ["hold", "--ports", "\(a.port),\(b.port),\(c.port)", "--clients", "300",
                                "--prefix", "h_", "--hold", "1", "--inflight", "16", "--timeout", "60"])
        XCTAssertEqual(load.status, 0, load.out + load.err) // registered, held, gone: 300 names came and went
        var extra: [(String, LineClient)] = []
        for round in 0..<6 {
            XCTAssertTrue(try redis.command("CLIENT KILL TYPE pubsub").hasPrefix(":"))
            for (i, s) in [a, b, c].enumerated() {
                let name = "u\(round)_\(i)"
                let u = try LineClient(port: s.port)
                var reply = try u.register(name)
                for _ in 0..<100 where reply == "ERR 503 cluster unavailable" { // until the server is in sync again
                    usleep(20_000)
                    try u.send("NICK \(name)\n")
                    reply = try u.next()
                }
                XCTAssertEqual(reply, "OK NICK \(name)")
                extra.append((name, u))
                everyone.insert(name)
            }
            if round % 2 == 1 { // and one of them leaves
                let (name, gone) = extra.removeFirst()
                try gone.send("QUIT\n")
                XCTAssertEqual(try gone.waitFor("OK QUIT"), "OK QUIT")
                everyone.remove(name)
            }
        }
        for u in [ann, ben, cat] + extra.map({ $0.1 }) {
            XCTAssertEqual(try converged(u, everyone, within: 5), everyone)
        }
    }

    func testBadMessagesFromRedisAreLoggedAndSkipped() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b")
        let alice = try client(a, "alice"), bob = try client(b, "bob")
        for junk in ["PUBLISH nl:all garbage", "PUBLISH nl:all \"ADD\"", "PUBLISH nl:to:a \"MSG b\"",
                     "PUBLISH nl:to:a \"MSG b bob\"", "PUBLISH nl:to:a \"REQ b bad!name alice\"",
                     "PUBLISH nl:all \"ROOM b bob\"", "PUBLISH nl:to:a \"WHOA b 99999 x\"",
                     "PUBLISH nl:to:a \"ZAP b bob alice\""] {
            _ = try redis.command(junk)
        }
        try a.waitForLog("cluster: skipped")
        // Still one chat.
        try bob.send("CHAT alice\n")
        XCTAssertEqual(try bob.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.next(), "REQUEST bob")
        XCTAssertTrue(a.log.contains("cluster: skipped"))
    }

    func testChatclientFailsOverToTheNextServer() throws {
        let redis = try RedisProcess()
        let a = try startServer(redis, "a"), b = try startServer(redis, "b")
        let cli = try PipedProcess(executable("chatclient").path,
                                   ["--server", "127.0.0.1:\(a.port),127.0.0.1:\(b.port)", "--nick", "zed"])
        XCTAssertEqual(try cli.waitFor("* you are"), "* you are zed")
        kill(a.pid, SIGKILL)
        let moved = try cli.waitFor("* server ", timeout: 10)
        XCTAssertTrue(moved.contains("reconnected to 127.0.0.1:\(b.port)") && moved.contains("registering again as zed"), moved)
        XCTAssertEqual(try cli.waitFor("* you are", timeout: 15), "* you are zed")
        let peer = try client(b, "ivy")
        try peer.send("WHO zed\n")
        XCTAssertTrue(try peer.next().hasSuffix("@b"))
        cli.send("/quit\n")
        XCTAssertEqual(cli.wait(), 0)
    }
}
