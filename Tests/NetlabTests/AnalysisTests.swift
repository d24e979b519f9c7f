// The analysis on crafted captures whose answers are known: who is the server,
// handshake and end, retransmissions, kernel resets, duplicate copies, port
// reuse, UDP flows, text across segments, Follow TCP Stream, --expect, and a file
// damaged part-way.
import Foundation
import Netlab
import XCTest

final class AnalysisTests: XCTestCase {
    var dir: URL!

    override func setUp() { dir = Lab.tempDir("analysis") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Frames (link-layer bytes) at 1 ms intervals, or at the given microsecond offsets.
    func capture(_ frames: [[UInt8]], linkType: Int = 101, micros: [Int]? = nil, name: String = "t.pcap") -> String {
        let fs = frames.enumerated().map { i, f -> CaptureBytes.Frame in
            let us = micros?[i] ?? i * 1000
            return CaptureBytes.Frame(seconds: 1_700_000_000 + us / 1_000_000, fraction: us % 1_000_000, data: f)
        }
        let path = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(CaptureBytes.pcap(linkType: linkType, frames: fs)))
        return path
    }

    let C: [UInt8] = [192, 168, 1, 10], S: [UInt8] = [192, 168, 1, 1]

    /// A whole conversation: handshake, a greeting, a request, FIN both ways.
    func conversation(cport: Int = 50000, sport: Int = 7000, isnC: UInt32 = 1000, isnS: UInt32 = 5000) -> [[UInt8]] {
        let greet = Array("Welcome\r\n".utf8), req = Array("HELLO\n".utf8)
        return [
            Pkt.tcp4(src: C, dst: S, sport: cport, dport: sport, seq: isnC, flags: Pkt.SYN),
            Pkt.tcp4(src: S, dst: C, sport: sport, dport: cport, seq: isnS, ack: isnC + 1, flags: Pkt.SYN | Pkt.ACK),
            Pkt.tcp4(src: C, dst: S, sport: cport, dport: sport, seq: isnC + 1, ack: isnS + 1, flags: Pkt.ACK),
            Pkt.tcp4(src: S, dst: C, sport: sport, dport: cport, seq: isnS + 1, ack: isnC + 1, flags: Pkt.PSH | Pkt.ACK, payload: greet),
            Pkt.tcp4(src: C, dst: S, sport: cport, dport: sport, seq: isnC + 1, ack: isnS + 10, flags: Pkt.PSH | Pkt.ACK, payload: req),
            Pkt.tcp4(src: S, dst: C, sport: sport, dport: cport, seq: isnS + 10, ack: isnC + 7, flags: Pkt.FIN | Pkt.ACK),
            Pkt.tcp4(src: C, dst: S, sport: cport, dport: sport, seq: isnC + 7, ack: isnS + 11, flags: Pkt.FIN | Pkt.ACK),
            Pkt.tcp4(src: S, dst: C, sport: sport, dport: cport, seq: isnS + 11, ack: isnC + 8, flags: Pkt.ACK),
        ]
    }

    func testServerHandshakeEndAndCounts() throws {
        let a = try Analysis(path: capture(conversation()))
        let s = a.summary
        XCTAssertEqual(s.packets, 8)
        XCTAssertEqual(s.tcpConversations, 1)
        XCTAssertEqual(s.largestPacket, 4)
        XCTAssertEqual(s.largestBytes, 9)
        XCTAssertEqual(s.ckTCP.good, 8)
        XCTAssertEqual(s.ckIPv4.good, 8)
        let c = try XCTUnwrap(a.conversations.first)
        XCTAssertEqual(c.client, "192.168.1.10:50000")
        XCTAssertEqual(c.server, "192.168.1.1:7000")
        XCTAssertFalse(c.serverGuessed)
        XCTAssertEqual(c.serverBasis, "syn")
        XCTAssertEqual([c.packetsC2S, c.packetsS2C], [4, 4])
        XCTAssertEqual([c.payloadC2S, c.payloadS2C], [6, 9])
        XCTAssertEqual([c.bytesC2S, c.bytesS2C], [40 + 40 + 46 + 40, 40 + 49 + 40 + 40])
        XCTAssertTrue(c.handshake)
        XCTAssertEqual(c.end, "fin")
        XCTAssertEqual(c.retransmissions, 0)
        XCTAssertEqual(c.largestPacket, 4)
        XCTAssertFalse(c.startedBeforeCapture)
        XCTAssertTrue(a.notes.isEmpty, "\(a.notes.map(\.text))")
    }

