// On the wire (root): packets injected by netlab as tcpdump sees them, the
// injector's --capture round trip (and that it notices a packet the kernel
// dropped), and the capture executable (filters, errors, SIGINT, pcapng).
import Foundation
import XCTest

final class LiveTests: XCTestCase {
    var injector: String { TestSupport.product("injector") }
    var capture: String { TestSupport.product("capture") }

    /// A port unlikely to collide with anyone else's traffic on this shared machine.
    func randomPort() -> Int { Int.random(in: 20_000...29_999) }

    /// Starts a background process; the caller ends it by PID.
    func spawn(_ path: String, _ args: [String], stderr: FileHandle? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = stderr ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    func waitForFile(_ path: String, timeout: TimeInterval = 10) {
        let end = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: path) && Date() < end { usleep(20_000) }
        usleep(300_000)
    }

    func stop(_ p: Process) {
        if p.isRunning { kill(p.processIdentifier, SIGINT) }
        p.waitUntilExit()
    }

    func testInjectedPacketsAsTcpdumpSeesThem() throws {
        try TestSupport.requireRoot("raw sockets and packet capture")
        let tcpdump = try TestSupport.requireTool("tcpdump")
        let dir = try TestSupport.tempDir()
        let port = randomPort()
        let oracle = dir + "/tcpdump.pcap"
        let dump = try spawn(tcpdump, ["-i", "lo", "-U", "--immediate-mode", "-n", "-w", oracle,
                                          "tcp and dst port \(port) and tcp[tcpflags] & tcp-rst == 0"])
        waitForFile(oracle)
        let r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--inject", "--handshake", "--dst-port", "\(port)",
                                               "--write", dir + "/crafted.pcap", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        usleep(500_000)
        stop(dump)
        // Every client->server packet crafted is on the wire, byte for byte (tcpdump's capture, tshark's reading).
        let crafted = try TestSupport.tsharkFields(dir + "/crafted.pcap", ["ip.id", "tcp.seq_raw", "tcp.flags", "tcp.payload"],
                                                   filter: "tcp.dstport == \(port)")
        let seen = try TestSupport.tsharkFields(oracle, ["ip.id", "tcp.seq_raw", "tcp.flags", "tcp.payload"])
        XCTAssertEqual(crafted.count, 15, "client->server packets in the sample with a handshake")
        XCTAssertEqual(seen.map { $0.joined(separator: "|") }, crafted.map { $0.joined(separator: "|") })
        XCTAssertEqual(try TestSupport.tsharkCount(oracle, filter: "ip.checksum.status == 0 || tcp.checksum.status == 0"), 0)
    }

