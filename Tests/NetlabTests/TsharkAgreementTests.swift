// analyze against tshark on captures made here and now: loopback traffic
// (greetings, multi-line exchanges, concurrent clients, a bulk transfer, a
// refused connection and an abortive close, UDP and ICMP noise, IPv6, packets
// crafted with wrong checksums, the injector's conversation) recorded at once by
// tcpdump and tshark on lo and any, pcap and pcapng, micro and nano, -s 60, two
// interfaces, a raw packet socket; and a veth pair with an 802.1Q VLAN between
// two network namespaces made and removed by the test. Every number analyze
// reports must match tshark's for the same file (TsharkOracle.swift).
import Foundation
import XCTest

/// Captures of one run of Tests/analyze-lab/traffic.py on loopback.
final class LoopbackLab {
    let dir: URL
    let base: Int
    var files = [String: String]()
    var drive = [String: Any]()

    static let python = "/usr/bin/python3"

    init() throws {
        dir = Lab.tempDir("lab-lo")
        base = Lab.randomPortBase()
        let b = base
        let filter = "((tcp or udp) and portrange \(b)-\(b + 9)) or (icmp and (icmp[4:2] = \(b) or icmp[30:2] = \(b + 4)))"
            + " or (icmp6 and ip6[90:2] = \(b + 6))"
        let lab = Lab.labDir.path
        let server = try Lab.Background(Self.python, ["\(lab)/traffic.py", "serve", "--base", "\(b)", "--host6", "::1",
                                                      "--timeout", "300"], label: "server", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("ready")

        func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let tcpdump = ["-B", "65536", "-U", "-n", "--immediate-mode"]
        var caps = [(String, Lab.Background, String)]()
        func start(_ name: String, _ exe: String, _ args: [String], ready: String) throws {
            caps.append((name, try Lab.Background(exe, args, label: name, dir: dir), ready))
        }
        try start("lo.pcap", "tcpdump", tcpdump + ["-i", "lo", "-w", path("lo.pcap"), filter], ready: "listening on")
        try start("lo-nano.pcap", "tcpdump", tcpdump + ["-i", "lo", "--time-stamp-precision=nano", "-w", path("lo-nano.pcap"), filter],
                  ready: "listening on")
        try start("any.pcap", "tcpdump", tcpdump + ["-i", "any", "-w", path("any.pcap"), filter], ready: "listening on")
        try start("any-sll1.pcap", "tcpdump", tcpdump + ["-i", "any", "-y", "LINUX_SLL", "-w", path("any-sll1.pcap"), filter],
                  ready: "listening on")
        try start("lo-s60.pcap", "tcpdump", tcpdump + ["-i", "lo", "-s", "60", "-w", path("lo-s60.pcap"), filter],
                  ready: "listening on")
        try start("lo.pcapng", "tshark", ["-n", "-q", "-B", "64", "-i", "lo", "-f", filter, "-F", "pcapng", "-w", path("lo.pcapng")],
                  ready: "Capturing on")
        try start("any.pcapng", "tshark", ["-n", "-q", "-B", "64", "-i", "any", "-f", filter, "-F", "pcapng", "-w", path("any.pcapng")],
                  ready: "Capturing on")
        try start("two.pcapng", "tshark", ["-n", "-q", "-B", "64", "-f", filter, "-i", "lo", "-i", "any", "-F", "pcapng",
                                           "-w", path("two.pcapng")], ready: "Capturing on")
        try start("sniffed.pcap", Self.python, ["\(lab)/sniff.py", "--iface", "lo", "--filter", filter, "--out", path("sniffed.pcap")],
                  ready: "ready")
        for (_, p, ready) in caps { try p.waitFor(ready, timeout: 30) }
        usleep(300_000)

        // The traffic.
        let d = try Lab.run(Self.python, ["\(lab)/traffic.py", "drive", "--base", "\(b)", "--host6", "::1"], timeout: 120)
        guard d.status == 0 else { throw NSError(domain: "lab", code: 1, userInfo: [NSLocalizedDescriptionKey: "traffic: \(d.stderr)"]) }
        drive = (try? JSONSerialization.jsonObject(with: d.stdout) as? [String: Any]) ?? [:]
        let c = try Lab.run(Self.python, ["\(lab)/craft.py", "--port", "\(b + 7)"], timeout: 60)
        guard c.status == 0 else { throw NSError(domain: "lab", code: 2, userInfo: [NSLocalizedDescriptionKey: "craft: \(c.stderr)"]) }
        let i = try Lab.run(Lab.product("injector"), ["samples/group01_chat_input.csv", "--inject", "--handshake",
                                                      "--dst-port", "\(b + 8)", "--src-port", "\(b + 9)"], timeout: 60,
                            cwd: Lab.repoRoot)
        guard i.status == 0 else { throw NSError(domain: "lab", code: 3, userInfo: [NSLocalizedDescriptionKey: "injector: \(i.stderr)"]) }
        usleep(1_500_000) // dumpcap hands over buffered packets at most every second
        for (name, p, _) in caps {
            p.stop(SIGINT)
            files[name] = path(name)
            guard FileManager.default.fileExists(atPath: path(name)) else {
                throw NSError(domain: "lab", code: 4, userInfo: [NSLocalizedDescriptionKey: "\(name) not written: \(p.stderr)"])
            }
        }
        // The same captures in the other byte order.
        for (from, to) in [("lo.pcap", "lo-be.pcap"), ("lo-nano.pcap", "lo-nano-be.pcap")] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path(from)))
            try Data(swapPcapByteOrder(Array(bytes))).write(to: URL(fileURLWithPath: path(to)))
            files[to] = path(to)
        }
    }

    /// NETLAB_KEEP_LAB=1 keeps the captures (their directory is printed) for a look afterwards.
    deinit {
        if ProcessInfo.processInfo.environment["NETLAB_KEEP_LAB"] == "1" { print("loopback lab kept in \(dir.path)") }
        else { try? FileManager.default.removeItem(at: dir) }
    }
}

