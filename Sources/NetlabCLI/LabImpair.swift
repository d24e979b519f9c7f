// netlab lab --impair: the link between the two hosts made lossy, slow and/or
// late (libnetlab decides how: netem, or tbf + nftables), the echo and chat parts
// run over it, and a 2 MB bulk transfer. The proof is twofold: every byte still
// arrives intact and in order, and the capture shows the loss and TCP's repair.
import ArgumentParser
import Foundation
import Netlab

extension LabCommand {
    /// A bad spec is a usage error (exit 64) with the parser's words.
    func validateImpair() throws {
        guard let impair else { return }
        do { _ = try ImpairSpec(impair) } catch let e as NetlabError { throw ValidationError(e.message) }
    }
}

extension Lab {
    static let bulkBytes = 2 * 1024 * 1024
    static let bulkPort: UInt16 = 5001

    /// The bulk transfer's size and deadline (issue 20 item 9: every phase has one): 2 MiB, or what the
    /// link's rate carries in 30 s when that is less (8 kbit/s would take 35 minutes over 2 MiB); the
    /// deadline 60 s plus four times the bytes' time at the rate.
    var bulkPlan: (bytes: Int, seconds: Double) {
        guard let a = impairment, a.rateApplied, a.rateBitsPerSecond > 0 else { return (Self.bulkBytes, 60) }
        let rate = Double(a.rateBitsPerSecond)
        let bytes = min(Self.bulkBytes, Int(rate / 8 * 30))
        return (bytes, 60 + 4 * Double(bytes) * 8 / rate)
    }

    /// Puts the impairment on the veth pair and says what was done (and what could not be).
    func applyImpairment() throws {
        guard let text = o.impair, let net else { return }
        let a = try net.impair(try ImpairSpec(text))
        impairment = a
        say("impaired link (\(text)): \(a.mechanism)")
        say("  " + a.detail)
        var summary = "impaired link (\(text)) by \(a.mechanism):"
        if a.lossApplied { summary += String(format: " loss %.3g%% each way", a.lossPercent) + (a.lossModulus > 0 ? " (1 in \(a.lossModulus))" : "") }
        if a.rateApplied { summary += " rate \(a.rateBitsPerSecond / 1000) kbit/s" }
        if a.delayApplied { summary += " delay \(Double(a.delayMicroseconds) / 1000) ms each way" }
        if try ImpairSpec(text).hasDelay && !a.delayApplied { summary += "; delay NOT applied (no netem in this kernel)" }
        try OutputFile.write((summary + "\n" + a.detail + "\n"), to: path("impairment.txt"))
    }

    /// The hand-built connection of the delivery proof is checked for zero TCP warnings: it runs on the clean link.
    func liftImpairment() throws {
        guard impairment != nil, let net else { return }
        try net.unimpair()
        say("delivery proof on the clean link: the impairment is lifted while it runs")
    }

    func restoreImpairment() throws {
        guard let text = o.impair, impairment != nil, let net else { return }
        impairment = try net.impair(try ImpairSpec(text))
        say("impairment back on for part 3 and the bulk transfer")
    }

    /// With --impair: the chat order, the 2 MB bulk transfer, and what the captures show.
    func impairedScenarios() throws {
        guard impairment != nil, let net else { return }
        chatOrder()
        try checkStop()
        try bulkTransfer(net)
        let st = try net.impairStats()
        let drops = "the loss rule dropped \(st.lossDropped.map { $0 < 0 ? "?" : String($0) }.joined(separator: " + ")) packets "
            + "(arriving at the client + the server), the queues \(st.queueDropped.map { $0 < 0 ? "?" : String($0) }.joined(separator: " + "))"
        say("impairment counters: " + drops)
        try ("counters: " + drops + "\n").append(toFile: path("impairment.txt"))
        for f in ["part2.pcap", "part3.pcap", "bulk.pcap"] {
            let n = try tsharkCount(f, "tcp.analysis.retransmission")
            let d = try tsharkCount(f, "tcp.analysis.duplicate_ack")
            let l = try tsharkCount(f, "tcp.analysis.lost_segment")
            let line = "\(f): tshark sees \(n) retransmissions, \(d) duplicate ACKs, \(l) segments lost before the capture"
            say("  " + line)
            try (line + "\n").append(toFile: path("impairment.txt"))
            if f == "bulk.pcap", impairment?.lossApplied == true {
                check(n > 0, "bulk: the capture shows the loss and TCP's repair (\(n) retransmissions)")
            }
        }
    }

    func tsharkCount(_ file: String, _ filter: String) throws -> Int {
        let r = try Proc.run(["tshark", "-r", path(file), "-Y", filter, "-T", "fields", "-e", "frame.number"], timeout: 120)
        return r.output.split(separator: "\n").filter { Int($0) != nil }.count
    }

