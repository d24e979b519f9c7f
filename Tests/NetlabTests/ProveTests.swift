// netlab prove: scripts this project writes, each checked against what the kernel is known to do
// (RFC 9293's handshake, RFC 6298's doubling RTO) with tshark as the oracle for the capture; copies
// with one expected field changed must fail naming the line and the field; syntax errors give
// file:line:column and 65; no privilege gives 2; a SIGKILL leaves no namespace or process behind.
import Foundation
import XCTest

final class ProveTests: XCTestCase, ProveScriptTests {
    /// Passive open, one write acknowledged, close. tcp_rmem is set so the window scale (7) does not
    /// depend on the machine's memory.
    static let handshake = """
        // The three-way handshake, passive open (RFC 9293 3.5), one write acknowledged, a close.
        0   `sysctl -q net.ipv4.tcp_rmem="4096 131072 6291456"`
        +0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0  bind(3, ..., ...) = 0
        +0  listen(3, 1) = 0
        +0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
        +0  > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
        +.1 < . 1:1(0) ack 1 win 257
        +0  accept(3, ..., ...) = 4
        +0  write(4, ..., 1000) = 1000
        +0  > P. 1:1001(1000) ack 1
        +.1 < . 1:1(0) ack 1001 win 257
        +0  close(4) = 0
        +0  > F. 1001:1001(0) ack 1

        """

    /// Data never acknowledged: retransmitted after the RTO, then after twice and four times it
    /// (RFC 6298 5.5). Tail loss probes are off so every resend is a timeout.
    static let rto = """
        0   `sysctl -q net.ipv4.tcp_rmem="4096 131072 6291456" net.ipv4.tcp_early_retrans=0`
        +0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0  bind(3, ..., ...) = 0
        +0  listen(3, 1) = 0
        +0  < S 0:0(0) win 32792 <mss 1000,nop,nop,sackOK,nop,wscale 7>
        +0  > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
        +.1 < . 1:1(0) ack 1 win 257
        +0  accept(3, ..., ...) = 4
        +0  write(4, ..., 1000) = 1000
        +0  > P. 1:1001(1000) ack 1
        +.3 > P. 1:1001(1000) ack 1
        +.6 > P. 1:1001(1000) ack 1
        +.1 < . 1:1(0) ack 1001 win 257

        """

    func testHandshakeHoldsAndTheCaptureNamesEachLine() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let script = try write(Self.handshake, "handshake.pkt", in: dir)
        let r = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", script])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("held: 14 of 14 lines held"), r.stdout)
        // tshark, not netlab, reads the capture: six segments, in order, each commented with its line.
        let pcap = dir + "/out/handshake.pcapng"
        let rows = try TestSupport.tsharkFields(pcap, ["tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.len",
                                                       "ip.src", "tcp.dstport", "frame.comment"])
        XCTAssertEqual(rows.count, 6, "\(rows)")
        guard rows.count == 6 else { return }
        XCTAssertEqual(rows[0][0], "1")                       // the injected SYN
        XCTAssertEqual(rows[0][4], "192.0.2.1")
        XCTAssertEqual(rows[0][5], "8080")
        XCTAssertEqual(Array(rows[1][0...1]), ["1", "1"])      // the kernel's SYN-ACK
        XCTAssertEqual(rows[1][4], "192.168.0.2")
        XCTAssertEqual(rows[3][3], "1000")                     // the data segment
        XCTAssertEqual(rows[5][2], "1")                        // the FIN
        XCTAssertTrue(rows[1][6].contains("handshake.pkt:8: expected by"), rows[1][6])
        XCTAssertTrue(rows[0][6].contains("handshake.pkt:7: injected by"), rows[0][6])
        XCTAssertEqual(try TestSupport.tsharkCount(pcap, filter: "_ws.malformed || _ws.expert.severity >= error"), 0)
        // The TCP_INFO timeline: one row per line, the connection's cwnd once it is accepted.
        let csv = try String(contentsOfFile: dir + "/out/handshake.timeline.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "line,time_s,event,state,ca_state,cwnd,ssthresh,rto_us,rtt_us,rttvar_us,unacked,retransmits,total_retrans,backoff,snd_mss,rcv_mss")
        XCTAssertEqual(lines.count, 15)
        XCTAssertTrue(lines.contains { $0.hasPrefix("10,") && $0.contains(",ESTABLISHED,Open,10,") }, csv)
        // The page: the script beside its time-sequence graph, each kernel segment labelled with its line.
        let html = try String(contentsOfFile: dir + "/out/handshake.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2, "the graph and the TCP_INFO timeline")
        XCTAssertTrue(html.contains("<title>line 12: P. 1:1001(1000)</title>"), html)
        XCTAssertTrue(html.contains("<title>line 13: ack 1001</title>"), html)
        // --json: the whole run.
        let j = try TestSupport.run(netlab, ["prove", "--json", "--out", dir + "/out", script])
        XCTAssertEqual(j.status, 0, j.stderr)
        let runs = try JSONSerialization.jsonObject(with: j.stdoutData) as? [[String: Any]]
        XCTAssertEqual(runs?.first?["passed"] as? Bool, true)
        XCTAssertEqual((runs?.first?["events"] as? [Any])?.count, 14)
    }

    /// packetdrill's other two modes: IPv6 on the wire (tshark sees 2001:db8::1 and fd3d:fa7b:d17d::2, and
    /// the kernel's MSS is 1440, 20 bytes less than over IPv4), and AF_INET6 sockets over IPv4.
    func testIPv6AndIPv4MappedModes() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let v6 = try write("--ip_version=ipv6\n" + Self.handshake.replacingOccurrences(of: "<mss 1460,", with: "<mss 1440,"),
                           "v6.pkt", in: dir)
        let r = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", v6])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let rows = try TestSupport.tsharkFields(dir + "/out/v6.pcapng", ["ipv6.src", "ipv6.dst", "tcp.options.mss_val"])
        XCTAssertEqual(rows.count, 6, "\(rows)")
        XCTAssertEqual(rows.first.map { Array($0[0...1]) }, ["2001:db8::1", "fd3d:fa7b:d17d::2"])
        XCTAssertEqual(rows.count > 1 ? rows[1][2] : "", "1440")
        // The IPv4 MSS in an IPv6 run fails on that option.
        let wrong = try write("--ip_version=ipv6\n" + Self.handshake, "v6wrong.pkt", in: dir)
        let w = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", wrong])
        XCTAssertEqual(w.status, 1, w.stdout)
        XCTAssertTrue(w.stdout.contains("field option 1 (mss)"), w.stdout)
        let mapped = try write("--ip_version=ipv4-mapped-ipv6\n" + Self.handshake, "mapped.pkt", in: dir)
        let m = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", mapped])
        XCTAssertEqual(m.status, 0, m.stdout + m.stderr)
        XCTAssertEqual(try TestSupport.tsharkFields(dir + "/out/mapped.pcapng", ["ip.src"]).first, ["192.0.2.1"])
    }

