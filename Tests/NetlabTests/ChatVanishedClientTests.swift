// Issue 20 item 4: a client whose host vanishes without a FIN (its link gone) must not keep its name for
// ever. Every test builds its own pair of network namespaces joined by a veth pair: the servers (and Redis)
// in one, the client that vanishes in the other; deleting the veth pair makes that host vanish. Needs root
// (ip netns); skipped with the reason otherwise. Every namespace and process it makes is removed.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces joined by a veth pair: S (10.77.0.1) and C (10.77.0.2).
final class VethPair {
    let s: String, c: String
    private(set) var linked = true

    init() throws {
        guard getuid() == 0 else { throw XCTSkip("creating network namespaces needs root") }
        guard which("ip") != nil, which("ncat") != nil else { throw XCTSkip("ip and ncat are needed (scripts/install-deps.sh)") }
        let tag = "\(getpid() % 100000)\(UInt16.random(in: 0...999))"
        s = "nlvs\(tag)"
        c = "nlvc\(tag)"
        for cmd in ["netns add \(s)", "netns add \(c)", "link add vs netns \(s) type veth peer name vc netns \(c)",
                    "-n \(s) addr add 10.77.0.1/24 dev vs", "-n \(c) addr add 10.77.0.2/24 dev vc",
                    "-n \(s) link set vs up", "-n \(c) link set vc up", "-n \(s) link set lo up", "-n \(c) link set lo up"] {
            let r = try TestSupport.sh("ip \(cmd)")
            if r.status != 0 { remove(); throw TestError.failed("ip \(cmd): \(r.stderr)") }
        }
    }

    /// The client's host vanishes: no FIN, no RST, nothing more from it.
    func cut() throws {
        XCTAssertEqual(try TestSupport.sh("ip -n \(s) link del vs").status, 0)
        linked = false
    }

    func remove() {
        _ = try? TestSupport.sh("ip netns pids \(c) | xargs -r kill -9; ip netns pids \(s) | xargs -r kill -9")
        _ = try? TestSupport.sh("ip netns del \(s); ip netns del \(c)")
    }

    deinit { remove() }
}

/// A chat client speaking through ncat inside a namespace: from C over the veth pair, from S over its loopback
/// (the veth's address goes with the veth).
final class NsClient {
    let p: PipedProcess
    init(netns: String, port: UInt16, host: String? = nil) throws {
        let host = host ?? (netns.hasPrefix("nlvc") ? "10.77.0.1" : "127.0.0.1")
        p = try PipedProcess(which("ip")!, ["netns", "exec", netns, "ncat", host, String(port)])
        _ = try p.waitFor("HELLO")
    }
    func send(_ line: String) { p.send(line + "\n") }
    func next(timeout: Double = 15) throws -> String {
        guard let l = try p.line(timeout: timeout) else { throw TestError.failed("connection closed") }
        return l
    }
    func register(_ name: String) throws -> String {
        send("NICK \(name)")
        return try next()
    }
}