    /// Each chat message arrived exactly once at the one it was for, in the order it was sent.
    func chatOrder() {
        let want: [String: [String]] = ["bob": ["Hello Bob, this is Alice."],
                                        "alice": ["Hi Alice! Bob here.", "Hello Alice, it is Carol."],
                                        "carol": ["Welcome, Carol!"]]
        var ok = true
        for (nick, msgs) in want {
            let log = (try? String(contentsOfFile: path("part3-\(nick).log"), encoding: .utf8)) ?? ""
            var at = log.startIndex
            for m in msgs {
                guard log.components(separatedBy: m).count == 2, let r = log.range(of: m, range: at..<log.endIndex) else {
                    ok = false
                    break
                }
                at = r.upperBound
            }
        }
        check(ok, "part3 (impaired): every chat message arrived exactly once, in the order it was sent")
    }

    /// 2 MiB (less on a slow link: bulkPlan) of pseudo-random bytes from the client to ncat on the server;
    /// the bytes received must be the bytes sent. Fed and waited for within the plan's deadline; a stop
    /// request (Ctrl-C, SIGTERM) ends it at once.
    func bulkTransfer(_ net: LabNet) throws {
        let plan = bulkPlan
        say("bulk: \(plan.bytes) bytes from \(net.clientIP) to ncat on \(net.serverIP):\(Self.bulkPort) over the impaired link"
            + String(format: " (deadline %.0f s)", plan.seconds))
        var data = [UInt8](repeating: 0, count: plan.bytes)
        var x: UInt64 = 0x9e3779b97f4a7c15
        for i in 0..<data.count {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            data[i] = UInt8(truncatingIfNeeded: x >> 33)
        }
        let sent = Data(data)
        try sent.write(to: URL(fileURLWithPath: path("bulk-in.bin")))
        let cap = try startCapture("bulk.pcap", ns: net.clientNamespace, filter: ["tcp", "port", String(Self.bulkPort)])
        let outFile = path("bulk-out.bin")
        try? FileManager.default.removeItem(atPath: outFile)
        // ncat's standard output is the log: it holds exactly the bytes received.
        let sink = try Proc.spawn(["ncat", "-l", "--recv-only", net.serverIP, String(Self.bulkPort)],
                                  netns: net.serverNamespace, log: outFile)
        pids.append(sink)
        var listening = false
        for _ in 0..<100 where !listening {
            let r = try Proc.run(["ss", "-Hltn", "sport = :\(Self.bulkPort)"], netns: net.serverNamespace, timeout: 10)
            listening = r.output.contains(String(Self.bulkPort))
            if !listening { try checkStop(); usleep(20_000) }
        }
        guard listening else { throw LabError(message: "bulk: ncat did not start listening on port \(Self.bulkPort)") }
        let start = Date()
        let end = start.addingTimeInterval(plan.seconds)
        let src = try Proc.spawnWithInput(["ncat", "--send-only", net.serverIP, String(Self.bulkPort)],
                                          netns: net.clientNamespace, log: path("bulk-client.log"))
        pids.append(src.pid)
        // Fed without ever blocking past the deadline, and waited for the same way: a stop request
        // (NL_EINTR) goes up to run(), whose clean-up stops ncat and removes the namespaces.
        var fed = 0, lateWhy: String?
        do {
            fed = try Proc.feed(src.input, data, timeout: plan.seconds)
        } catch let e as NetlabError where !e.isInterrupted {
            lateWhy = e.message
        }
        close(src.input)
        func waitEnd(_ pid: pid_t) throws -> Int32 {
            do {
                let st = try Proc.wait(pid, timeout: max(1, end.timeIntervalSinceNow))
                pids.removeAll { $0 == pid }
                return st
            } catch let e as NetlabError where !e.isInterrupted {
                lateWhy = lateWhy ?? "ncat still running at the deadline"
                return -1
            }
        }
        let cs = try waitEnd(src.pid)
        let ss = try waitEnd(sink)
        let seconds = Date().timeIntervalSince(start)
        if lateWhy != nil {
            stopProcess(src.pid)
            stopProcess(sink)
        }
        usleep(200_000)
        stopProcess(cap)
        let got = (try? Data(contentsOf: URL(fileURLWithPath: outFile))) ?? Data()
        let hashes = try Proc.run(["sha256sum", path("bulk-in.bin"), outFile], timeout: 30).output
            .split(separator: "\n").map { String($0.prefix(64)) }
        if let why = lateWhy {
            check(false, String(format: "bulk: the transfer did not finish: %@ (deadline %.0f s; %d of %d bytes arrived)",
                                why, plan.seconds, got.count, sent.count))
        }
        check(lateWhy == nil && fed == sent.count && cs == 0 && ss == 0,
              "bulk: ncat sent \(fed) bytes and both ends finished (sender \(cs), receiver \(ss))")
        check(got == sent && hashes.count == 2 && hashes[0] == hashes[1],
              "bulk: the \(got.count) bytes received are the \(sent.count) sent, in order (sha256 \(hashes.first.map { String($0.prefix(16)) } ?? "?")…)")
        say(String(format: "bulk: %d bytes in %.2f s (%.2f Mbit/s)", got.count, seconds, Double(got.count) * 8 / seconds / 1e6))
        try tsharkReads("bulk.pcap")
    }
}

extension String {
    /// Appends to a file (created if missing).
    func append(toFile p: String) throws {
        if let h = FileHandle(forWritingAtPath: p) {
            defer { try? h.close() }
            h.seekToEndOfFile()
            h.write(Data(utf8))
        } else {
            try OutputFile.write(self, to: p)
        }
    }
}