    func testRoundTripCapturesAndMatchesEveryPacket() throws {
        try TestSupport.requireRoot("raw sockets and packet capture")
        let dir = try TestSupport.tempDir()
        let port = randomPort()
        let r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--capture", dir + "/rt.pcapng", "--handshake",
                                               "--dst-port", "\(port)", "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try JSONSerialization.jsonObject(with: r.stdoutData) as! [String: Any]
        let rt = doc["round_trip"] as! [String: Any]
        XCTAssertEqual(rt["ok"] as? Bool, true)
        XCTAssertEqual(rt["interface"] as? String, "lo")
        let packets = rt["packets"] as! [[String: Any]]
        XCTAssertEqual(packets.count, 27)
        XCTAssertTrue(packets.allSatisfy { $0["intact"] as? Bool == true })
        XCTAssertEqual(rt["kernel_dropped"] as? Int, 0)
        // No socket listens on the port, so the kernel resets: netlab names them instead of calling them ours.
        XCTAssertGreaterThan(rt["kernel_resets"] as? Int ?? 0, 0)
        // The capture file is real and complete: tshark reads every frame the table points at.
        let frames = try TestSupport.tsharkFields(dir + "/rt.pcapng", ["frame.number"])
        let maxFrame = packets.compactMap { $0["frame"] as? Int }.max()!
        XCTAssertGreaterThanOrEqual(frames.count, maxFrame)

        // The text table, as a person reads it.
        let t = try TestSupport.run(injector, [TestSupport.sampleCSV, "--capture", dir + "/rt2.pcap", "--dst-port", "\(port)"])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("verdict: all 11 packets (10 messages) arrived intact"), t.stdout)
    }

    /// The round trip must notice damage: inside a private network namespace an nftables rule
    /// rewrites the DSCP of the FIN segments on their way out, before they reach lo; the injector must
    /// report exactly those two as altered, naming the field, and exit 1.
    func testRoundTripReportsPacketsAlteredOnTheWay() throws {
        try TestSupport.requireRoot("network namespaces and nftables")
        let ip = try TestSupport.requireTool("ip")
        _ = try TestSupport.requireTool("nft")
        let ns = "nltest\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(try TestSupport.run(ip, ["netns", "add", ns]).status, 0)
        defer { _ = try? TestSupport.run(ip, ["netns", "del", ns]) }
        let setup = """
            ip -n \(ns) link set lo up && \
            ip netns exec \(ns) nft add table ip nl && \
            ip netns exec \(ns) nft add chain ip nl out '{ type filter hook output priority 0; }' && \
            ip netns exec \(ns) nft add rule ip nl out 'tcp flags & fin == fin ip dscp set cs1'
            """
        let s = try TestSupport.sh(setup)
        XCTAssertEqual(s.status, 0, s.stderr)
        let dir = try TestSupport.tempDir()
        let r = try TestSupport.run(ip, ["netns", "exec", ns, injector, TestSupport.sampleCSV, "--handshake",
                                         "--capture", dir + "/lossy.pcap", "--format", "json"])
        XCTAssertEqual(r.status, 1, "an altered packet fails the round trip")
        XCTAssertTrue(r.stderr.contains("round trip failed: 2 of 27 packets missing or altered"), r.stderr)
        let doc = try JSONSerialization.jsonObject(with: r.stdoutData) as! [String: Any]
        let packets = (doc["round_trip"] as! [String: Any])["packets"] as! [[String: Any]]
        let altered = packets.filter { $0["intact"] as? Bool == false }
        XCTAssertEqual(altered.map { $0["packet"] as! Int }, [25, 26], "the two FIN segments")
        for a in altered {
            XCTAssertEqual(a["identical"] as? Bool, false)
            XCTAssertEqual(a["ipv4_checksum_ok"] as? Bool, true, "nftables fixed the header checksum")
            XCTAssertTrue((a["difference"] as? String ?? "").contains("IPv4 DSCP/ECN differs at byte 1: captured 0x20, crafted 0x00"),
                          "\(a)")
        }
    }

    func testCaptureExecutable() throws {
        try TestSupport.requireRoot("packet capture")
        let dir = try TestSupport.tempDir()
        let port = randomPort()
        // Errors: bad filter, unknown interface; neither leaves a file.
        var r = try TestSupport.run(capture, ["-w", dir + "/a.pcap", "tcp", "prot", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("invalid filter 'tcp prot 1'"), r.stderr)
        r = try TestSupport.run(capture, ["-i", "nosuch0", "-w", dir + "/a.pcap"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no interface 'nosuch0'") && r.stderr.contains("lo"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
        r = try TestSupport.run(capture, ["--list-interfaces"])
        XCTAssertTrue(r.stdout.contains("lo ") && r.stdout.contains("loopback"), r.stdout)

        // A count limit on "any", pcapng: exactly the injected client->server segments.
        let errFile = dir + "/err.txt"
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        let p = try spawn(capture, ["-w", dir + "/c.pcapng", "-c", "11", "--json", "tcp", "dst", "port", "\(port)"],
                          stderr: FileHandle(forWritingAtPath: errFile))
        usleep(800_000)
        r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--inject", "--dst-port", "\(port)", "--server", "client",
                                           "--write", dir + "/i.pcap"])
        XCTAssertEqual(r.status, 0, r.stderr)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let rows = try TestSupport.tsharkFields(dir + "/c.pcapng", ["frame.interface_name", "sll.ifindex", "tcp.dstport"])
        XCTAssertEqual(rows.count, 11)
        XCTAssertTrue(rows.allSatisfy { $0[0] == "any" && $0[2] == "\(port)" })

        // SIGINT stops cleanly: the file holds everything so far and is valid.
        let q = try spawn(capture, ["-w", dir + "/s.pcap", "tcp", "port", "\(port)"])
        usleep(800_000)
        r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--inject", "--dst-port", "\(port)", "--write", dir + "/j.pcap"])
        usleep(300_000)
        stop(q)
        XCTAssertEqual(q.terminationStatus, 0)
        let capinfos = try TestSupport.requireTool("capinfos")
        let info = try TestSupport.run(capinfos, ["-c", dir + "/s.pcap"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertEqual(try TestSupport.tsharkCount(dir + "/s.pcap", filter: "tcp.len > 0"), 11)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.contains(".tmp-") })
    }

    /// Ctrl-C (or SIGTERM) in the middle of a slow round trip: exit 130 (143), as a shell reports
    /// a command a signal stopped (issue 8), and neither the capture nor a temporary file stays behind.
    func testInterruptedRoundTripLeavesNoFile() throws {
        try TestSupport.requireRoot("raw sockets and packet capture")
        for sig in [SIGINT, SIGTERM] {
            let dir = try TestSupport.tempDir()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: injector)
            p.arguments = [TestSupport.sampleCSV, "--capture", dir + "/rt.pcap", "--gap", "300", "--dst-port",
                           "\(randomPort())"]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            usleep(1_200_000)
            kill(p.processIdentifier, sig)
            p.waitUntilExit()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 128 + sig, text)
            XCTAssertTrue(text.contains("interrupted"), text)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "signal \(sig): nothing left")
        }
    }

    /// Without CAP_NET_RAW/CAP_NET_ADMIN (as user nobody): capture says what is missing and how to
    /// grant it, exits 1, and writes nothing.
    /// `capture --help` and `-h` print the help (they used to be taken as a filter: "invalid
    /// filter '--help'"), and the help gives the default output file.
    func testCaptureHelp() throws {
        for args in [["--help"], ["-h"], ["-i", "lo", "--help"], ["tcp", "port", "80", "-h"]] {
            let r = try TestSupport.run(TestSupport.product("capture"), args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE: capture"), "\(args): \(r.stdout)")
            let flat = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
            XCTAssertTrue(flat.contains("(default: capture.pcap)"), r.stdout)
            XCTAssertTrue(flat.contains("'-' writes to standard output"), r.stdout)
            XCTAssertFalse(r.stderr.contains("invalid filter"), r.stderr)
        }
    }

    func testCaptureWithoutPrivilege() throws {
        try TestSupport.requireRoot("dropping to user nobody needs root first")
        let setpriv = try TestSupport.requireTool("setpriv")
        let dir = try TestSupport.tempDir()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir)
        let r = try TestSupport.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                              capture, "-w", dir + "/x.pcap", "tcp", "port", "12345"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("CAP_NET_RAW") && r.stderr.contains("setcap cap_net_raw,cap_net_admin+ep"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}
