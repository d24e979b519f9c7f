// netlab lab --impair (root): the spec's usage errors; a lab run over a lossy,
// rate-limited link whose delivery proof still holds (checked here, independently:
// the echo transform, the chat order, the bulk bytes) while tshark finds the loss
// and its repair in the captures; nl_flowgraph's windows, RTT samples and loss
// marks against tshark's fields; and the report's three TCP graphs per
// conversation, rendered by headless Chromium.
// Issue 20 item 9: one SIGTERM or Ctrl-C stops the lab within seconds in the bulk phase of a
// slow link, and a second one does not cut the clean-up short: the namespaces are gone either
// way; loss values the nftables rule (1 packet in N) or netem cannot apply are refused.
import Foundation
import Netlab
import XCTest

final class LabImpairTests: XCTestCase {
    var netlab: String { TestSupport.product("netlab") }

    func testBadImpairSpecsAreUsageErrors() throws {
        for (spec, says) in [("loss=60%", "at most 50"), ("loss=0", "above 0"), ("rate=8", "unit"), ("rate=1bit", "between"),
                             ("delay=20", "unit"), ("delay=20ms,delay=1ms", "given twice"), ("jitter=3ms", "unknown key"),
                             ("loss", "KEY=VALUE"), ("", "empty")] {
            let r = try TestSupport.run(netlab, ["lab", "--out", "/tmp/nl-never-created", "--impair", spec])
            XCTAssertEqual(r.status, 64, spec)
            XCTAssertTrue(r.stderr.contains(says), "\(spec): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/nl-never-created"))
    }

    /// Loss values neither mechanism applies as asked are usage errors that say what is allowed: a loss too
    /// small for 1 packet in N with N a 32-bit count (1e-300% was applied as 50%), numbers that are not plain
    /// decimals, and above 10% a loss whose nearest 1-in-N is more than 5% away.
    func testLossValuesTheLinkCannotApplyAreRefused() throws {
        // The parser in process (before issue 20 item 9 a spec it let through ran a whole lab here).
        func refusal(_ spec: String) -> String? {
            do { _ = try ImpairSpec(spec); return nil } catch let e as NetlabError { return e.message } catch { return "\(error)" }
        }
        for spec in ["loss=1e-300%", "loss=0.0000001%", "loss=40%", "loss=45%", "loss=30", "loss=0x10%", "loss=inf%",
                     "loss=nan", "loss=1e400%", "loss= 2%", "loss=2%%", "rate=0x1p20bit", "delay=1e-400s"] {
            let why = refusal(spec)
            XCTAssertNotNil(why, spec)
            XCTAssertTrue(why?.contains("--impair") == true, "\(spec): \(why ?? "")")
        }
        let tiny = refusal("loss=1e-300%") ?? ""
        XCTAssertTrue(tiny.contains("0.000001%") && tiny.contains("50%"), "says which values are allowed: \(tiny)")
        let coarse = refusal("loss=40%") ?? ""
        XCTAssertTrue(coarse.contains("33.3%") && coarse.contains("1 packet in N"), coarse)
        for good in ["loss=50%", "loss=33.3%", "loss=33%", "loss=25", "loss=12.5%", "loss=10.5%", "loss=3%", "loss=0.000001%",
                     "loss=1e-3%", "loss=2.%", "loss=.5%", "rate=8mbit,delay=20ms,loss=2%"] {
            XCTAssertNil(refusal(good), good)
        }
    }