    func testServerGuessedWithoutHandshake() throws {
        // Mid-stream: no SYN. Port 443 is well known; 8080 vs 50000: the lower port.
        let frames = [
            Pkt.tcp4(src: C, dst: S, sport: 50001, dport: 443, seq: 1, ack: 1, flags: Pkt.ACK, payload: [1, 2]),
            Pkt.tcp4(src: S, dst: C, sport: 50002, dport: 8080, seq: 1, ack: 1, flags: Pkt.ACK, payload: [3]),
        ]
        let a = try Analysis(path: capture(frames))
        let (w, l) = (a.conversations[0], a.conversations[1])
        XCTAssertEqual(w.server, "192.168.1.1:443")
        XCTAssertTrue(w.serverGuessed)
        XCTAssertEqual(w.serverBasis, "well-known port")
        XCTAssertEqual(l.server, "192.168.1.10:8080")
        XCTAssertEqual(l.serverBasis, "lower port")
        XCTAssertTrue(w.startedBeforeCapture)
        XCTAssertEqual(w.end, "open")
        XCTAssertEqual(a.notes.filter { $0.kind == "handshake-not-captured" }.count, 2)
        // The SYN-ACK alone also names the server, without guessing.
        let synack = [Pkt.tcp4(src: S, dst: C, sport: 9999, dport: 80, seq: 1, ack: 2, flags: Pkt.SYN | Pkt.ACK)]
        let b = try Analysis(path: capture(synack, name: "sa.pcap"))
        XCTAssertEqual(b.conversations[0].server, "192.168.1.1:9999")
        XCTAssertFalse(b.conversations[0].serverGuessed)
    }

    func testRetransmissionsAndKeepalives() throws {
        var f = conversation()
        let again = f[3]                                   // the greeting, sent again
        let keepalive = Pkt.tcp4(src: C, dst: S, sport: 50000, dport: 7000, seq: 1006, ack: 5010, flags: Pkt.ACK, payload: [0])
        f.insert(again, at: 5)
        f.insert(keepalive, at: 6)
        let a = try Analysis(path: capture(f))
        XCTAssertEqual(a.conversations[0].retransmissions, 1)
        XCTAssertEqual(a.summary.retransmissions, 1)
        XCTAssertEqual(a.conversations[0].payloadS2C, 18, "tcp.len counts retransmitted bytes too, as tshark does")
    }

