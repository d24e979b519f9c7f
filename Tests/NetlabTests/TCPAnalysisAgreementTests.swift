// TCP analysis against tshark, frame by frame, on real impaired traffic: kernel
// TCP between two network namespaces this test creates and removes, a tbf rate
// limit with a small queue and an nftables `numgen random` drop rule (no netem
// on this kernel), a receiver that stops reading (zero window), an idle
// connection kept alive, captured with tcpdump. For every flag kind tshark
// reports, netlab must find >= 99% of its frames and add <= 1%; the median of
// tcp.analysis.ack_rtt must agree within 5%.
import Foundation
import Netlab
import XCTest

final class TCPAnalysisAgreementTests: XCTestCase {
    static let fields = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
                         "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
                         "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack"]

    struct Scenario {
        var name: String
        var rate = "20mbit"
        var dropEvery = 50          // 1 in N data segments, dropped in the sender's namespace (before the capture)
        var dropAtReceiver = 0      // 1 in N, dropped in the receiver's namespace (after the capture)
        var bytes = 4_000_000
        var pause = 0.0             // the receiver stops reading this long: zero window
        var rcvbuf = 0
        var keepalive = false
    }

    /// Make the traffic; return the capture's path (in dir).
    func impairedCapture(_ s: Scenario, dir: URL) throws -> String {
        try Lab.requireRoot("the TCP analysis agreement test")
        Lab.requireTools(["tshark", "tcpdump", "nft", "tc", "ip"])
        let tag = String(format: "%05x", UInt32.random(in: 0..<0xfffff))
        let nsA = "nlta\(tag)a", nsB = "nlta\(tag)b", vA = "nlt\(tag)a", vB = "nlt\(tag)b"
        let net = Int.random(in: 1...250), port = Lab.randomPortBase()
        let srv = "10.79.\(net).2"
        defer {
            _ = try? Lab.run("ip", ["netns", "del", nsA], timeout: 30)
            _ = try? Lab.run("ip", ["netns", "del", nsB], timeout: 30)
        }
        func sh(_ exe: String, _ args: [String]) throws {
            let r = try Lab.run(exe, args, timeout: 30)
            guard r.status == 0 else {
                throw NSError(domain: "netns", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey:
                    "\(exe) \(args.joined(separator: " ")): \(r.stderr)"])
            }
        }
        try sh("ip", ["netns", "add", nsA])
        try sh("ip", ["netns", "add", nsB])
        try sh("ip", ["link", "add", vA, "netns", nsA, "type", "veth", "peer", "name", vB, "netns", nsB])
        for (ns, dev, host) in [(nsA, vA, 1), (nsB, vB, 2)] {
            try sh("ip", ["-n", ns, "link", "set", "lo", "up"])
            try sh("ip", ["-n", ns, "addr", "add", "10.79.\(net).\(host)/24", "dev", dev])
            try sh("ip", ["-n", ns, "link", "set", dev, "up"])
        }
        // The bottleneck: a token bucket with a small queue (it drops what overflows).
        try sh("ip", ["netns", "exec", nsA, "tc", "qdisc", "add", "dev", vA, "root", "tbf", "rate", s.rate,
                      "burst", "16kb", "limit", "30kb"])
        func dropRule(_ ns: String, _ hook: String, _ every: Int, _ match: [String]) throws {
            try sh("ip", ["netns", "exec", ns, "nft", "add", "table", "inet", "nltest"])
            try sh("ip", ["netns", "exec", ns, "nft", "add", "chain", "inet", "nltest", hook,
                          "{ type filter hook \(hook) priority 0; }"])
            try sh("ip", ["netns", "exec", ns, "nft", "add", "rule", "inet", "nltest", hook] + match
                   + ["numgen", "random", "mod", "\(every)", "==", "0", "drop"])
        }
        if s.dropEvery > 0 {
            try dropRule(nsA, "output", s.dropEvery, ["ip", "daddr", srv, "tcp", "dport", "\(port)"])
        }
        if s.dropAtReceiver > 0 {
            try dropRule(nsB, "input", s.dropAtReceiver, ["ip", "daddr", srv, "tcp", "dport", "\(port)"])
        }
        let pcap = dir.appendingPathComponent("\(s.name).pcap").path
        let cap = try Lab.Background("ip", ["netns", "exec", nsB, "tcpdump", "-n", "-U", "--immediate-mode", "-B", "16384",
                                            "-s", "128", "-i", vB, "-w", pcap], label: "tcpdump-\(s.name)", dir: dir)
        try cap.waitFor("listening on", timeout: 30)
        let py = TsharkAgreementTests_python, script = Lab.labDir.appendingPathComponent("tcpstress.py").path
        var sargs = ["netns", "exec", nsB, py, script, "serve", srv, "\(port)"]
        if s.rcvbuf > 0 { sargs += ["--rcvbuf", "\(s.rcvbuf)"] }
        if s.pause > 0 { sargs += ["--pause", "\(s.pause)"] }
        if s.keepalive { sargs.append("--keepalive") }
        let server = try Lab.Background("ip", sargs, label: "server-\(s.name)", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("ready", timeout: 30)
        var dargs = ["netns", "exec", nsA, py, script, "drive", srv, "\(port)", "--bytes", "\(s.bytes)"]
        if s.keepalive { dargs.append("--keepalive") }
        let d = try Lab.run("ip", dargs, timeout: 120)
        XCTAssertEqual(d.status, 0, "the transfer: \(d.stderr)")
        try server.waitFor("received \(s.bytes)", timeout: 60)
        usleep(500_000)
        cap.stop(SIGINT)
        return pcap
    }

    struct Row { let field: String; let tshark: Int; let netlab: Int; let found: Double; let extra: Double }

    /// Compare every flag frame by frame; returns the table and asserts the goals.
    @discardableResult
    func assertAgrees(_ pcap: String, _ name: String, rtt: Bool = true, file: StaticString = #filePath,
                      line: UInt = #line) throws -> [Row] {
        var args = ["-r", pcap, "-Y", "tcp", "-T", "fields", "-e", "frame.number"]
        for f in Self.fields { args += ["-e", "tcp.analysis.\(f)"] }
        args += ["-e", "tcp.analysis.ack_rtt"]
        let t = try Lab.run("tshark", args, timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr, file: file, line: line)
        var theirs = [String: Set<UInt64>](), theirRTT = [Double]()
        for l in t.text.split(separator: "\n") {
            let c = l.split(separator: "\t", omittingEmptySubsequences: false)
            guard c.count == Self.fields.count + 2, let n = UInt64(c[0]) else { continue }
            for (i, f) in Self.fields.enumerated() where !c[i + 1].isEmpty { theirs[f, default: []].insert(n) }
            if let r = Double(c[c.count - 1]) { theirRTT.append(r * 1000) }
        }
        var o = AnalyzeOptions()
        o.maxListed = 10_000_000
        o.packets = true
        let a = try Analysis(path: pcap, options: o)
        var ours = [String: Set<UInt64>]()
        for f in a.tcpFlags { ours[f.field] = Set(f.frames); XCTAssertEqual(UInt64(f.frames.count), f.total) }
        var ourRTT = [Double]()
        for i in 0..<a.tcpPacketCount { let p = a.tcpPacket(at: i); if p.ackedFrame > 0 { ourRTT.append(p.ackRttMs) } }

        var rows = [Row]()
        print("agreement \(name): \(a.summary.packets) packets")
        print("  flag kind                   tshark   netlab   found %   extra %")
        for f in Self.fields {
            let th = theirs[f] ?? [], us = ours[f] ?? []
            guard !th.isEmpty || !us.isEmpty else { continue }
            let found = th.isEmpty ? 100 : 100 * Double(th.intersection(us).count) / Double(th.count)
            let extra = 100 * Double(us.subtracting(th).count) / Double(max(th.count, 1))
            rows.append(Row(field: f, tshark: th.count, netlab: us.count, found: found, extra: extra))
            print("  " + f.padding(toLength: 24, withPad: " ", startingAt: 0)
                  + String(format: " %9d %8d %9.2f %9.2f", th.count, us.count, found, extra))
            XCTAssertGreaterThanOrEqual(found, 99, "\(name): \(f): missing \(th.subtracting(us).sorted().prefix(10))",
                                        file: file, line: line)
            XCTAssertLessThanOrEqual(extra, 1, "\(name): \(f): extra \(us.subtracting(th).sorted().prefix(10))",
                                     file: file, line: line)
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        XCTAssertEqual(theirRTT.isEmpty, !rtt, file: file, line: line)
        if !theirRTT.isEmpty && !ourRTT.isEmpty {
            let m1 = median(theirRTT), m2 = median(ourRTT)
            print(String(format: "  ack_rtt median: tshark %.4f ms (%d samples), netlab %.4f ms (%d samples)",
                         m1, theirRTT.count, m2, ourRTT.count))
            XCTAssertLessThanOrEqual(abs(m1 - m2), 0.05 * m1, "\(name): RTT median", file: file, line: line)
        }
        return rows
    }

    /// The issue's case: a bulk transfer through a congested link. It must not report 0 retransmissions.
    func testCongestedBulkTransfer() throws {
        let dir = Lab.tempDir("tcp-congested")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = try impairedCapture(Scenario(name: "congested"), dir: dir)
        let rows = try assertAgrees(pcap, "congested")
        let a = try Analysis(path: pcap)
        XCTAssertGreaterThan(a.summary.retransmissions, 0, "a congested link loses segments and TCP resends them")
        XCTAssertEqual(Int(a.summary.retransmissions), rows.first { $0.field == "retransmission" }?.tshark)
        XCTAssertGreaterThan(rows.first { $0.field == "lost_segment" }?.tshark ?? 0, 0)
        XCTAssertTrue(a.notes.contains { $0.kind == "tcp-summary" })
        // The figures of the bulk conversation.
        let f = try XCTUnwrap(a.tcpFigures(at: 0))
        XCTAssertEqual(f.mssC2S, 1460)
        XCTAssertTrue(f.sack)
        XCTAssertTrue(f.timestamps)
        XCTAssertGreaterThan(f.rttSamples, 100)
        XCTAssertNotNil(f.handshakeMs)
        XCTAssertGreaterThan(f.throughputBpsC2S, 1e6)
        XCTAssertLessThan(f.throughputBpsC2S, 25e6, "below the 20 Mbit/s bucket, plus its burst")
        XCTAssertGreaterThan(f.maxInFlight, 0)
    }

    /// A receiver that stops reading (zero window, window full) and an idle connection with keep-alives.
    func testZeroWindowAndKeepAlive() throws {
        let dir = Lab.tempDir("tcp-zw")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = try impairedCapture(Scenario(name: "zero-window", dropEvery: 40, bytes: 3_000_000, pause: 1.5,
                                                rcvbuf: 32768, keepalive: true), dir: dir)
        let rows = try assertAgrees(pcap, "zero-window")
        for kind in ["zero_window", "window_update", "keep_alive", "keep_alive_ack", "duplicate_ack"] {
            XCTAssertGreaterThan(rows.first { $0.field == kind }?.tshark ?? 0, 0, "\(kind) occurs in this traffic")
        }
        let a = try Analysis(path: pcap)
        XCTAssertTrue(a.notes.contains { $0.kind == "zero-window" })
        // Cut by a snap length inside the TCP options: such segments move the state on, but
        // tshark shows no flags for them, and neither does netlab.
        for snap in [60, 80] {
            let cut = dir.appendingPathComponent("snap\(snap).pcap").path
            XCTAssertEqual(try Lab.run("editcap", ["-s", "\(snap)", pcap, cut]).status, 0)
            try assertAgrees(cut, "zero-window, snap length \(snap)", rtt: snap > 60)
        }
        XCTAssertTrue(a.notes.contains { $0.kind == "keep-alive" })
    }

    /// Losses after the capture point (the receiver's input drops what was captured), besides
    /// the bucket's own: resends of segments that are in the capture.
    func testLossBehindTheCapturePoint() throws {
        let dir = Lab.tempDir("tcp-rx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = try impairedCapture(Scenario(name: "receiver-drop", rate: "50mbit", dropEvery: 0, dropAtReceiver: 30,
                                                bytes: 2_000_000), dir: dir)
        let rows = try assertAgrees(pcap, "receiver-drop")
        XCTAssertGreaterThan(rows.first { $0.field == "retransmission" }?.tshark ?? 0, 0)
    }
}

let TsharkAgreementTests_python = "/usr/bin/python3"