    /// nl_flowgraph's loss marks and RTT samples against tshark on a crafted capture (no root): a SYN, a
    /// SYN/ACK and a FIN sent twice (tshark calls each resend a retransmission: seen on CI,
    /// where the lossy link dropped a SYN), a data segment resent, a duplicate ACK, a reset.
    func testLossMarksOfResentSYNAndFINAgreeWithTshark() throws {
        _ = try TestSupport.requireTool("tshark")
        let c: [UInt8] = [10, 0, 0, 1], s: [UInt8] = [10, 0, 0, 2]
        let d = [UInt8](repeating: 0x62, count: 100)
        var id = 0
        func cs(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, _ p: [UInt8] = []) -> [UInt8] {
            id += 1
            return Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 80, seq: seq, ack: ack, flags: fl, payload: p, id: id)
        }
        func sc(_ seq: UInt32, _ ack: UInt32, _ fl: UInt8, _ p: [UInt8] = []) -> [UInt8] {
            id += 1
            return Pkt.tcp4(src: s, dst: c, sport: 80, dport: 40000, seq: seq, ack: ack, flags: fl, payload: p, id: id)
        }
        let A = Pkt.ACK
        let l3 = [cs(1000, 0, Pkt.SYN), cs(1000, 0, Pkt.SYN),                    // 1, 2: the SYN resent
                  sc(5000, 1001, Pkt.SYN | A), sc(5000, 1001, Pkt.SYN | A),      // 3, 4: the SYN/ACK resent
                  cs(1001, 5001, A),
                  cs(1001, 5001, A | Pkt.PSH, d), cs(1101, 5001, A | Pkt.PSH, d), // 6, 7
                  sc(5001, 1101, A), sc(5001, 1101, A),                          // 9: a duplicate ACK
                  cs(1101, 5001, A | Pkt.PSH, d),                                // 10: resent
                  sc(5001, 1201, A),
                  cs(1201, 5001, Pkt.FIN | A), cs(1201, 5001, Pkt.FIN | A),      // 13: the FIN resent
                  sc(5001, 1202, Pkt.FIN | A), cs(1202, 5002, A),
                  cs(1202, 5002, Pkt.RST)]                                       // 16: a reset, not a resend
        let frames = l3.enumerated().map { i, p in
            CaptureBytes.Frame(seconds: 1_700_000_000, fraction: i * 300_000, data: Pkt.ether(p))
        }
        let dir = try TestSupport.tempDir()
        let path = dir + "/resent.pcap"
        try Data(CaptureBytes.pcap(linkType: 1, frames: frames)).write(to: URL(fileURLWithPath: path))
        let rows = try TestSupport.tsharkFields(path, ["frame.number", "tcp.analysis.retransmission",
                                                       "tcp.analysis.out_of_order", "tcp.analysis.duplicate_ack"])
        let theirsR = Set(rows.filter { !$0[1].isEmpty || !$0[2].isEmpty }.compactMap { UInt64($0[0]) })
        let theirsD = Set(rows.filter { !$0[3].isEmpty }.compactMap { UInt64($0[0]) })
        XCTAssertEqual(theirsR, [2, 4, 10, 13], "tshark's own verdicts, as the capture was built to give")
        XCTAssertEqual(theirsD, [9])
        let convs = try FlowGraph.read(path: path)
        XCTAssertEqual(convs.count, 1)
        let rs = convs.first?.rows ?? []
        XCTAssertEqual(Set(rs.filter(\.markedRetransmission).map(\.frame)), theirsR)
        XCTAssertEqual(Set(rs.filter(\.markedDuplicateAck).map(\.frame)), theirsD)
        XCTAssertEqual(rs.first { $0.frame == 8 }?.rttFrame, 6, "frame 8 acknowledges frame 6, sent once")
        // The flow graph's RTT samples are the TCP analysis' own (one engine): tshark's acks_frame
        // and ack_rtt on every frame (frame 11 ends frames 7 and 10 exactly: the oldest, as tshark).
        // (The frames' microsecond fields run past a second here, which tshark keeps unnormalised in
        // its ack_rtt: the sample is checked against the two rows' own times instead.)
        let acks = try TestSupport.tsharkFields(path, ["frame.number", "tcp.analysis.acks_frame"])
        for r in acks {
            let row = rs.first { String($0.frame) == r[0] }
            XCTAssertEqual(row.map { String($0.rttFrame) }, r.count > 1 && !r[1].isEmpty ? r[1] : "0", "frame \(r[0])'s acks_frame")
            if let row, let acked = rs.first(where: { $0.frame == row.rttFrame }) {
                XCTAssertEqual(row.rttMs, Double(row.timeNs - acked.timeNs) / 1e6, accuracy: 1e-6)
            }
        }
        XCTAssertEqual(rs.first { $0.frame == 11 }?.rttFrame, 7)
    }

    /// The echo answer computed here, independently of libnetlab.
    func echo(_ line: String) -> String {
        String(String.UnicodeScalarView(line.unicodeScalars.reversed().map { u -> Unicode.Scalar in
            switch u.value {
            case 65...90: return Unicode.Scalar(u.value + 32)!
            case 97...122: return Unicode.Scalar(u.value - 32)!
            default: return u
            }
        }))
    }

    func testImpairedLabDeliversEverythingAndTheCaptureShowsTheRepair() throws {
        try TestSupport.requireRoot("network namespaces, tc, nftables and capture")
        _ = try TestSupport.requireTool("tshark")
        _ = try TestSupport.requireTool("ncat")
        let dir = try TestSupport.tempDir() + "/out"
        let r = try TestSupport.run(netlab, ["lab", "--out", dir, "--impair", "loss=2%,rate=8mbit,delay=20ms"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        // It says which mechanism it used, and what it could not do.
        let netem = r.stdout.contains("impaired link (loss=2%,rate=8mbit,delay=20ms): netem")
        XCTAssertTrue(netem || r.stdout.contains("impaired link (loss=2%,rate=8mbit,delay=20ms): tbf + nftables"), r.stdout)
        if !netem {
            XCTAssertTrue(r.stdout.contains("numgen random mod 50 == 0 drop"), r.stdout)
            XCTAssertTrue(r.stdout.contains("delay=20ms NOT applied"), r.stdout)
        }
        // Echo across the impaired link: the server's output is the transform of the input, in order.
        let input = try String(contentsOfFile: dir + "/in-proj.txt", encoding: .utf8)
        let want = input.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { echo(String($0)) + "\n" }.joined()
        XCTAssertEqual(try String(contentsOfFile: dir + "/part2-out-proj.txt", encoding: .utf8), want)
        // Chat: every message once, in order, at the one it was for.
        for (nick, msgs) in [("bob", ["Hello Bob, this is Alice."]), ("alice", ["Hi Alice! Bob here.", "Hello Alice, it is Carol."]),
                             ("carol", ["Welcome, Carol!"])] {
            let log = try String(contentsOfFile: dir + "/part3-\(nick).log", encoding: .utf8)
            var at = log.startIndex
            for m in msgs {
                XCTAssertEqual(log.components(separatedBy: m).count, 2, "\(nick) got '\(m)' once: \(log)")
                guard let found = log.range(of: m, range: at..<log.endIndex) else { XCTFail("\(nick): '\(m)' out of order"); break }
                at = found.upperBound
            }
        }
        // Bulk: 2 MiB arrived byte for byte.
        let sent = try Data(contentsOf: URL(fileURLWithPath: dir + "/bulk-in.bin"))
        let got = try Data(contentsOf: URL(fileURLWithPath: dir + "/bulk-out.bin"))
        XCTAssertEqual(sent.count, 2 * 1024 * 1024)
        XCTAssertTrue(sent == got, "the bytes received are the bytes sent (\(got.count) of \(sent.count))")
        // tshark sees the loss and the repair in the bulk capture, and the payload it carried.
        let bulk = dir + "/bulk.pcap"
        let retrans = try TestSupport.tsharkCount(bulk, filter: "tcp.analysis.retransmission")
        XCTAssertGreaterThan(retrans, 0, "2% loss over 1,400+ segments shows retransmissions")
        XCTAssertGreaterThan(try TestSupport.tsharkCount(bulk, filter: "tcp.analysis.duplicate_ack"), 0)
        XCTAssertEqual(try TestSupport.tsharkCount(bulk, filter: "_ws.malformed"), 0)
        let ends = try TestSupport.tsharkFields(bulk, ["tcp.seq", "tcp.len"], filter: "tcp.dstport == 5001 and tcp.len > 0")
            .compactMap { r in Int(r[0]).flatMap { s in Int(r[1]).map { s + $0 } } }
        XCTAssertEqual(ends.max(), 2 * 1024 * 1024 + 1, "the capture carried every byte (relative sequence number after the last)")
        // Nothing left behind.
        // (its own: other labs may run at the same time)
        XCTAssertGreaterThanOrEqual(TestSupport.namespacesNamed(in: r.stdout).count, 2, r.stdout)
        XCTAssertEqual(try TestSupport.existingNamespaces(TestSupport.namespacesNamed(in: r.stdout)), [])

        try flowGraphAgreesWithTshark(bulk)
        try reportHasTheGraphs(dir)
    }

    /// nl_flowgraph's per-packet data against tshark, frame by frame: the scaled window, the loss marks
    /// (tshark's retransmission or out-of-order, and duplicate_ack), the RTT samples' frames and values.
    func flowGraphAgreesWithTshark(_ pcap: String) throws {
        let convs = try FlowGraph.read(path: pcap, maxRows: 1_000_000)
        XCTAssertEqual(convs.count, 1)
        guard let c = convs.first else { return }
        let rows = try TestSupport.tsharkFields(pcap, ["frame.number", "tcp.window_size", "tcp.analysis.retransmission",
                                                       "tcp.analysis.out_of_order", "tcp.analysis.duplicate_ack",
                                                       "tcp.analysis.acks_frame", "tcp.analysis.ack_rtt"])
        XCTAssertEqual(rows.count, c.rows.count)
        var ts: [UInt64: [String]] = [:]
        for r in rows { ts[UInt64(r[0])!] = r }
        var windowWrong = 0, rtt = 0, rttAgree = 0
        var oursR = Set<UInt64>(), theirsR = Set<UInt64>(), oursD = Set<UInt64>(), theirsD = Set<UInt64>()
        for row in c.rows {
            guard let t = ts[row.frame] else { XCTFail("frame \(row.frame) missing in tshark"); continue }
            if UInt32(t[1]) != row.window { windowWrong += 1 }
            if !t[2].isEmpty || !t[3].isEmpty { theirsR.insert(row.frame) }
            if !t[4].isEmpty { theirsD.insert(row.frame) }
            if row.markedRetransmission { oursR.insert(row.frame) }
            if row.markedDuplicateAck { oursD.insert(row.frame) }
            if row.rttFrame != 0 {
                rtt += 1
                if UInt64(t[5]) == row.rttFrame, let v = Double(t[6]), abs(v * 1000 - row.rttMs) < 0.001 { rttAgree += 1 }
            }
        }
        XCTAssertEqual(windowWrong, 0, "every advertised window, scaled, equals tshark's tcp.window_size")
        XCTAssertGreaterThan(theirsR.count, 0)
        for (what, ours, theirs) in [("retransmission/out-of-order", oursR, theirsR), ("duplicate ACK", oursD, theirsD)] {
            let found = ours.intersection(theirs).count, extra = ours.subtracting(theirs).count
            XCTAssertGreaterThanOrEqual(Double(found), 0.99 * Double(theirs.count), "\(what): \(found) of tshark's \(theirs.count)")
            XCTAssertLessThanOrEqual(Double(extra), 0.01 * Double(theirs.count), "\(what): \(extra) extra")
        }
        XCTAssertGreaterThan(rtt, 100)
        XCTAssertGreaterThanOrEqual(Double(rttAgree), 0.99 * Double(rtt),
                                    "RTT samples: \(rttAgree) of \(rtt) name tshark's acks_frame with its ack_rtt")
    }

    /// Three SVGs per TCP conversation of every capture (as many as tshark's conversation table
    /// lists), the bulk graphs marking retransmissions, and the page rendered by headless Chromium.
    func reportHasTheGraphs(_ dir: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/report-files")
        // The report names each capture's pictures by its place in the report (c1, c2, ...), never by
        // its file name: the captures' sections come in this order.
        let order = ["part1", "part2", "deliver", "part3", "bulk"]
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let sections = md.split(separator: "\n").filter { $0.hasPrefix("## ") && $0.hasSuffix(".pcap)") }
        XCTAssertEqual(sections.map { String($0.split(separator: "(").last!.dropLast(6)) }, order, "the captures' sections")
        for (i, cap) in order.enumerated() {
            let conv = try TestSupport.run(try TestSupport.requireTool("tshark"), ["-r", "\(dir)/\(cap).pcap", "-q", "-z", "conv,tcp"])
            let n = conv.stdout.split(separator: "\n").filter { $0.contains("<->") }.count
            XCTAssertGreaterThan(n, 0, cap)
            for kind in ["tseq", "rtt", "throughput"] {
                XCTAssertEqual(files.filter { $0.hasPrefix("c\(i + 1)-conv") && $0.hasSuffix("-\(kind).svg") }.count, n, "\(cap) \(kind)")
            }
        }
        let tseq = try String(contentsOfFile: dir + "/report-files/c5-conv1-tseq.svg", encoding: .utf8)
        XCTAssertTrue(tseq.contains("stroke=\"#dc2626\""), "retransmissions drawn in red")
        XCTAssertTrue(tseq.contains("duplicate ACK"), "duplicate ACKs marked")
        XCTAssertTrue(tseq.contains("stroke-dasharray=\"5 3\""), "the window edge drawn")
        let chromium = try TestSupport.requireTool("chromium")
        let html = dir + "/report.html"
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=" + dir + "/chromium-profile"]
        let shot = try TestSupport.run(chromium, flags + ["--screenshot=" + dir + "/report.png", "--window-size=1100,2400",
                                                           "file://" + html])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        XCTAssertFalse(shot.stderr.contains("CONSOLE"), shot.stderr)
        let dom = try TestSupport.run(chromium, flags + ["--dump-dom", "file://" + html])
        XCTAssertEqual(dom.status, 0)
        for text in ["Bulk transfer over the impaired link", "Time-sequence graph of conversation 1",
                     "Round-trip time of conversation 1", "Throughput of conversation 1", "relative sequence number (bytes)",
                     "round-trip time (ms)", "payload throughput", "OK</span> bulk: the 2097152 bytes received are the 2097152 sent"] {
            XCTAssertTrue(dom.stdout.contains(text), "rendered page lacks '\(text)'")
        }
        // Each capture's graphs are inline in the page, too.
        XCTAssertGreaterThanOrEqual(dom.stdout.components(separatedBy: "aria-label=\"time-sequence graph").count - 1, 7)
        // The caption's retransmission count is tshark's for the bulk transfer.
        let theirs = try TestSupport.tsharkCount(dir + "/bulk.pcap", filter: "tcp.analysis.retransmission")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        let bulkPart = page.components(separatedBy: "Bulk transfer over the impaired link").last ?? ""
        XCTAssertTrue(bulkPart.contains("Red bars are retransmissions (\(theirs) here)"), "caption counts \(theirs)")
        // The RTT plot draws the samples analyze counts: tshark's tcp.analysis.ack_rtt frames.
        let rttTheirs = try TestSupport.tsharkCount(dir + "/bulk.pcap", filter: "tcp.analysis.ack_rtt")
        XCTAssertGreaterThan(rttTheirs, 0)
        XCTAssertTrue(bulkPart.contains("; \(rttTheirs) samples from"), "RTT caption counts tshark's \(rttTheirs) ack_rtt frames")
    }

    // ---- issue 20 item 9: a signal stops the impaired lab, whatever phase it is in ----

    /// The lab's namespaces (nllab-PID-...) that still exist.
    func namespaces(of pid: Int32) throws -> [String] {
        try TestSupport.sh("ip netns list").stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            .filter { $0.hasPrefix("nllab-\(pid)-") }
    }

    /// What a lab that did not clean up left: its processes (killed) and namespaces (deleted), so a failing
    /// test leaves nothing behind either.
    func removeLeftovers(of pid: Int32) throws {
        for ns in try namespaces(of: pid) {
            for p in try TestSupport.sh("ip netns pids \(ns)").stdout.split(separator: "\n").compactMap({ Int32($0) }) {
                kill(p, SIGKILL)
            }
            _ = try TestSupport.sh("ip netns del \(ns)")
        }
    }

    /// Starts `netlab lab --impair rate=8kbit` (a link so slow that the 2 MiB bulk transfer of the old lab would
    /// take over half an hour), waits for the bulk phase, sends `signals`, and returns how long the lab took to
    /// exit after the first, its status and its output. A lab still running after `bound` seconds is killed.
    func signalInBulk(_ signals: [Int32], bound: Double) throws
        -> (seconds: Double, status: Int32?, killedBySignal: Bool, output: String, leftover: [String]) {
        let dir = try TestSupport.tempDir() + "/out"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: netlab)
        p.arguments = ["lab", "--out", dir, "--impair", "rate=8kbit", "--no-report"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let pid = p.processIdentifier
        final class Seen: @unchecked Sendable { var data = Data(); let lock = NSLock() }
        let seen = Seen()
        out.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            seen.lock.lock(); seen.data.append(d); seen.lock.unlock()
        }
        defer {
            out.fileHandleForReading.readabilityHandler = nil
            if p.isRunning { kill(pid, SIGKILL); p.waitUntilExit() }
            try? removeLeftovers(of: pid)
        }
        func text() -> String { seen.lock.lock(); defer { seen.lock.unlock() }; return String(decoding: seen.data, as: UTF8.self) }
        let start = Date()
        while !text().contains("bulk: ") && p.isRunning && Date().timeIntervalSince(start) < 300 { usleep(100_000) }
        XCTAssertTrue(text().contains("bulk: "), "the lab reached the bulk phase: \(text())")
        usleep(1_500_000)  // the transfer is under way: the sender is blocked on a full pipe
        let sent = Date()
        for (i, sig) in signals.enumerated() {
            if i > 0 { usleep(150_000) }
            kill(pid, sig)
        }
        while p.isRunning && Date().timeIntervalSince(sent) < bound { usleep(50_000) }
        let seconds = Date().timeIntervalSince(sent)
        let running = p.isRunning
        if running { kill(pid, SIGKILL); p.waitUntilExit() }
        usleep(200_000)
        return (seconds, running ? nil : p.terminationStatus, !running && p.terminationReason == .uncaughtSignal, text(),
                try namespaces(of: pid))
    }

    /// One SIGTERM in the bulk phase of a slow link: the lab stops within seconds (the fix aims at one or two;
    /// 15 s allows for a loaded machine), says it was interrupted, and leaves no namespace.
    func testOneSignalStopsTheLabInTheBulkPhase() throws {
        try TestSupport.requireRoot("network namespaces, tc and capture")
        _ = try TestSupport.requireTool("ncat")
        let r = try signalInBulk([SIGTERM], bound: 15)
        XCTAssertNotNil(r.status, "still running \(Int(r.seconds)) s after SIGTERM: \(r.output.suffix(1500))")
        XCTAssertLessThan(r.seconds, 15, r.output.suffix(1500).description)
        XCTAssertFalse(r.killedBySignal, r.output.suffix(1500).description)
        XCTAssertEqual(r.status, 1, r.output.suffix(1500).description)
        XCTAssertTrue(r.output.contains("interrupted"), r.output.suffix(1500).description)
        XCTAssertTrue(r.output.contains("removed the namespaces"), r.output.suffix(1500).description)
        XCTAssertEqual(r.leftover, [], "the lab's namespaces are gone")
    }

    /// Ctrl-C pressed twice (SIGINT, then SIGINT 150 ms later): the second does not kill the lab before it
    /// has removed what it made.
    func testASecondSignalDoesNotCutTheCleanUpShort() throws {
        try TestSupport.requireRoot("network namespaces, tc and capture")
        _ = try TestSupport.requireTool("ncat")
        let r = try signalInBulk([SIGINT, SIGINT], bound: 15)
        XCTAssertNotNil(r.status, "still running \(Int(r.seconds)) s after two SIGINTs: \(r.output.suffix(1500))")
        XCTAssertEqual(r.leftover, [], "the lab's namespaces are gone: \(r.output.suffix(1500))")
        XCTAssertFalse(r.killedBySignal, "exited on its own, not killed by the second signal: \(r.output.suffix(1500))")
        XCTAssertEqual(r.status, 1, r.output.suffix(1500).description)
        XCTAssertTrue(r.output.contains("removed the namespaces"), r.output.suffix(1500).description)
    }
}