/// Two namespaces joined by a veth pair (and a VLAN over it), with unique names;
/// always removed.
final class NamespaceLab {
    let dir: URL
    let nsA: String, nsB: String, vethA: String, vethB: String
    let net: Int
    var files = [String: String]()

    init() throws {
        dir = Lab.tempDir("lab-ns")
        let tag = String(format: "%05x", UInt32.random(in: 0..<0xfffff))
        nsA = "nlab\(tag)a"; nsB = "nlab\(tag)b"; vethA = "nlv\(tag)a"; vethB = "nlv\(tag)b"
        net = Int.random(in: 1...250)
        do { try build() } catch { remove(); throw error }
    }

    func ip(_ args: [String]) throws {
        let r = try Lab.run("ip", args, timeout: 30)
        guard r.status == 0 else {
            throw NSError(domain: "netns", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey:
                "ip \(args.joined(separator: " ")): \(r.stderr)"])
        }
    }

    func build() throws {
        try ip(["netns", "add", nsA])
        try ip(["netns", "add", nsB])
        try ip(["link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB])
        for (ns, dev, host) in [(nsA, vethA, 1), (nsB, vethB, 2)] {
            try ip(["-n", ns, "link", "set", "lo", "up"])
            try ip(["-n", ns, "addr", "add", "10.77.\(net).\(host)/24", "dev", dev])
            try ip(["-n", ns, "addr", "add", "fd77::\(host)/64", "dev", dev, "nodad"])
            try ip(["-n", ns, "link", "set", dev, "up"])
        }
        func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let py = LoopbackLab.python, lab = Lab.labDir.path, base = 20000
        let server = try Lab.Background("ip", ["netns", "exec", nsB, py, "\(lab)/traffic.py", "serve", "--host", "0.0.0.0",
                                               "--host6", "::", "--base", "\(base)", "--timeout", "300"], label: "server", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("ready")
        var caps = [(String, Lab.Background)]()
        // In A: the veth itself (Ethernet, with the VLAN's tagged frames), pcap and pcapng.
        caps.append(("ns-veth.pcap", try Lab.Background("ip", ["netns", "exec", nsA, "tcpdump", "-B", "65536", "-U", "-n",
                                                                 "--immediate-mode", "-i", vethA,
                                                                 "-w", path("ns-veth.pcap")], label: "ns-veth.pcap", dir: dir)))
        caps.append(("ns-veth.pcapng", try Lab.Background("ip", ["netns", "exec", nsA, "tshark", "-n", "-q", "-B", "64", "-i", vethA,
                                                                   "-F", "pcapng", "-w", path("ns-veth.pcapng")],
                                                          label: "ns-veth.pcapng", dir: dir)))
        // In B: every interface (SLL2), the receiving side of the veth.
        caps.append(("ns-any.pcap", try Lab.Background("ip", ["netns", "exec", nsB, "tcpdump", "-B", "65536", "-U", "-n",
                                                                "--immediate-mode", "-i", "any",
                                                                "-w", path("ns-any.pcap")], label: "ns-any.pcap", dir: dir)))
        for (name, p) in caps { try p.waitFor(name.hasSuffix("pcapng") ? "Capturing on" : "listening on", timeout: 30) }
        usleep(300_000)
        let d = try Lab.run("ip", ["netns", "exec", nsA, py, "\(lab)/traffic.py", "drive", "--host", "10.77.\(net).2",
                                   "--host6", "fd77::2", "--base", "\(base)"], timeout: 120)
        guard d.status == 0 else { throw NSError(domain: "netns", code: 9, userInfo: [NSLocalizedDescriptionKey: "traffic: \(d.stderr)"]) }
        // 802.1Q: this kernel may lack VLAN devices (8021q), so tagged frames are crafted with Scapy.
        let mac = try Lab.run("ip", ["netns", "exec", nsB, "cat", "/sys/class/net/\(vethB)/address"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let v = try Lab.run("ip", ["netns", "exec", nsA, py, "\(lab)/craft.py", "--vlan", "100", "--iface", vethA,
                                   "--src", "10.78.\(net).1", "--host", "10.78.\(net).2", "--port", "\(base + 7)",
                                   "--dst-mac", mac], timeout: 60)
        guard v.status == 0 else { throw NSError(domain: "netns", code: 10, userInfo: [NSLocalizedDescriptionKey: "vlan: \(v.stderr)"]) }
        usleep(1_500_000)
        for (name, p) in caps {
            p.stop(SIGINT)
            files[name] = path(name)
        }
    }

    func remove() {
        _ = try? Lab.run("ip", ["netns", "del", nsA], timeout: 30)
        _ = try? Lab.run("ip", ["netns", "del", nsB], timeout: 30)
    }

    deinit {
        remove()
        try? FileManager.default.removeItem(at: dir)
    }
}

final class TsharkAgreementTests: XCTestCase {
    static var loopback: Result<LoopbackLab, Error>?
    static var namespaces: Result<NamespaceLab, Error>?

    override class func tearDown() {
        loopback = nil
        namespaces = nil
        super.tearDown()
    }

    func lab() throws -> LoopbackLab {
        try Lab.requireRoot("the tshark agreement tests")
        Lab.requireTools(["tcpdump", "tshark", "editcap", "mergecap", LoopbackLab.python])
        if Self.loopback == nil { Self.loopback = Result { try LoopbackLab() } }
        return try Self.loopback!.get()
    }

    func nsLab() throws -> NamespaceLab {
        try Lab.requireRoot("the network-namespace tests")
        Lab.requireTools(["ip", "tcpdump", "tshark"])
        if Self.namespaces == nil { Self.namespaces = Result { try NamespaceLab() } }
        return try Self.namespaces!.get()
    }

    let texts = ["Welcome", "echo: line two", "udp noise 3"]

    // ---- every capture agrees with tshark ----

    func testLoopbackPcap() throws {
        let j = try assertAgreesWithTshark(try lab().files["lo.pcap"]!, texts: texts)
        XCTAssertEqual(j["link_type"] as? String, "EN10MB")
        try checkScenario(j)
    }

    func testLoopbackNanosecondPcap() throws {
        let j = try assertAgreesWithTshark(try lab().files["lo-nano.pcap"]!, texts: texts)
        XCTAssertEqual(j["nanosecond"] as? Bool, true)
        try checkScenario(j)
    }

    func testBigEndianPcaps() throws {
        for name in ["lo-be.pcap", "lo-nano-be.pcap"] {
            let j = try assertAgreesWithTshark(try lab().files[name]!, texts: texts)
            XCTAssertEqual(j["byte_order_swapped"] as? Bool, true)
            try checkScenario(j)
        }
    }

    func testAnyInterfaceSLL2AndSLL1() throws {
        let j2 = try assertAgreesWithTshark(try lab().files["any.pcap"]!, texts: texts)
        XCTAssertEqual(j2["link_type"] as? String, "LINUX_SLL2")
        XCTAssertEqual(j2["interfaces"] as? [String], ["ifindex 1"], "lo's interface index, from SLL2")
        try checkScenario(j2)
        let j1 = try assertAgreesWithTshark(try lab().files["any-sll1.pcap"]!, texts: texts)
        XCTAssertEqual(j1["link_type"] as? String, "LINUX_SLL")
        try checkScenario(j1)
    }

    func testPcapngFromTshark() throws {
        let lo = try assertAgreesWithTshark(try lab().files["lo.pcapng"]!, texts: texts)
        XCTAssertEqual(lo["format"] as? String, "pcapng")
        XCTAssertEqual(lo["interfaces"] as? [String], ["lo"], "the name from the interface description block")
        try checkScenario(lo)
        let any = try assertAgreesWithTshark(try lab().files["any.pcapng"]!, texts: texts)
        XCTAssertEqual((any["interfaces"] as? [String])?.first, "any")
        try checkScenario(any)
    }

    /// lo and any at once: each packet is recorded on both interfaces.
    func testTwoInterfacesPcapng() throws {
        let j = try assertAgreesWithTshark(try lab().files["two.pcapng"]!, texts: texts)
        XCTAssertEqual(Set(j["interfaces"] as? [String] ?? []).isSuperset(of: ["lo", "any"]), true, "\(j["interfaces"] ?? "")")
        XCTAssertEqual(j["link_type"] as? String, "MIXED")
    }

    /// A learner's own sniffer on lo keeps both copies of each packet.
    func testRawPacketSocketDuplicates() throws {
        let path = try lab().files["sniffed.pcap"]!
        let j = try assertAgreesWithTshark(path, texts: texts)
        let dups = j.duplicateFrames
        XCTAssertGreaterThan(dups.count, 50, "every loopback packet is seen leaving and arriving")
        XCTAssertGreaterThanOrEqual(dups.count * 4, j.int("packets"), "IPv4 packets with an identification have a copy")
        XCTAssertTrue(j.notes.contains { $0["kind"] as? String == "duplicate" })
        // The copies are byte-identical from the IP header on: ask tshark for both.
        let pairs = (j["duplicate_packets"] as? [[String: Any]] ?? []).prefix(5)
        for p in pairs {
            let a = p["packet"] as! Int, o = p["original"] as! Int
            let out = try Tshark.run(["-r", path, "-Y", "frame.number == \(a) || frame.number == \(o)", "-T", "fields", "-e", "ip.id",
                                      "-e", "tcp.seq_raw", "-e", "tcp.checksum", "-e", "udp.checksum", "-e", "frame.len"])
            let lines = out.split(separator: "\n")
            XCTAssertEqual(lines.count, 2)
            XCTAssertEqual(lines.first, lines.last, "frames \(o) and \(a) differ for tshark")
        }
    }

    /// A sniffer that cuts a frame without saying so (Scapy's packet socket keeps at most
    /// 65,535 bytes of a 65,549-byte loopback frame and records both lengths as 65,535):
    /// the IP length claims more than the frame holds. tshark still dissects the TCP
    /// header and takes the segment's length from what the frame holds; so does analyze,
    /// and it names the packet as malformed (seen on CI: one TCP frame short of tshark's).
    func testIPLengthBeyondAnUncutFrame() throws {
        let dir = Lab.tempDir("iplen")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c4: [UInt8] = [10, 0, 0, 1], s4: [UInt8] = [10, 0, 0, 2]
        let data = [UInt8](repeating: 0x61, count: 1400)
        func seg(_ from: [UInt8], _ to: [UInt8], _ sp: Int, _ dp: Int, _ seq: UInt32, _ ack: UInt32, _ fl: UInt8,
                 _ payload: [UInt8] = [], id: Int) -> [UInt8] {
            Pkt.tcp4(src: from, dst: to, sport: sp, dport: dp, seq: seq, ack: ack, flags: fl, payload: payload, id: id)
        }
        var l3 = [seg(c4, s4, 40000, 80, 100, 0, Pkt.SYN, id: 1), seg(s4, c4, 80, 40000, 900, 101, Pkt.SYN | Pkt.ACK, id: 2),
                  seg(c4, s4, 40000, 80, 101, 901, Pkt.ACK, id: 3),
                  seg(c4, s4, 40000, 80, 101, 901, Pkt.ACK | Pkt.PSH, data, id: 4),
                  seg(s4, c4, 80, 40000, 901, 1501, Pkt.ACK, id: 5)]
        l3[3] = Array(l3[3].prefix(20 + 20 + 600))  // the IP header still says 1,440 bytes
        let t6 = Pkt.withChecksum(Pkt.tcp(sport: 40001, dport: 80, seq: 7, flags: Pkt.ACK | Pkt.PSH, payload: data),
                                  proto: 6, src: Pkt.lo6, dst: Pkt.lo6)
        l3.append(Array(Pkt.ipv6(next: 6, payload: t6).prefix(40 + 20 + 300)))
        let frames = l3.enumerated().map { i, p in
            CaptureBytes.Frame(seconds: 1_700_000_000, fraction: i * 1000, data: Pkt.ether(p, type: p[0] >> 4 == 6 ? 0x86dd : 0x0800))
        }
        let path = dir.appendingPathComponent("cut.pcap").path
        try Data(CaptureBytes.pcap(linkType: 1, frames: frames)).write(to: URL(fileURLWithPath: path))
        let j = try assertAgreesWithTshark(path)
        XCTAssertEqual((j["protocol_packets"] as? [String: Int])?["tcp"], 6)
        XCTAssertEqual(j.int("malformed"), 2)
        let c = j.conversations.first { ($0["client"] as? String) == "10.0.0.1:40000" }
        XCTAssertEqual(c?["payload_bytes_c2s"] as? Int, 600, "the segment's length from the frame, as tshark's tcp.len")
    }

    /// Snap length 60: headers cut inside the TCP options. tshark's -z conv,tcp
    /// leaves out frames whose TCP header was not captured whole (its conversation
    /// tap runs after the options are dissected); analyze counts them from the
    /// fixed header, as tshark's own per-frame fields do, so the comparison here is
    /// against the fields (docs/analyze.md: deliberate differences from tshark).
    func testSnapLength60() throws {
        let path = try lab().files["lo-s60.pcap"]!
        let j = try assertAgreesWithTshark(path, texts: [], convTable: false)
        XCTAssertGreaterThan(j.int("snapped"), 100)
        XCTAssertGreaterThan(j.checksums("tcp")["unverified"] ?? 0, 100, "payload cut: not verifiable")
        let rows = try Tshark.conversations(path, proto: "tcp", excluding: [])
        let tsharkFrames = rows.reduce(0) { $0 + $1.framesAB + $1.framesBA }
        let ours = j.conversations.filter { $0["protocol"] as? String == "tcp" }
            .reduce(0) { $0 + ($1["packets_c2s"] as! Int) + ($1["packets_s2c"] as! Int) }
        XCTAssertLessThan(tsharkFrames, ours, "the documented difference is still there")
        XCTAssertTrue(j.notes.contains { $0["kind"] as? String == "snap-length" })
    }

    func testVethPairWithVLANBetweenNamespaces() throws {
        let ns = try nsLab()
        let eth = try assertAgreesWithTshark(ns.files["ns-veth.pcap"]!, texts: texts)
        XCTAssertEqual(eth["link_type"] as? String, "EN10MB")
        let ng = try assertAgreesWithTshark(ns.files["ns-veth.pcapng"]!, texts: texts)
        XCTAssertEqual(ng["interfaces"] as? [String], [ns.vethA])
        let any = try assertAgreesWithTshark(ns.files["ns-any.pcap"]!, texts: texts)
        XCTAssertEqual(any["link_type"] as? String, "LINUX_SLL2")
        // The VLAN's frames carry 802.1Q tags on the veth: their conversations are there.
        XCTAssertTrue(eth.conversations.contains { ($0["server"] as? String)?.hasPrefix("10.78.") ?? false })
        // Sent from A over the veth: the stack left the checksum to the (virtual) NIC.
        XCTAssertGreaterThan(eth.checksums("tcp")["offload"] ?? 0, 0)
        XCTAssertTrue(eth.notes.contains { $0["kind"] as? String == "offload" })
        XCTAssertEqual(eth.checksums("tcp")["bad"], 0)
        XCTAssertEqual(any.checksums("tcp")["bad"], 0, "partial checksums on the receiving side of a veth are offload too")
        // Merged with the loopback capture: several interfaces, by name.
        let merged = ns.dir.appendingPathComponent("merged.pcapng").path
        let m = try Lab.run("mergecap", ["-w", merged, try lab().files["lo.pcapng"]!, ns.files["ns-veth.pcapng"]!])
        XCTAssertEqual(m.status, 0, m.stderr)
        let mj = try assertAgreesWithTshark(merged, texts: texts)
        XCTAssertEqual(Set(mj["interfaces"] as? [String] ?? []), Set(["lo", ns.vethA]))
    }

    // ---- what the scenario put on the wire is what analyze reports ----

    func checkScenario(_ j: AnalyzeJSON, file: StaticString = #filePath, line: UInt = #line) throws {
        let base = try lab().base
        let convs = j.conversations
        func to(_ port: Int, _ proto: String = "tcp") -> [[String: Any]] {
            convs.filter { ($0["server"] as? String)?.hasSuffix(":\(port)") == true && $0["protocol"] as? String == proto }
        }
        let chat = to(base)
        XCTAssertEqual(chat.count, 6, "5 chat sessions and one abortive close", file: file, line: line)
        XCTAssertEqual(chat.filter { $0["handshake"] as? Bool == true && $0["end"] as? String == "fin" }.count, 5, file: file, line: line)
        XCTAssertEqual(chat.filter { $0["end"] as? String == "rst" && $0["kernel_reset"] as? Bool == false }.count, 1,
                       "SO_LINGER 0: the application's reset", file: file, line: line)
        XCTAssertTrue(chat.allSatisfy { $0["server_guessed"] as? Bool == false }, file: file, line: line)
        // The bulk transfer, whole: 1 MiB, plus what the kernel sent again (tcp.len counts
        // retransmitted bytes, in tshark as here; --follow gives exactly 1 MiB).
        let bulk = try XCTUnwrap(to(base + 1).first, file: file, line: line)
        let bulkBytes = bulk["payload_bytes_s2c"] as? Int ?? 0
        if bulk["retransmissions"] as? Int == 0 {
            XCTAssertEqual(bulkBytes, 1 << 20, "the bulk transfer, whole", file: file, line: line)
        } else {
            XCTAssertGreaterThan(bulkBytes, 1 << 20, "the bulk transfer and its retransmissions", file: file, line: line)
        }
        let refused = to(base + 2)
        XCTAssertEqual(refused.first?["refused"] as? Bool, true, file: file, line: line)
        XCTAssertTrue(j.notes.contains { $0["kind"] as? String == "refused" }, file: file, line: line)
        XCTAssertEqual(to(base + 3, "udp").first?["packets_c2s"] as? Int, 5, "UDP echoes", file: file, line: line)
        XCTAssertEqual(to(base + 5).first?["client"].map { "\($0)".hasPrefix("[::1]:") }, true, "IPv6", file: file, line: line)
        XCTAssertEqual(j.notes.filter { $0["kind"] as? String == "port-unreachable" }.count, 2, "ICMP and ICMPv6", file: file, line: line)
        XCTAssertEqual((j["protocol_packets"] as? [String: Int])?["icmp"], 5, "2 echoes, 2 replies, 1 unreachable", file: file, line: line)
        // Loopback: the kernel leaves TCP checksums to the device: offload, not corruption.
        XCTAssertGreaterThan(j.checksums("tcp")["offload"] ?? 0, 100, file: file, line: line)
        // Scapy's three wrong checksums, and nothing else, are bad.
        XCTAssertEqual(j.checksums("tcp")["bad"], 1, file: file, line: line)
        XCTAssertEqual(j.checksums("udp")["bad"], 1, file: file, line: line)
        XCTAssertEqual(j.checksums("ipv4")["bad"], 1, file: file, line: line)
        XCTAssertEqual(j.badPackets.count, 3, file: file, line: line)
        // "Welcome across segments" was sent as "Wel" + "come ...": found across segments.
        XCTAssertTrue(j.matches.contains { $0["text"] as? String == "Welcome" && $0["across_segments"] as? Bool == true
            && ($0["last_packet"] as? Int ?? 0) > ($0["packet"] as? Int ?? 0) }, file: file, line: line)
        // The injector's conversation, handshake included.
        let inj = to(base + 8)
        XCTAssertEqual(inj.first?["handshake"] as? Bool, true, file: file, line: line)
        XCTAssertEqual(inj.first?["client"] as? String, "127.0.0.1:\(base + 9)", file: file, line: line)
    }

    // ---- --follow and --expect on the same captures ----

    func testFollowMatchesTsharkFollowTCPStream() throws {
        let path = try lab().files["lo.pcapng"]!
        let j = try AnalyzeJSON(path)
        let base = try lab().base
        // The first chat conversation (it holds the split "Welcome") and the bulk transfer.
        for port in [base, base + 1] {
            let c = try XCTUnwrap(j.conversations.first { ($0["server"] as? String)?.hasSuffix(":\(port)") == true })
            let id = c["id"] as! Int, firstFrame = c["first_packet"] as! Int
            let f = try AnalyzeJSON(path, extra: ["--follow", "\(id)"])
            let follow = try XCTUnwrap(f["follow"] as? [String: Any])
            XCTAssertEqual(follow["found"] as? Bool, true)
            let chunks = follow["chunks"] as? [[String: Any]] ?? []
            func bytes(_ dir: String) -> [UInt8] {
                chunks.filter { $0["direction"] as? String == dir }
                    .flatMap { [UInt8](Data(base64Encoded: $0["base64"] as? String ?? "") ?? Data()) }
            }
            let stream = try Int(XCTUnwrap(Tshark.run(["-r", path, "-Y", "frame.number == \(firstFrame)", "-T", "fields",
                                                       "-e", "tcp.stream"]).split(separator: "\n").first))!
            let t = try Tshark.follow(path, stream: stream)
            let clientFirst = t.node0 == c["client"] as? String
            XCTAssertEqual(bytes("c2s"), clientFirst ? t.fromNode0 : t.fromNode1, "conversation \(id) client -> server")
            XCTAssertEqual(bytes("s2c"), clientFirst ? t.fromNode1 : t.fromNode0, "conversation \(id) server -> client")
            XCTAssertEqual(follow["bytes_missing"] as? Int, 0)
            if port == base + 1 { XCTAssertEqual(follow["bytes_s2c"] as? Int, 1 << 20, "the bulk transfer, reassembled") }
        }
    }

    func testExpectTheInjectorsMessages() throws {
        let path = try lab().files["any.pcap"]!
        let csv = Lab.repoRoot.appendingPathComponent("samples/group01_chat_input.csv").path
        let ok = try AnalyzeJSON(path, extra: ["--expect", csv])
        let e = try XCTUnwrap(ok["expect"] as? [String: Any])
        XCTAssertEqual(e["ok"] as? Bool, true, "\(e)")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        // One message altered, one that was never sent: both reported, exit status 1.
        var text = try String(contentsOfFile: csv, encoding: .utf8)
        text = text.replacingOccurrences(of: "Hello, world", with: "Hello, World")
        text += (text.hasSuffix("\n") ? "" : "\n") + "99,CHAT,alice,server,never sent,\n"
        let altered = Lab.tempDir("expect").appendingPathComponent("altered.csv")
        try text.write(to: altered, atomically: true, encoding: .utf8)
        let bad = try AnalyzeJSON(path, extra: ["--expect", altered.path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--expect"), bad.stderr)
        let results = (bad["expect"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        XCTAssertEqual(results.filter { $0["status"] as? String == "altered" }.count, 1)
        XCTAssertEqual(results.first { $0["status"] as? String == "altered" }?["first_difference"] as? Int, 7)
        XCTAssertEqual(results.last?["status"] as? String, "missing")
        XCTAssertEqual(results.filter { $0["status"] as? String == "found" }.count, results.count - 2)
        try? FileManager.default.removeItem(at: altered.deletingLastPathComponent())
    }
}