final class ChatVanishedClientTests: XCTestCase {
    /// Redis inside the namespace, on its loopback.
    func redis(in ns: String) throws -> (Process, UInt16) {
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("ip")!)
        p.arguments = ["netns", "exec", ns, "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", NSTemporaryDirectory()]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard which("redis-server") != nil else { throw XCTSkip("redis-server is not installed (scripts/install-deps.sh)") }
        try p.run()
        for _ in 0..<200 {
            if (try? TestSupport.sh("ip netns exec \(ns) redis-cli -p \(port) ping").stdout)?.contains("PONG") == true {
                return (p, port)
            }
            usleep(20_000)
        }
        throw TestError.failed("redis-server did not start in \(ns)")
    }

    /// One server: a holder idle for 10 s is probed when its name is asked for. A live one (its kernel
    /// acknowledges the PROBE line) keeps it; one whose host vanished loses it at once (2 s at most).
    func testAVanishedHolderLosesItsNameWhenItIsAskedFor() throws {
        let net = try VethPair()
        let server = try ServerProcess("chatserver", ["--login-timeout", "0"], netns: net.s)
        defer { _ = server.stop() }
        let alice = try NsClient(netns: net.c, port: server.port)   // on the host that will vanish
        XCTAssertEqual(try alice.register("alice"), "OK NICK alice")
        let carol = try NsClient(netns: net.s, port: server.port)   // a person reading, her host there
        XCTAssertEqual(try carol.register("carol"), "OK NICK carol")
        try net.cut()
        sleep(11) // both look idle now (nothing received from them for 10 s)
        let asker = try NsClient(netns: net.s, port: server.port)
        XCTAssertEqual(try asker.register("carol"), "ERR 409 name taken: carol", "a live holder keeps her name")
        XCTAssertTrue(try carol.next().hasPrefix("PROBE "), "the line that checked her connection")
        let t0 = Date()
        XCTAssertEqual(try asker.register("aIice"), "OK NICK aIice", "a vanished holder's name (and its look-alikes) is free")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4.0, "within the probe's 2 s")
        try server.waitForLog("gone alice 10.77.0.2:")
        XCTAssertTrue(server.log.contains("its host vanished: a probe was not acknowledged"), server.log)
        // A second ask at once does not probe carol again (she answered a moment ago).
        let again = try NsClient(netns: net.s, port: server.port)
        XCTAssertEqual(try again.register("carol"), "ERR 409 name taken: carol")
    }

    /// TCP keepalive is on by default (ss shows its timer); with a short one the vanished host's name is
    /// freed without anyone asking.
    func testKeepaliveFreesAVanishedClientsName() throws {
        let net = try VethPair()
        let plain = try ServerProcess("chatserver", ["--login-timeout", "0"], netns: net.s)
        let one = try NsClient(netns: net.c, port: plain.port)
        XCTAssertEqual(try one.register("dora"), "OK NICK dora")
        var ss = "", keepalive = false
        for _ in 0..<40 where !keepalive { // the keepalive timer shows once nothing waits to be acknowledged
            ss = try TestSupport.sh("ip netns exec \(net.s) ss -tnoa").stdout
            keepalive = ss.split(separator: "\n").contains {
                $0.contains(":\(plain.port) ") && $0.contains("10.77.0.2:") && $0.contains("timer:(keepalive,")
            }
            usleep(50_000)
        }
        XCTAssertTrue(keepalive, "keepalive by default: \(ss)")
        _ = plain.stop()
        let server = try ServerProcess("chatserver", ["--login-timeout", "0", "--keepalive", "2,1,2"],
                                       netns: net.s)
        defer { _ = server.stop() }
        let alice = try NsClient(netns: net.c, port: server.port)
        XCTAssertEqual(try alice.register("alice"), "OK NICK alice")
        let bob = try NsClient(netns: net.s, port: server.port)
        XCTAssertEqual(try bob.register("bob"), "OK NICK bob")
        try net.cut()
        let t0 = Date()
        var listed = true
        while listed && Date().timeIntervalSince(t0) < 20 {
            usleep(500_000)
            bob.send("WHO alice")
            listed = try bob.next().hasPrefix("USER alice")
        }
        XCTAssertFalse(listed, "alice's name is freed by keepalive")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 12.0, "2 s idle, then 2 probes 1 s apart: a few seconds")
        try server.waitForLog("gone alice 10.77.0.2:")
    }

    /// A cluster: the holder is on another server. That server probes it and answers; a vanished holder's
    /// name is released there and claimed here.
    func testAVanishedHolderOnAnotherServerLosesItsName() throws {
        let net = try VethPair()
        let (redisProc, rport) = try redis(in: net.s)
        defer { kill(redisProc.processIdentifier, SIGKILL); redisProc.waitUntilExit() }
        func node(_ n: String) throws -> ServerProcess {
            let s = try ServerProcess("chatserver", ["--login-timeout", "0", "--cluster",
                                                     "redis://127.0.0.1:\(rport)", "--node", n], netns: net.s)
            try s.waitForLog("cluster: ready as \(n)")
            return s
        }
        let a = try node("a"), b = try node("b")
        defer { _ = a.stop(); _ = b.stop() }
        let alice = try NsClient(netns: net.c, port: a.port)
        XCTAssertEqual(try alice.register("alice"), "OK NICK alice")
        let carol = try NsClient(netns: net.s, port: a.port)
        XCTAssertEqual(try carol.register("carol"), "OK NICK carol")
        try net.cut()
        sleep(11)
        let asker = try NsClient(netns: net.s, port: b.port)
        XCTAssertEqual(try asker.register("carol"), "ERR 409 name taken: carol")
        XCTAssertTrue(try carol.next().hasPrefix("PROBE "))
        let t0 = Date()
        XCTAssertEqual(try asker.register("alice"), "OK NICK alice")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4.0)
        try a.waitForLog("its host vanished")
    }
}
