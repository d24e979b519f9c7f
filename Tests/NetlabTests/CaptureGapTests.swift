// The TCP analysis on captures that are not whole: a capture point that missed stretches of
// one or both directions, a capture that starts mid-stream, a snap length that cuts headers,
// more unacknowledged segments than the analysis lists one by one, a clock that steps back;
// and an ARCnet capture whose handshake's window scale changes the window. Each pattern is a
// capture this test writes itself (the shapes found in tcpdump's own test captures, which
// tools/tshark-compare.py compares in full), checked frame by frame against tshark's
// tcp.analysis fields and, where a student reads it, for its wording.
import Foundation
import Netlab
import XCTest

final class CaptureGapTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Lab.tempDir("capturegap") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    let C: [UInt8] = [10, 9, 0, 1], S: [UInt8] = [10, 9, 0, 2]
    let A = Pkt.ACK, PA = Pkt.ACK | Pkt.PSH

    /// A segment each way (client port 40000, server 6633).
    func c(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, len: Int = 0, win: Int = 1000, opts: [UInt8] = []) -> [UInt8] {
        Pkt.tcp4(src: C, dst: S, sport: 40000, dport: 6633, seq: seq, ack: ack, flags: fl, window: win, options: opts,
                 payload: [UInt8](repeating: 0x63, count: len))
    }
    func s(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, len: Int = 0, win: Int = 1000, opts: [UInt8] = []) -> [UInt8] {
        Pkt.tcp4(src: S, dst: C, sport: 6633, dport: 40000, seq: seq, ack: ack, flags: fl, window: win, options: opts,
                 payload: [UInt8](repeating: 0x73, count: len))
    }

    /// Frames (IPv4 packets unless link says otherwise) 1 ms apart, written as a classic pcap.
    func write(_ name: String, _ packets: [[UInt8]], linkType: Int = 101, snaplen: Int = 262144,
               times: [Int]? = nil, wire: [Int?]? = nil) -> String {
        let fs = packets.enumerated().map { i, p in
            let us = 1_700_000_000_000_000 + (times?[i] ?? i * 1000) // microseconds since the epoch
            return CaptureBytes.Frame(seconds: us / 1_000_000, fraction: us % 1_000_000, data: p,
                                      wireLength: wire?[i] ?? nil)
        }
        let path = dir.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(CaptureBytes.pcap(linkType: linkType, frames: fs,
                                                                                       snaplen: snaplen)))
        return path
    }

    /// tshark's tcp.analysis flags: field -> frames.
    func tsharkFlags(_ path: String) throws -> [String: [UInt64]] {
        var args = ["-r", path, "-T", "fields", "-e", "frame.number"]
        for f in TCPAnalysisAgreementTests.fields { args += ["-e", "tcp.analysis.\(f)"] }
        let t = try Lab.run("tshark", args)
        XCTAssertEqual(t.status, 0, t.stderr)
        var theirs = [String: [UInt64]]()
        for l in t.text.split(separator: "\n") {
            let c = l.split(separator: "\t", omittingEmptySubsequences: false)
            for (i, f) in TCPAnalysisAgreementTests.fields.enumerated() where i + 1 < c.count && !c[i + 1].isEmpty {
                theirs[f, default: []].append(UInt64(c[0])!)
            }
        }
        return theirs
    }

    func ourFlags(_ a: Analysis) -> [String: [UInt64]] {
        var ours = [String: [UInt64]]()
        for f in a.tcpFlags where f.total > 0 { ours[f.field] = f.frames }
        return ours
    }

    /// Analyse with --packets; the flags must be `expected` and tshark's.
    @discardableResult
    func check(_ path: String, _ expected: [String: [UInt64]], file: StaticString = #filePath,
               line: UInt = #line) throws -> Analysis {
        guard Lab.which("tshark") != nil else { throw XCTSkip("tshark is not installed; `make deps` installs it") }
        var o = AnalyzeOptions()
        o.packets = true
        let a = try Analysis(path: path, options: o)
        XCTAssertEqual(ourFlags(a), expected, "netlab's flags", file: file, line: line)
        XCTAssertEqual(try tsharkFlags(path), expected, "tshark's tcp.analysis fields", file: file, line: line)
        return a
    }

    /// The capture point missed stretches of both directions of a long-lived session (the shape
    /// of tcpdump's of13_ericsson.pcapng): each ACK that covers bytes the capture never held is
    /// flagged once per stretch, as tshark flags it, and a later exchange inside the captured
    /// stretch is not flagged again.
    func testStretchesMissingInBothDirections() throws {
        let p = write("both.pcap", [
            s(1000, 5000, PA, len: 64),        // 1 (mid-stream: no handshake)
            c(5000, 1064, PA, len: 184),       // 2
            s(1064, 5184, A),                  // 3
            // the capture misses 944 bytes from the server and 2,480 from the client
            s(2008, 7664, PA, len: 16),        // 4 previous segment not captured, ACKed unseen
            c(7664, 2024, PA, len: 1552),      // 5 both again (the other direction)
            s(2024, 9216, A),                  // 6 ACKed unseen: the client's contiguous data still ends at 5184
            // a second stretch, smaller
            s(2184, 9940, PA, len: 24),        // 7 both
            c(9940, 2208, PA, len: 576),       // 8 both
            s(2208, 10516, A),                 // 9 ACKed unseen
            s(2208, 10516, PA, len: 8),        // 10 inside what was captured: nothing to say
            c(10516, 2216, PA, len: 8),        // 11 (main flagged this one: the contiguous end had not moved)
            s(2216, 10524, A),                 // 12
        ])
        let a = try check(p, ["lost_segment": [4, 5, 7, 8], "ack_lost_segment": [4, 5, 6, 7, 8, 9]])
        // The rows and the notes say which bytes crossed the wire but not the capture point.
        let row4 = (0..<a.tcpPacketCount).map { a.tcpPacket(at: $0) }.first { $0.packet == 4 }!
        XCTAssertEqual(row4.missing, 65...1008, "the server's bytes before packet 4 (relative to its first byte)")
        XCTAssertEqual(row4.unseen, 185...2664, "the client's bytes packet 4 acknowledges, never captured")
        let text = a.notes.map(\.text).joined(separator: "\n")
        XCTAssertTrue(text.contains("packet 4: the capture missed bytes 185-2,664 from 10.9.0.1:40000 that the receiver "
                                    + "acknowledged: they crossed the wire but not the capture point"), text)
        XCTAssertTrue(text.contains("this is not loss in the network"), text)
        XCTAssertTrue(text.contains("packet 5: the capture missed bytes 65-1,008 from 10.9.0.2:6633"), text)
    }

    /// A capture that starts mid-stream and missed one segment of one direction (the shape of
    /// tcpdump's bgp-role.pcapng): one ACKed-unseen for the stretch, none for the next exchange.
    func testCaptureStartingMidStreamMissingOneDirection() throws {
        let p = write("midstream.pcap", [
            s(1000, 2000, PA, len: 107),       // 1 the capture starts here
            s(1145, 2038, PA, len: 23),        // 2 bytes 108-144 and the client's 1-37 not captured
            c(2038, 1168, A),                  // 3 ACKed unseen (the server's stretch)
            c(2038, 1168, PA, len: 498),       // 4
            s(1168, 2536, A),                  // 5
            s(1168, 2536, PA, len: 19),        // 6
            c(2536, 1187, A),                  // 7 main flagged it again
            c(2536, 1187, PA, len: 19),        // 8
            s(1187, 2555, A),                  // 9
        ])
        let a = try check(p, ["lost_segment": [2], "ack_lost_segment": [3]])
        let text = a.notes.map(\.text).joined(separator: "\n")
        XCTAssertTrue(text.contains("packet 3: the capture missed bytes 108-145 from 10.9.0.2:6633 that the receiver "
                                    + "acknowledged"), text)
        XCTAssertTrue(text.contains("packet 2 starts at byte 146, but 10.9.0.2:6633's data so far ended before it: "
                                    + "bytes 108-145 (38) are not in the capture"), text)
    }

    /// ACKs of data the capture never held, again and again, while the other side sends
    /// nothing new (the shape of suricata-verify's bug-5392 capture, whose first data segment the
    /// capture missed): tshark flags the first ACK only, until that side's own ACK moves or it
    /// sends beyond a hole; then the next such ACK is flagged again.
    func testRepeatedACKsOfOneUncapturedStretch() throws {
        let hs = [c(100, 0, Pkt.SYN), s(500, 101, Pkt.SYN | A), c(101, 501, A)]
        try check(write("pureacks.pcap", hs + [s(501, 1101, A), s(501, 2101, A),                 // 4 flagged, 5 not
                                               c(101, 501, PA, len: 10), s(501, 3101, A)]),     // 6 already acknowledged
                  ["ack_lost_segment": [4], "retransmission": [6], "spurious_retransmission": [6]])      // 7 not flagged
        try check(write("moved.pcap", hs + [s(501, 1101, PA, len: 10), c(101, 511, A),            // c's ACK moves
                                            s(511, 2101, A)]),                                     // 6 flagged again
                  ["ack_lost_segment": [4, 6]])
        try check(write("beyond.pcap", hs.dropLast() + [c(101, 501, PA, len: 50), s(501, 1101, A), // 4
                                                          c(1101, 501, PA, len: 50),                 // 5 beyond a hole
                                                          s(501, 2101, A)]),                         // 6 flagged
                  ["ack_lost_segment": [4, 6], "lost_segment": [5]])
    }

    /// An ACK more than any window beyond the data captured (a kernel's answer on ports reused
    /// after a reset, suricata-verify's tls-subjectaltname frame 154): still ACKed unseen for
    /// tshark, but the words do not claim two gigabytes crossed the wire unseen.
    func testAnACKBeyondAnyWindowIsNotWordedAsBytesMissed() throws {
        let p = write("farack.pcap", [c(100, 0, Pkt.SYN), s(500, 2_000_000_101, A)])
        let a = try check(p, ["ack_lost_segment": [2]])
        let text = a.notes.map(\.text).joined(separator: "\n")
        XCTAssertTrue(text.contains("packet 2 acknowledges byte 2,000,000,001 of 10.9.0.1:40000, 2,000,000,000 bytes beyond "
                                    + "anything captured from it: more than any TCP window allows"), text)
        XCTAssertFalse(text.contains("the capture missed bytes"), text)
        XCTAssertNil(a.tcpPacket(at: 1).unseen)
    }

    /// A snap length that cuts TCP headers: a segment cut inside its options moves the state on
    /// without flags, one cut inside the fixed header is not a TCP segment for either tool, and
    /// the rules hold on the whole segments around them.
    func testSnapLengthCuttingHeaders() throws {
        let ts: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]
        var pk = [[UInt8]](), wire = [Int?]()
        func add(_ b: [UInt8], cut: Int? = nil) {
            if let n = cut, n < b.count { pk.append(Array(b[0..<n])); wire.append(b.count) } else { pk.append(b); wire.append(nil) }
        }
        add(c(100, 0, Pkt.SYN, opts: [2, 4, 5, 0xb4]))                // 1
        add(s(500, 101, Pkt.SYN | A, opts: [2, 4, 5, 0xb4]))          // 2
        add(c(101, 501, A))                                           // 3
        add(c(101, 501, PA, len: 100, opts: ts), cut: 40)             // 4 options cut
        add(c(201, 501, PA, len: 100, opts: ts), cut: 30)             // 5 fixed header cut
        add(c(301, 501, PA, len: 100, opts: ts), cut: 64)             // 6 whole header, payload cut
        add(s(501, 401, A))                                           // 7 acknowledges packet 5's bytes
        add(c(301, 501, PA, len: 100, opts: ts), cut: 64)             // 8 a retransmission (spurious)
        add(s(501, 401, A))                                           // 9 a duplicate ACK
        let p = write("snap.pcap", pk, linkType: 101, snaplen: 64, wire: wire)
        // Packet 5 is no segment for either tool, so packet 6 follows a hole and packet 7
        // acknowledges bytes the capture did not hold (it cut them).
        let a = try check(p, ["retransmission": [8], "spurious_retransmission": [8], "duplicate_ack": [9],
                              "lost_segment": [6], "ack_lost_segment": [7]])
        XCTAssertNil(a.tcpPacket(at: 3).missing, "packet 4 (options cut) is analysed but shows nothing")
        XCTAssertEqual(a.tcpPacket(at: 4).packet, 6, "packet 5 is not a TCP row")
    }

    /// ARCnet as Linux writes it (tcpdump's arcnet-rfc1051/rfc1201 captures): the handshake
    /// offers scales, and the server's first ACK after it has a new raw window (the SYN/ACK's
    /// 14,600 unscaled, then 1,024 x 4,096): a window update, as tshark marks it. A raw window
    /// equal to the SYN/ACK's, though scaled, is a duplicate ACK for both tools (tshark 4.0
    /// compares the raw field).
    func testARCnetHandshakeWhoseScaleChangesTheWindow() throws {
        func arc(_ l3: [UInt8], rfc1201: Bool) -> [UInt8] {
            rfc1201 ? [0xbe, 0x50, 0xb2, 0x00, 0xd4, 0x00, 0x01, 0x6a] + l3 : [0xbe, 0x50, 0xc3, 0x00, 0xf0] + l3
        }
        for rfc1201 in [false, true] {
            let frames = [
                c(100, 0, Pkt.SYN, win: 1872, opts: [2, 4, 5, 0xb4, 1, 3, 3, 7]),        // 1
                s(500, 101, Pkt.SYN | A, win: 14600, opts: [2, 4, 5, 0xb4, 1, 3, 3, 12]),  // 2
                c(101, 501, A, win: 1872),                                              // 3
                c(101, 501, PA, len: 194, win: 1872),                                   // 4
                s(501, 101, A, win: 1024),                                              // 5 window update
                s(501, 295, A, win: 1024),                                              // 6
            ].map { arc($0, rfc1201: rfc1201) }
            let p = write("arcnet\(rfc1201 ? 1201 : 1051).pcap", frames, linkType: 129)
            let a = try check(p, ["window_update": [5]])
            XCTAssertEqual(a.summary.linkType, 129)
            XCTAssertEqual(a.tcpPacket(at: 4).window, 4_194_304, "1,024 scaled by 2^12")
        }
        let same = write("rawequal.pcap", [
            c(100, 0, Pkt.SYN, win: 1024, opts: [1, 3, 3, 7]), s(500, 101, Pkt.SYN | A, win: 1024, opts: [1, 3, 3, 12]),
            c(101, 501, A, win: 1024), s(501, 101, A, win: 1024),
        ])
        try check(same, ["duplicate_ack": [4]])
    }

    /// Issue 20 item 10: 2,000 and 8,000 segments of 1,448 bytes without an ACK, then one
    /// cumulative ACK: bytes in flight grow with the sequence numbers past the 1,000 segments
    /// the analysis lists one by one (tshark: 2,896,000 and 11,584,000), and the cumulative ACK
    /// has its RTT sample (the newest segment it covers).
    func testBytesInFlightAndRTTPastTheListedSegments() throws {
        guard Lab.which("tshark") != nil else { throw XCTSkip("tshark is not installed; `make deps` installs it") }
        for n in [2000, 8000] {
            var pk = [c(100, 0, Pkt.SYN), s(500, 101, Pkt.SYN | A), c(101, 501, A)]
            var times = [0, 1000, 2000]
            for i in 0..<n {
                pk.append(c(101 + UInt32(i * 1448), 501, A, len: 1448))
                times.append(3000 + i * 10)
            }
            pk.append(s(501, 101 + UInt32(n * 1448), A))
            times.append(3000 + n * 10 + 5000)
            let p = write("inflight\(n).pcap", pk, times: times)
            var o = AnalyzeOptions()
            o.packets = true
            let a = try Analysis(path: p, options: o)
            let fig = try XCTUnwrap(a.tcpFigures(at: 0))
            XCTAssertEqual(Int(fig.maxInFlight), n * 1448, "max_in_flight with \(n) segments")
            let last = a.tcpPacket(at: a.tcpPacketCount - 1)
            XCTAssertEqual(last.ackedFrame, UInt64(3 + n), "the cumulative ACK covers the newest segment exactly")
            XCTAssertEqual(last.ackRttMs, 5.01, accuracy: 1e-6)
            XCTAssertEqual(fig.rttSamples, 3, "SYN/ACK, ACK of the SYN/ACK, the cumulative ACK")
            // tshark, frame by frame: bytes in flight and the ACK's RTT.
            let t = try Lab.run("tshark", ["-r", p, "-T", "fields", "-e", "frame.number", "-e",
                                           "tcp.analysis.bytes_in_flight", "-e", "tcp.analysis.acks_frame",
                                           "-e", "tcp.analysis.ack_rtt"], timeout: 300)
            var theirMax = 0, theirAcked = "", theirRTT = 0.0
            for l in t.text.split(separator: "\n") {
                let c = l.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                if c.count > 1, let b = Int(c[1]) { theirMax = max(theirMax, b) }
                if c.count > 3, c[0] == String(pk.count) { theirAcked = c[2]; theirRTT = Double(c[3]) ?? 0 }
            }
            XCTAssertEqual(theirMax, n * 1448, "tshark's bytes in flight")
            XCTAssertEqual(theirAcked, String(3 + n))
            XCTAssertEqual(theirRTT * 1000, last.ackRttMs, accuracy: 1e-6)
            var ours = [Int: UInt32]()
            for i in 0..<a.tcpPacketCount { let r = a.tcpPacket(at: i); ours[Int(r.packet)] = r.bytesInFlight }
            XCTAssertEqual(ours[3 + n], UInt32(n * 1448), "the last segment's bytes in flight")
        }
    }

    /// Issue 20 item 12: a clock that steps back 1.7e9 s inside a conversation. tshark's
    /// conversation table spans earliest to latest (no negative duration) and shows the ACK's
    /// negative ack_rtt; netlab does the same and leaves that sample out of the RTT figures
    /// (it measures the clock, not the path): no minimum RTT of -1.7e12 ms.
    func testTimeGoingBackwards() throws {
        let base = 1_700_000_000_000_000 // microseconds
        let us = [0, 1000, 2000, 3000, -(base - 1_500_000), 5000, 6000, 7000]
        let p = write("backwards.pcap", [
            c(100, 0, Pkt.SYN), s(500, 101, Pkt.SYN | A), c(101, 501, A),
            c(101, 501, PA, len: 10), s(501, 111, A),               // 5: 1.5 s after the epoch
            c(111, 501, PA, len: 10), s(501, 121, A),
            s(501, 121, A, win: 2000),                              // the latest time
        ], times: us.map { $0 })
        var o = AnalyzeOptions()
        o.packets = true
        let a = try Analysis(path: p, options: o)
        let conv = a.conversations[0]
        XCTAssertGreaterThanOrEqual(conv.lastNs, conv.firstNs, "a conversation never lasts a negative time")
        XCTAssertEqual(Double(conv.lastNs - conv.firstNs) / 1e9, 1_699_999_998.507, accuracy: 1e-6)
        let fig = try XCTUnwrap(a.tcpFigures(at: 0))
        XCTAssertGreaterThanOrEqual(fig.rttMinMs, 0, "no negative RTT in the figures")
        XCTAssertEqual(fig.rttSamples, 3, "the SYN/ACK, the ACK of it, the second data's ACK; not the backward one")
        let row5 = a.tcpPacket(at: 4)
        XCTAssertEqual(row5.ackedFrame, 4, "the packet still names the segment it acknowledges")
        XCTAssertLessThan(row5.ackRttMs, 0, "and shows the clock's step, as tshark's ack_rtt does")
        guard Lab.which("tshark") != nil else { throw XCTSkip("tshark is not installed; `make deps` installs it") }
        let t = try Lab.run("tshark", ["-r", p, "-q", "-z", "conv,tcp"])
        let row = try XCTUnwrap(t.text.split(separator: "\n").first { $0.contains("<->") })
        let dur = try XCTUnwrap(Double(row.split(separator: " ").last!))
        XCTAssertEqual(dur, Double(conv.lastNs - conv.firstNs) / 1e9, accuracy: 1e-3, "tshark's duration")
    }
}