    func testRefusedConnectionAndKernelReset() throws {
        let refused = [
            Pkt.tcp4(src: C, dst: S, sport: 40000, dport: 9, seq: 77, flags: Pkt.SYN),
            Pkt.tcp4(src: S, dst: C, sport: 9, dport: 40000, seq: 0, ack: 78, flags: Pkt.RST | Pkt.ACK, window: 0),
        ]
        // Data for a connection nobody owns: <SEQ=SEG.ACK><CTL=RST>.
        let stray = [
            Pkt.tcp4(src: C, dst: S, sport: 40001, dport: 7000, seq: 500, ack: 900, flags: Pkt.PSH | Pkt.ACK, payload: [1, 2, 3]),
            Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 40001, seq: 900, flags: Pkt.RST, window: 0),
        ]
        // An application's abortive close: RST|ACK with a window: not the kernel's.
        let abort = [
            Pkt.tcp4(src: C, dst: S, sport: 40002, dport: 7000, seq: 1, ack: 1, flags: Pkt.ACK, payload: [1]),
            Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 40002, seq: 1, ack: 2, flags: Pkt.RST | Pkt.ACK, window: 512),
        ]
        let a = try Analysis(path: capture(refused + stray + abort))
        let (r, s, b) = (a.conversations[0], a.conversations[1], a.conversations[2])
        XCTAssertTrue(r.refused)
        XCTAssertTrue(r.kernelReset)
        XCTAssertEqual(r.end, "rst")
        XCTAssertEqual(r.resetPacket, 2)
        XCTAssertEqual(r.server, "192.168.1.1:9")
        XCTAssertFalse(s.refused)
        XCTAssertTrue(s.kernelReset)
        XCTAssertFalse(b.kernelReset)
        XCTAssertEqual(b.end, "rst")
        XCTAssertTrue(a.notes.contains { $0.kind == "refused" && $0.conversation == 1 && $0.text.contains("port 9") })
        XCTAssertTrue(a.notes.contains { $0.kind == "kernel-reset" && $0.conversation == 2 })
    }

    /// Eight data segments nobody owns, each refused by the kernel: the note names all eight
    /// resets (count, first and last packet), not only the first (issue 8 item 10).
    func testKernelResetNoteNamesEveryReset() throws {
        var pkts: [[UInt8]] = []
        for i in 0..<8 {
            let seq = UInt32(500 + 3 * i)
            pkts.append(Pkt.tcp4(src: C, dst: S, sport: 40001, dport: 7000, seq: seq, ack: 900, flags: Pkt.PSH | Pkt.ACK,
                                 payload: [1, 2, 3]))
            pkts.append(Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 40001, seq: 900, flags: Pkt.RST, window: 0))
        }
        let a = try Analysis(path: capture(pkts))
        let notes = a.notes.filter { $0.kind == "kernel-reset" }
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].text.contains("all 8 resets (packets 2 to 16) came from the kernel at 192.168.1.1:7000"),
                      notes[0].text)
        XCTAssertEqual(notes[0].packet, 2)
    }

    /// The same on real traffic: the injector's segments to a port nobody listens on, refused by
    /// the kernel at both ends; the note's count, packets and sides agree with tshark.
    func testKernelResetNoteAgreesWithTsharkOnRealResets() throws {
        try TestSupport.requireRoot("raw injection and capture on lo")
        let tshark = try TestSupport.requireTool("tshark")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pcap = dir + "/rt.pcap"
        let port = 20_000 + Int(getpid() % 10_000)
        let r = try TestSupport.run(TestSupport.product("injector"), ["--capture", pcap, "--dst-port", String(port), "-q",
                                                                    TestSupport.sampleCSV])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rsts = try TestSupport.run(tshark, ["-r", pcap, "-Y", "tcp.flags.reset==1", "-T", "fields", "-e",
                                                "frame.number", "-e", "tcp.srcport"]).stdout
            .split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertGreaterThan(rsts.count, 1)
        let a = try Analysis(path: pcap)
        let note = try XCTUnwrap(a.notes.first { $0.kind == "kernel-reset" })
        let fromServer = rsts.filter { $0[1] == String(port) }.count
        let fromClient = rsts.count - fromServer
        XCTAssertTrue(note.text.contains("all \(rsts.count) resets (packets \(rsts.first![0]) to \(rsts.last![0]))"),
                      note.text)
        if fromClient > 0 {
            XCTAssertTrue(note.text.contains("\(fromServer) at 127.0.0.1:\(port)"), note.text)
            XCTAssertTrue(note.text.contains("\(fromClient) at 127.0.0.1:"), note.text)
        }
    }

    /// --max-listed bounds the conversation list too, text and JSON, with a count of the rest
    /// (5M conversations printed 5,000,025 lines before; issue 8 item 10).
    func testMaxListedLimitsTheConversationList() throws {
        var frames: [[UInt8]] = []
        for i in 0..<30 {
            frames.append(Pkt.tcp4(src: C, dst: S, sport: 41000 + i, dport: 80, seq: 1, flags: Pkt.SYN))
        }
        for i in 0..<5 { frames.append(Pkt.ipv4(src: C, dst: S, proto: 17, payload: Pkt.udp(sport: 5000 + i, dport: 53, payload: [1]))) }
        let file = capture(frames)
        let tshark = try TestSupport.requireTool("tshark")
        let conv = try TestSupport.run(tshark, ["-r", file, "-q", "-z", "conv,tcp"]).stdout
        let tsharkTCP = conv.split(separator: "\n").filter { $0.contains("<->") }.count
        XCTAssertEqual(tsharkTCP, 30)

        let text = try TestSupport.run(TestSupport.product("analyze"), ["--max-listed", "3", file])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("TCP conversations (\(tsharkTCP))"), text.stdout)
        XCTAssertTrue(text.stdout.contains("... 27 more TCP conversations not listed (--max-listed 3)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("... 2 more UDP flows not listed (--max-listed 3)"), text.stdout)
        XCTAssertEqual(text.stdout.split(separator: "\n").filter { $0.contains(" -> 192.168.1.1:80") }.count, 3)

        let json = try TestSupport.run(TestSupport.product("analyze"), ["--json", "--max-listed", "3", file])
        XCTAssertEqual(json.status, 0, json.stderr)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any])
        XCTAssertEqual((j["conversations"] as? [Any])?.count, 3)
        XCTAssertEqual(j["conversations_not_listed"] as? Int, 32)
        XCTAssertEqual(j["tcp_conversations"] as? Int, 30)
        // Unlimited by default (up to 10,000): every conversation listed.
        let all = try TestSupport.run(TestSupport.product("analyze"), ["--json", file])
        let ja = try XCTUnwrap(try JSONSerialization.jsonObject(with: all.stdoutData) as? [String: Any])
        XCTAssertEqual((ja["conversations"] as? [Any])?.count, 35)
        XCTAssertEqual(ja["conversations_not_listed"] as? Int, 0)
    }

    func testDuplicateCopiesOnALoopbackPacketSocket() throws {
        // Each packet twice, 15 us apart, as a raw AF_PACKET sniffer on lo sees them.
        let f = conversation(cport: 41000, sport: 7000)
        var frames = [[UInt8]](), micros = [Int]()
        for (i, p) in f.enumerated() {
            frames += [Pkt.ether(p, zeroMACs: true), Pkt.ether(p, zeroMACs: true)]
            micros += [i * 1000, i * 1000 + 15]
        }
        let a = try Analysis(path: capture(frames, linkType: 1, micros: micros))
        XCTAssertEqual(a.summary.packets, 16)
        XCTAssertEqual(a.summary.duplicates, 8)
        let c = a.conversations[0]
        XCTAssertEqual([c.packetsC2S, c.packetsS2C], [4, 4], "counted once")
        XCTAssertEqual(c.duplicates, 8)
        XCTAssertEqual(c.retransmissions, 0, "a copy is not a retransmission")
        XCTAssertEqual(a.duplicates.first?.packet, 2)
        XCTAssertEqual(a.duplicates.first?.original, 1)
        XCTAssertEqual(a.duplicates.first?.deltaNs, 15000)
        XCTAssertTrue(a.notes.contains { $0.kind == "duplicate" && $0.text.contains("packet 2 is a second copy of packet 1") })
        // Two packets with the same bytes and the same known packet type are repeats, not copies.
        let p = Pkt.udp4(src: C, dst: S, sport: 5000, dport: 6000, payload: [1])
        let b = try Analysis(path: capture([Pkt.sll(p, pkttype: 0, hatype: 1), Pkt.sll(p, pkttype: 0, hatype: 1)],
                                           linkType: 113, micros: [0, 5], name: "rep.pcap"))
        XCTAssertEqual(b.summary.duplicates, 0)
        XCTAssertEqual(b.conversations[0].packetsC2S + b.conversations[0].packetsS2C, 2)
    }

    func testPortReuseStartsANewConversation() throws {
        let a = try Analysis(path: capture(conversation(isnC: 1000) + conversation(isnC: 90000, isnS: 777)))
        XCTAssertEqual(a.summary.tcpConversations, 2)
        XCTAssertEqual(a.conversations.map(\.firstPacket), [1, 9])
        XCTAssertTrue(a.conversations.allSatisfy { $0.handshake && $0.end == "fin" })
    }

    func testUDPFlows() throws {
        let q = Pkt.udp4(src: C, dst: S, sport: 53000, dport: 53, payload: Array("query".utf8))
        let r = Pkt.udp4(src: S, dst: C, sport: 53, dport: 53000, payload: Array("answer!".utf8))
        let none = Pkt.udp4(src: C, dst: S, sport: 53000, dport: 53, payload: [1], checksum: 0)
        let a = try Analysis(path: capture([q, r, none]))
        let f = a.conversations[0]
        XCTAssertEqual(f.protocolName, "udp")
        XCTAssertEqual(f.server, "192.168.1.1:53")
        XCTAssertEqual([f.packetsC2S, f.packetsS2C], [2, 1])
        XCTAssertEqual([f.payloadC2S, f.payloadS2C], [6, 7])
        XCTAssertEqual(a.summary.ckUDP.good, 2)
        XCTAssertEqual(a.summary.ckUDP.none, 1)
        XCTAssertEqual(a.summary.udpFlows, 1)
    }

    /// Text split over three segments, delivered out of order, plus a retransmission.
    func testFindAcrossSegmentsAndFollow() throws {
        let text = Array("The Welcome message spans segments".utf8)
        let parts = [Array(text[0..<6]), Array(text[6..<9]), Array(text[9...])]  // "The We" "lco" "me ..."
        var f = Array(conversation().prefix(3))
        let s1 = Pkt.tcp4(src: C, dst: S, sport: 50000, dport: 7000, seq: 1001, ack: 5001, flags: Pkt.ACK, payload: parts[0])
        let s2 = Pkt.tcp4(src: C, dst: S, sport: 50000, dport: 7000, seq: 1007, ack: 5001, flags: Pkt.ACK, payload: parts[1])
        let s3 = Pkt.tcp4(src: C, dst: S, sport: 50000, dport: 7000, seq: 1010, ack: 5001, flags: Pkt.PSH | Pkt.ACK, payload: parts[2])
        let reply = Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 50000, seq: 5001, ack: 1035, flags: Pkt.PSH | Pkt.ACK,
                             payload: Array("Welcome!".utf8))
        f += [s1, s3, s2, s1, reply]  // 4, 5 (early), 6 (fills the gap), 7 (retransmission), 8
        var o = AnalyzeOptions()
        o.find = ["Welcome", "spans"]
        o.follow = 1
        let a = try Analysis(path: capture(f), options: o)
        let welcome = a.matches.filter { $0.textIndex == 0 }
        XCTAssertEqual(welcome.count, 2)
        XCTAssertEqual(welcome[0].packet, 4)
        XCTAssertEqual(welcome[0].lastPacket, 5)
        XCTAssertTrue(welcome[0].acrossSegments)
        XCTAssertTrue(welcome[0].fromClient)
        XCTAssertEqual(welcome[0].offset, 4, "\"We\" starts at byte 4 of packet 4's payload")
        XCTAssertEqual(welcome[1].packet, 8)
        XCTAssertFalse(welcome[1].acrossSegments)
        XCTAssertFalse(welcome[1].fromClient)
        let spans = a.matches.filter { $0.textIndex == 1 }
        XCTAssertEqual(spans.map(\.packet), [5], "inside one segment: found in that packet")
        XCTAssertEqual(a.followedConversation, 1)
        let c2s = a.chunks.filter(\.fromClient).flatMap { $0.bytes ?? [] }
        XCTAssertEqual(c2s, text, "reassembled in sequence order, the retransmission not repeated")
        XCTAssertEqual(a.chunks.filter { !$0.fromClient }.flatMap { $0.bytes ?? [] }, Array("Welcome!".utf8))
        XCTAssertEqual(a.conversations[0].retransmissions, 1)
    }

    func testExpectMessages() throws {
        let csv = dir.appendingPathComponent("m.csv")
        try """
        msg_id,app_protocol,src_app,dst_app,message,timestamp
        1,CHAT,server,client,Welcome,
        2,CHAT,client,server,HELLO,
        3,CHAT,client,server,MISSING LINE,
        4,CHAT,server,client,Bye!,
        """.write(to: csv, atomically: true, encoding: .utf8)
        var f = Array(conversation().prefix(3))
        f.append(Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 50000, seq: 5001, ack: 1001, flags: Pkt.PSH | Pkt.ACK,
                          payload: Array("Welcome".utf8)))
        f.append(Pkt.tcp4(src: C, dst: S, sport: 50000, dport: 7000, seq: 1001, ack: 5008, flags: Pkt.PSH | Pkt.ACK,
                          payload: Array("HELLO".utf8)))
        f.append(Pkt.tcp4(src: S, dst: C, sport: 7000, dport: 50000, seq: 5008, ack: 1006, flags: Pkt.PSH | Pkt.ACK,
                          payload: Array("Bye?".utf8)))
        var o = AnalyzeOptions()
        o.expect = csv.path
        let a = try Analysis(path: capture(f), options: o)
        let e = a.expectations
        XCTAssertEqual(e.map(\.status), ["found", "found", "missing", "altered"])
        XCTAssertEqual(e[0].packet, 4)
        XCTAssertFalse(e[0].fromClient)
        XCTAssertEqual(e[1].packet, 5)
        XCTAssertTrue(e[1].fromClient)
        XCTAssertEqual(e[3].differing, 1)
        XCTAssertEqual(e[3].firstDifference, 3)
        XCTAssertTrue(e[3].detail.contains("expected '!', found '?'"), e[3].detail)
        // A CSV error names the file and line; nothing is analysed.
        let bad = dir.appendingPathComponent("bad.csv")
        try "msg_id,app_protocol,src_app,dst_app,message,timestamp\n1,CHAT,a,b,\"unterminated\n".write(to: bad, atomically: true, encoding: .utf8)
        o.expect = bad.path
        XCTAssertThrowsError(try Analysis(path: capture(f, name: "x.pcap"), options: o)) { err in
            XCTAssertTrue((err as? NetlabError)?.message.contains("bad.csv:2") ?? false, "\(err)")
        }
    }

    func testDamagedFileKeepsWhatCameBefore() throws {
        let path = capture(conversation())
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.removeLast(10) // cut inside the last record
        try bytes.write(to: URL(fileURLWithPath: path))
        let a = try Analysis(path: path)
        XCTAssertEqual(a.summary.packets, 7)
        let err = try XCTUnwrap(a.summary.readError)
        XCTAssertEqual(err.name, "NL_ETRUNC")
        XCTAssertTrue(err.message.hasPrefix("\(path): packet 8 at byte offset"), err.message)
        XCTAssertEqual(a.conversations[0].packetsC2S + a.conversations[0].packetsS2C, 7)
        XCTAssertThrowsError(try Analysis(path: dir.appendingPathComponent("absent.pcap").path)) { err in
            XCTAssertEqual((err as? NetlabError)?.name, "NL_ENOTFOUND")
        }
    }
}
