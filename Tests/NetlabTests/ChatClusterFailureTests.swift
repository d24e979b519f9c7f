// The chat cluster under the failures of issue 20 (items 1, 2, 3 and 12): a server that stalls, a second
// server of the same name, a Redis that evicts keys or runs out of memory, a pattern subscriber that would
// count as a receiver, Redis over IPv6, and names that look alike. Each test starts its own redis-server
// (ChatClusterTests' RedisProcess), drives real chatservers with real TCP clients, and stops every process
// it started by PID.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ChatClusterFailureTests: XCTestCase {
    /// alice on a and bob on b in an accepted session.
    func pair(_ a: ServerProcess, _ b: ServerProcess) throws -> (LineClient, LineClient) {
        let alice = try clusterClient(a, "alice"), bob = try clusterClient(b, "bob")
        try alice.send("CHAT bob\n")
        XCTAssertEqual(try alice.next(), "OK CHAT bob")
        XCTAssertEqual(try bob.next(), "REQUEST alice")
        try bob.send("ACCEPT alice\n")
        XCTAssertEqual(try bob.next(), "OK ACCEPT alice")
        XCTAssertEqual(try alice.next(), "ACCEPTED bob")
        return (alice, bob)
    }

    /// Item 1: a stalled server (SIGSTOP) is taken for dead and reaped; bob hears GONE alice. When it runs
    /// again it serves nothing before it knows it lost its place: alice hears GONE bob first, her MSG sent
    /// meanwhile is answered with an error (never dropped), and SESSIONS no longer lists bob.
    func testAServerThatStalledEndsItsSessionsBeforeServingAnotherLine() throws {
        let redis = try RedisProcess()
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let (alice, bob) = try pair(a, b)
        kill(a.pid, SIGSTOP)
        var stopped = true
        defer { if stopped { kill(a.pid, SIGCONT) } }
        XCTAssertEqual(try bob.waitFor("GONE", timeout: 15), "GONE alice", "b reaps the silent server")
        try alice.send("MSG bob sent while a was stopped\nSESSIONS\nPING after\n") // waits in a's socket
        kill(a.pid, SIGCONT)
        stopped = false
        XCTAssertEqual(try alice.next(timeout: 10), "GONE bob", "alice hears of the end before anything else")
        let msg = try alice.next()
        XCTAssertTrue(msg.hasPrefix("ERR "), "the MSG is answered with an error, not dropped: \(msg)")
        XCTAssertEqual(try alice.next(), "SESSIONS 0")
        XCTAssertEqual(try alice.next(), "PONG after")
        if let l = try? bob.line(timeout: 1) { XCTFail("nothing of alice's reaches bob outside a session: \(l ?? "EOF")") }
        try a.waitForLog("no longer holds its place as a")
        // a joins again under a new token and claims alice again: she is listed, and a new session works.
        XCTAssertEqual(try listConverged(bob, ["alice", "bob"], within: 10), ["alice", "bob"])
        try bob.send("CHAT alice\n")
        XCTAssertEqual(try bob.next(), "OK CHAT alice")
        XCTAssertEqual(try alice.waitFor("REQUEST", timeout: 10), "REQUEST bob")
        try alice.send("ACCEPT bob\nMSG bob back\n")
        XCTAssertEqual(try alice.next(), "OK ACCEPT bob")
        XCTAssertEqual(try bob.waitFor("ACCEPTED"), "ACCEPTED alice")
        XCTAssertEqual(try bob.next(), "FROM alice back")
    }

    /// Item 2 (a): a second server started with the same --node while the first was stopped takes the name
    /// (a new token). The first, when it runs again, is refused every write: it cannot delete the second's
    /// users from Redis, so no third server accepts a second carol; it steps down and waits.
    func testASecondServerOfTheSameNameFencesTheFirst() throws {
        let redis = try RedisProcess()
        let a1 = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let (alice, bob) = try pair(a1, b)
        defer { alice.close() }
        kill(a1.pid, SIGSTOP)
        var stopped = true
        defer { if stopped { kill(a1.pid, SIGCONT) } }
        XCTAssertEqual(try bob.waitFor("GONE", timeout: 15), "GONE alice")
        let a2 = try startClusterServer(redis, "a")
        let carol = try clusterClient(a2, "carol")
        XCTAssertEqual(try listConverged(bob, ["bob", "carol"], within: 10), ["bob", "carol"])
        kill(a1.pid, SIGCONT)
        stopped = false
        sleep(2) // what the first server writes when it runs again has had time to land
        let other = try LineClient(port: b.port)
        XCTAssertEqual(try other.register("carol"), "ERR 409 name taken: carol", "carol is still a2's")
        XCTAssertEqual(try listAll(bob).sorted(), ["bob", "carol"], "every name once")
        try a1.waitForLog("no longer holds its place as a", timeout: 10)
        try a1.waitForLog("another live server is called a", timeout: 10)
        try carol.send("PING still\n")
        XCTAssertEqual(try carol.next(), "PONG still")
        // The fenced server serves its own users alone, and says the cluster is unavailable to them.
        let late = try LineClient(port: a1.port)
        XCTAssertEqual(try late.register("dave"), "ERR 503 cluster unavailable")
    }

    /// Item 2 (b): a Redis whose maxmemory-policy may evict keys is refused (the server stops with the reason)
    /// unless --allow-eviction.
    func testAnEvictingRedisIsRefusedUnlessAllowed() throws {
        for policy in ["allkeys-lru", "volatile-lru"] {
            let redis = try RedisProcess(extra: ["--maxmemory-policy", policy])
            let s = try ServerProcess("chatserver", ["--host", "127.0.0.1", "--cluster", redis.url, "--node", "a"])
            let deadline = Date().addingTimeInterval(15)
            while s.process.isRunning && Date() < deadline { usleep(20_000) }
            XCTAssertFalse(s.process.isRunning, "the server stops")
            XCTAssertEqual(s.stop(), 1)
            XCTAssertTrue(s.log.contains("maxmemory-policy is \(policy)") && s.log.contains("--allow-eviction"), s.log)
            let allowed = try startClusterServer(redis, "a", extra: ["--allow-eviction"])
            XCTAssertTrue(allowed.log.contains("(--allow-eviction)"), allowed.log)
            let c = try clusterClient(allowed, "zoe")
            try c.send("PING\n")
            XCTAssertEqual(try c.next(), "PONG")
        }
    }

    /// Item 2 (b): a key that should exist and is gone (evicted) is a lost claim, never a free name: a name key
    /// gone while its holder's directory lists it stays the holder's; a directory gone is found by its server's
    /// next refresh and claimed again.
    func testAnEvictedClaimIsNotAFreeName() throws {
        let redis = try RedisProcess()
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let alice = try clusterClient(a, "alice")
        let other = try LineClient(port: b.port)
        // A name's key is its skeleton's (alice: allce), so that names alike are one claim (nl:name:alice before).
        XCTAssertEqual(try redis.command("DEL nl:name:allce nl:name:alice"), ":1")
        XCTAssertEqual(try other.register("alice"), "ERR 409 name taken: alice")
        XCTAssertEqual(try redis.command("DEL nl:dir:a nl:name:allce nl:name:alice"), ":2")
        try a.waitForLog("of this server's 1 names are missing from Redis")
        var reply = ""
        for _ in 0..<50 { // until a has claimed its names again
            try other.send("NICK ALICE\n")
            reply = try other.next()
            if reply.hasPrefix("ERR 409") { break }
            usleep(50_000)
        }
        XCTAssertEqual(reply, "ERR 409 name taken: alice")
        try alice.send("PING\n")
        XCTAssertEqual(try alice.next(), "PONG")
        try other.send("NICK olga\n")
        XCTAssertEqual(try other.next(), "OK NICK olga")
        XCTAssertEqual(try listAll(other).sorted(), ["alice", "olga"], "every name once")
    }

    /// Item 2 (b): with noeviction at maxmemory, Redis refuses writes: a refused write is an error for the user
    /// who asked, and never a departure (no server is taken for dead, no session ends).
    func testRedisAtMaxmemoryGivesErrorsNotDepartures() throws {
        let redis = try RedisProcess(extra: ["--maxmemory-policy", "noeviction"])
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let (alice, bob) = try pair(a, b)
        let info = try LineClient(port: redis.port)
        try info.send("INFO memory\r\n")
        var used = 0
        while used == 0, let l = try info.line(timeout: 5) {
            if l.hasPrefix("used_memory:") { used = Int(l.dropFirst(12)) ?? 0 }
        }
        XCTAssertGreaterThan(used, 0)
        XCTAssertEqual(try redis.command("CONFIG SET maxmemory \(used / 2)"), "+OK")
        XCTAssertTrue(try redis.command("SET filler x").hasPrefix("-OOM"), "Redis is out of memory")
        sleep(4) // more than two liveness periods
        for i in 0..<3 {
            try alice.send("MSG bob at maxmemory \(i)\n")
            XCTAssertEqual(try bob.next(), "FROM alice at maxmemory \(i)", "no GONE: both servers are alive")
        }
        try bob.send("SESSIONS\n")
        XCTAssertEqual(try bob.next(), "SESSIONS 1 alice")
        let carol = try LineClient(port: a.port)
        XCTAssertEqual(try carol.register("carol"),
                       "ERR 503 cluster unavailable: Redis is out of memory (maxmemory): try again later")
        XCTAssertEqual(try redis.command("CONFIG SET maxmemory 0"), "+OK")
        try carol.send("NICK carol\n")
        XCTAssertEqual(try carol.next(), "OK NICK carol")
        XCTAssertFalse(a.log.contains("is gone") || b.log.contains("is gone"), a.log + b.log)
    }

    /// Item 3: whether a message can arrive is decided by the target server's liveness and its own channel's
    /// subscribers, not by PUBLISH's count, which a debugging `psubscribe *` would inflate.
    func testAPatternSubscriberDoesNotMakeAMessageDeliverable() throws {
        let redis = try RedisProcess()
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let (alice, bob) = try pair(a, b)
        defer { alice.close() }
        let debugger = try LineClient(port: redis.port)
        try debugger.send("PSUBSCRIBE *\r\n")
        XCTAssertEqual(try debugger.next(), "*3")
        kill(a.pid, SIGKILL)
        usleep(200_000) // Redis has seen a's connections close; its liveness key lives on for a second or so
        try bob.send("MSG alice are you there?\n")
        XCTAssertEqual(try bob.next(timeout: 5), "ERR 503 cluster unavailable: message to alice not delivered")
        XCTAssertEqual(try bob.waitFor("GONE", timeout: 10), "GONE alice")
    }

    /// Item 12: Redis reached over IPv6, redis://[::1]:port.
    func testRedisOverIPv6() throws {
        let redis = try RedisProcess(bind: "::1")
        XCTAssertTrue(redis.url.hasPrefix("redis://[::1]:"))
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        XCTAssertTrue(a.log.contains("joining through redis [::1]:\(redis.port)"), a.log)
        let (alice, bob) = try pair(a, b)
        try alice.send("MSG bob over v6\n")
        XCTAssertEqual(try bob.next(), "FROM alice over v6")
        let bad = try runTool(executable("chatserver").path, ["--port", "0", "--cluster", "redis://::1:\(redis.port)"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("brackets"), bad.err)
    }

    /// Item 12: a name that looks like another online user's (UTS #39 skeletons within A-Z a-z 0-9 _ -) is
    /// refused across servers, with the reason.
    func testNamesThatLookAlikeAreRefusedAcrossServers() throws {
        let redis = try RedisProcess()
        let a = try startClusterServer(redis, "a"), b = try startClusterServer(redis, "b")
        let alice = try clusterClient(a, "alice"), mary = try clusterClient(a, "mary")
        defer { mary.close() }
        let other = try LineClient(port: b.port)
        XCTAssertEqual(try other.register("aIice"),
                       "ERR 409 name taken: aIice looks like alice, who is online (I, l, 1 and i look alike; so do O, o and 0, rn and m, vv and w)")
        for (name, holder) in [("A1ICE", "alice"), ("rnary", "mary"), ("ALICE", "alice")] {
            try other.send("NICK \(name)\n")
            let r = try other.next()
            XCTAssertTrue(r.hasPrefix("ERR 409 name taken: "), r)
            XCTAssertTrue(r.contains(holder), r)
        }
        try alice.send("QUIT\n")
        XCTAssertEqual(try alice.next(), "OK QUIT")
        var reply = ""
        for _ in 0..<50 where reply != "OK NICK aIice" { // the release is one Redis round trip behind OK QUIT
            try other.send("NICK aIice\n")
            reply = try other.next()
            usleep(20_000)
        }
        XCTAssertEqual(reply, "OK NICK aIice")
    }
}
