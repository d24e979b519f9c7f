// The TCP analysis on a crafted conversation whose flags are known by hand and
// checked against tshark too: the kinds real impaired traffic rarely shows
// (spurious retransmission, out-of-order, zero-window probe and its ACK, window
// full with a window scale, ACKed unseen segment), plus the figures (options,
// handshake RTT, --packets rows) and the JSON field names.
import Foundation
import Netlab
import XCTest

final class TCPAnalysisTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Lab.tempDir("tcpanalysis") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    let C: [UInt8] = [192, 168, 7, 10], S: [UInt8] = [192, 168, 7, 1]

    /// (frame, microseconds) in order; raw IPv4 (LINKTYPE_RAW).
    func crafted() -> String {
        let mssWsSack: [UInt8] = [2, 4, 0x05, 0xb4, 1, 3, 3, 2, 4, 2, 0, 0]   // MSS 1460, WS 2, SACK permitted
        let mssWs0: [UInt8] = [2, 4, 0x05, 0x78, 1, 3, 3, 0]                  // MSS 1400, WS 0
        let d = [UInt8](repeating: 0x61, count: 100)
        func c(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, win: Int = 1000, opts: [UInt8] = [], pl: [UInt8] = []) -> [UInt8] {
            Pkt.tcp4(src: C, dst: S, sport: 40000, dport: 80, seq: seq, ack: ack, flags: fl, window: win, options: opts, payload: pl)
        }
        func s(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, win: Int = 1000, opts: [UInt8] = []) -> [UInt8] {
            Pkt.tcp4(src: S, dst: C, sport: 80, dport: 40000, seq: seq, ack: ack, flags: fl, window: win, options: opts)
        }
        let A = Pkt.ACK
        let frames: [([UInt8], Int)] = [
            (c(1000, 0, Pkt.SYN, opts: mssWsSack), 0),                       // 1
            (s(5000, 1001, Pkt.SYN | A, opts: mssWs0), 500),                  // 2
            (c(1001, 5001, A), 1000),                                         // 3 handshake RTT 1 ms
            (c(1001, 5001, A, pl: d), 2000),                                  // 4
            (c(1101, 5001, A, pl: d), 3000),                                  // 5
            (s(5001, 1201, A), 4000),                                         // 6
            (c(1101, 5001, A, pl: d), 300_000),                               // 7 spurious: already acknowledged
            (c(1301, 5001, A, pl: d), 301_000),                               // 8 previous segment not captured
            (c(1201, 5001, A, pl: d), 301_500),                               // 9 out-of-order (0.5 ms < 1 ms RTT)
            (s(5001, 1401, A, win: 0), 302_000),                              // 10 zero window
            (c(1401, 5001, A, pl: [0x62]), 500_000),                          // 11 zero-window probe
            (s(5001, 1401, A, win: 0), 501_000),                              // 12 probe ACK (and zero window)
            (s(5001, 1401, A, win: 100), 600_000),                            // 13 window update
            (c(1401, 5001, A, pl: d), 601_000),                               // 14 window full: 1401 + 100 << 0
            (s(5001, 1701, A), 602_000),                                      // 15 ACKed unseen segment
        ]
        let fs = frames.map { CaptureBytes.Frame(seconds: 1_700_000_000, fraction: $0.1, data: $0.0) }
        let path = dir.appendingPathComponent("crafted.pcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(CaptureBytes.pcap(linkType: 101, frames: fs)))
        return path
    }

    func testKnownFlagsAndTshark() throws {
        let path = crafted()
        var o = AnalyzeOptions()
        o.packets = true
        let a = try Analysis(path: path, options: o)
        var ours = [String: [UInt64]]()
        for f in a.tcpFlags where f.total > 0 { ours[f.field] = f.frames }
        let expected: [String: [UInt64]] = [
            "retransmission": [7], "spurious_retransmission": [7], "lost_segment": [8], "out_of_order": [9],
            "zero_window": [10, 12], "zero_window_probe": [11], "zero_window_probe_ack": [12], "window_update": [13],
            "window_full": [14], "ack_lost_segment": [15],
        ]
        XCTAssertEqual(ours, expected)
        // The oracle agrees frame for frame.
        if Lab.which("tshark") != nil {
            var args = ["-r", path, "-T", "fields", "-e", "frame.number"]
            for f in TCPAnalysisAgreementTests.fields { args += ["-e", "tcp.analysis.\(f)"] }
            let t = try Lab.run("tshark", args)
            var theirs = [String: [UInt64]]()
            for l in t.text.split(separator: "\n") {
                let c = l.split(separator: "\t", omittingEmptySubsequences: false)
                for (i, f) in TCPAnalysisAgreementTests.fields.enumerated() where i + 1 < c.count && !c[i + 1].isEmpty {
                    theirs[f, default: []].append(UInt64(c[0])!)
                }
            }
            XCTAssertEqual(ours, theirs, "tshark's tcp.analysis fields")
        } else {
            XCTFail("tshark is not installed; `make deps` installs it")
        }
        // Figures.
        let f = try XCTUnwrap(a.tcpFigures(at: 0))
        XCTAssertEqual([f.mssC2S, f.mssS2C, f.wscaleC2S, f.wscaleS2C], [1460, 1400, 2, 0])
        XCTAssertFalse(f.sack, "the server did not permit SACK")
        XCTAssertEqual(f.handshakeMs ?? 0, 1.0, accuracy: 1e-9)
        XCTAssertEqual(f.count("retransmission"), 1)
        XCTAssertEqual(a.conversations[0].retransmissions, 1)
        XCTAssertEqual(f.maxWindowC2S, 4000, "1000 << 2")
        // --packets rows: relative numbers, the scaled window, the acked frame.
        XCTAssertEqual(a.tcpPacketCount, 15)
        let p6 = a.tcpPacket(at: 5)
        XCTAssertEqual([p6.seq, p6.ack, p6.window], [1, 201, 1000])
        XCTAssertEqual(p6.ackedFrame, 5)
        XCTAssertEqual(p6.ackRttMs, 1.0, accuracy: 1e-9)
        XCTAssertEqual(a.tcpPacket(at: 3).window, 4000)
        XCTAssertEqual(a.tcpPacket(at: 6).fields, ["retransmission", "spurious_retransmission"])
        // Notes explain in plain words.
        XCTAssertTrue(a.notes.contains { $0.kind == "spurious-retransmission" && $0.packet == 7 })
        XCTAssertTrue(a.notes.contains { $0.kind == "zero-window" && $0.text.contains("probed it 1 time") })
    }

    /// Three duplicate ACKs then the resend: a fast retransmission, explained as the issue asks.
    func testFastRetransmissionNote() throws {
        let d = [UInt8](repeating: 0x61, count: 100)
        func c(_ seq: UInt32, _ pl: [UInt8] = []) -> [UInt8] {
            Pkt.tcp4(src: C, dst: S, sport: 40001, dport: 80, seq: seq, ack: 5001, flags: Pkt.ACK, payload: pl)
        }
        // Each ACK its own IP identification: identical bytes would be a duplicate capture.
        func s(_ ack: UInt32, _ id: Int) -> [UInt8] {
            Pkt.tcp4(src: S, dst: C, sport: 80, dport: 40001, seq: 5001, ack: ack, flags: Pkt.ACK, id: id)
        }
        let frames: [([UInt8], Int)] = [
            (c(1001, d), 0), (s(1101, 1), 1000), (c(1201, d), 2000), (c(1301, d), 2100), (c(1401, d), 2200),
            (s(1101, 2), 3000), (s(1101, 3), 3100), (s(1101, 4), 3200), (c(1101, d), 3600),
        ]
        let fs = frames.map { CaptureBytes.Frame(seconds: 1_700_000_000, fraction: $0.1, data: $0.0) }
        let path = dir.appendingPathComponent("fast.pcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(CaptureBytes.pcap(linkType: 101, frames: fs)))
        let a = try Analysis(path: path)
        let flags = Dictionary(uniqueKeysWithValues: a.tcpFlags.map { ($0.field, $0.frames) })
        XCTAssertEqual(flags["duplicate_ack"], [6, 7, 8])
        XCTAssertEqual(flags["fast_retransmission"], [9])
        XCTAssertEqual(flags["retransmission"], [9])
        XCTAssertEqual(flags["lost_segment"], [3])
        let note = try XCTUnwrap(a.notes.first { $0.kind == "fast-retransmission" })
        XCTAssertTrue(note.text.hasPrefix("packets 2-8: 3 duplicate ACKs for byte 101"), note.text)
        XCTAssertTrue(note.text.contains("packet 9 resends it 0.4 ms after the last"), note.text)
    }
}