    /// One expected field changed, one copy each: the run fails at that line naming the field.
    func testOneChangedFieldFailsNamingTheLineAndTheField() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let cases: [(String, String, String, String)] = [
            // (what is changed, replaced by, the line, the field the verdict must name)
            ("> S. 0:0(0) ack 1 <", "> S. 0:0(0) ack 2 <", "8", "field ack"),
            ("sackOK,nop,wscale 7>\n+.1", "sackOK,nop,wscale 6>\n+.1", "8", "field option 6 (wscale)"),
            ("> P. 1:1001(1000) ack 1", "> P. 1:1001(1000) ack 1 win 9999", "12", "field win"),
            ("> F. 1001:1001(0)", "> R. 1001:1001(0)", "15", "field flags"),
            ("+0  > P. 1:1001(1000)", "+.2 > P. 1:1001(1000)", "12", "field time"),
        ]
        for (i, (from, to, line, field)) in cases.enumerated() {
            XCTAssertTrue(Self.handshake.contains(from), from)
            let script = try write(Self.handshake.replacingOccurrences(of: from, with: to), "changed\(i).pkt", in: dir)
            let r = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", script])
            XCTAssertEqual(r.status, 1, "\(to): " + r.stdout + r.stderr)
            XCTAssertTrue(r.stdout.contains("FAILED \(script):\(line):"), "\(to): " + r.stdout)
            XCTAssertTrue(r.stdout.contains(field), "\(to): " + r.stdout)
            XCTAssertTrue(r.stdout.contains("TCP_INFO then:"), r.stdout)
            if field != "field time" {
                XCTAssertTrue(r.stdout.contains("<-- differs"), r.stdout)
            }
        }
    }

    func testRetransmissionTimeoutDoublesAndIsExplained() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let script = try write(Self.rto, "rto.pkt", in: dir)
        let r = try TestSupport.run(netlab, ["prove", "--explain", "--out", dir + "/out", script])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("A retransmission on timeout"), r.stdout)
        XCTAssertTrue(r.stdout.contains("RFC 6298 5.4-5.5"), r.stdout)
        XCTAssertTrue(r.stdout.contains("This was timeout number 2: RTO x 2^1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("SYN-ACK (RFC 9293 3.5)"), r.stdout)
        // Halving the second wait makes the same run fail on that line's time.
        let early = try write(Self.rto.replacingOccurrences(of: "+.6 > P.", with: "+.3 > P."), "early.pkt", in: dir)
        let f = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", early])
        XCTAssertEqual(f.status, 1, f.stdout)
        XCTAssertTrue(f.stdout.contains("FAILED \(early):13:"), f.stdout)
        XCTAssertTrue(f.stdout.contains("late)"), f.stdout)
    }

    func testSyntaxErrorsNameFileLineAndColumnAndExit65() throws {
        let dir = try TestSupport.tempDir()
        let cases: [(String, String)] = [
            ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 100 <mss 1000,foo>\n", ":2:33: expected a TCP option"),
            ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 frobnicate(3) = 0\n", ":2:4: unknown syscall 'frobnicate'"),
            ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0 <mss 1460>\n", ":2:14: expected ')' after the payload length"),
            ("0 socket(..., SOCK_STREAM, BOGUS) = 3\n", ":1:28: unknown constant 'BOGUS'"),
            ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:10(0)\n", ":2:8: inconsistent sequence numbers"),
            ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < Q 0:0(0)\n", ":2:6: unknown TCP flag 'Q'"),
            ("* socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", ":1:1: '*' and time ranges are for expected ('>') segments only"),
        ]
        for (i, (text, want)) in cases.enumerated() {
            let script = try write(text, "bad\(i).pkt", in: dir)
            let r = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", script])
            XCTAssertEqual(r.status, 65, r.stderr)
            XCTAssertTrue(r.stderr.contains(script + want), "wanted \(want) in: " + r.stderr)
        }
        // Nothing was run, nothing written.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
        let u = try TestSupport.run(netlab, ["prove"])
        XCTAssertEqual(u.status, 64, u.stderr)
    }

    func testWithoutPrivilegeItSaysWhatIsNeededAndExits2() throws {
        try TestSupport.requireRoot("dropping root with setpriv to run as nobody")
        let setpriv = try TestSupport.requireTool("setpriv")
        let dir = try TestSupport.tempDir()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        let script = try write(Self.handshake, "handshake.pkt", in: dir)
        let r = try TestSupport.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                              "--bounding-set=-all", netlab, "prove", "--out", dir + "/out", script])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("CAP_NET_ADMIN"), r.stderr)
        XCTAssertTrue(r.stderr.contains("CAP_NET_RAW"), r.stderr)
    }

    /// A call that blocks forever is named; a SIGKILL of netlab prove leaves no process, namespace or
    /// tun device behind, and the next run works.
    func testBlockedCallAndSIGKILLLeaveNothingBehind() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let blocked = try write(Self.handshake.replacingOccurrences(of: "+0  write(4, ..., 1000) = 1000",
                                                                    with: "+0  read(4, ..., 1000) = 1000"), "blocked.pkt", in: dir)
        let b = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", blocked])
        XCTAssertEqual(b.status, 1, b.stdout)
        XCTAssertTrue(b.stdout.contains("FAILED \(blocked):11:"), b.stdout)
        XCTAssertTrue(b.stdout.contains("read() blocked"), b.stdout)

        let marker = "4\(Int.random(in: 100000...999999))"
        let hang = try write("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 `sleep \(marker) & sleep \(marker)`\n",
                             "hang.pkt", in: dir)
        func sleeperPids() -> [String] {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return pids.filter { Int($0) != nil }.filter { pid in
                let cmd = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
                return String(decoding: cmd, as: UTF8.self).contains("sleep\u{0}\(marker)")
            }
        }
        func sleepers() -> Int { sleeperPids().count }
        func netNamespaces() -> Set<String> {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return Set(pids.filter { Int($0) != nil }.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/net") })
        }
        let before = netNamespaces()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: netlab)
        p.arguments = ["prove", "--out", dir + "/out", hang]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var waited = 0
        while sleepers() < 2 && waited < 100 {
            usleep(100_000)
            waited += 1
        }
        XCTAssertEqual(sleepers(), 2, "the shell line's two sleeps run inside the experiment")
        // The experiment's own namespace: the one its shell line's sleeps run in (other tests or
        // programs on the machine may make namespaces of their own meanwhile: only this one counts).
        let ours = Set(sleeperPids().compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/net") })
        XCTAssertEqual(ours.count, 1, "the experiment's processes share one namespace")
        XCTAssertTrue(ours.isDisjoint(with: before), "the experiment has its own namespace")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        waited = 0
        while (sleepers() > 0 || !netNamespaces().isDisjoint(with: ours)) && waited < 50 {
            usleep(100_000)
            waited += 1
        }
        XCTAssertEqual(sleepers(), 0, "no process of the killed run is left")
        XCTAssertEqual(netNamespaces().intersection(ours), [], "no namespace of the killed run is left")
        XCTAssertFalse(try TestSupport.sh("ip link show tun0").status == 0, "no tun0 on the host")
        let again = try TestSupport.run(netlab, ["prove", "--out", dir + "/out", try write(Self.handshake, "again.pkt", in: dir)])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
    }
}
