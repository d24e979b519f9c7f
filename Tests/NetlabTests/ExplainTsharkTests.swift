// Issue 18 item 4, "the report teaches nothing false": every field's value and meaning
// sentence that `injector --explain` prints and that the report's "Every field" table
// prints is checked against tshark's reading of the same field of the same frame
// (ExplainOracle), over every packet of the injector's capture of the sample CSV, of a
// real kernel capture (Tests/Fixtures/real_tcp.pcap), of every capture `netlab lab` makes
// and of those captures with their handshake cut off; and the check is shown to catch
// deliberately wrong sentences.
import CNetlab
import Foundation
import Netlab
import XCTest

final class ExplainTsharkTests: XCTestCase {
    struct Tally {
        var packets = 0, sentences = 0
        var problems: [String] = []
        var forms: Set<String> = []   // the Window and Checksum sentences seen, by their opening words
        mutating func add(_ p: [String]) { problems += p }
    }

    /// Every TCP/IPv4 frame of a capture explained as the report explains one (nl_answers_packet + nl_explain).
    func explainEveryFrame(_ path: String, into t: inout Tally) throws {
        _ = try TestSupport.requireTool("tshark")
        let all = try ExplainOracle.read(path)
        let a = try CaptureAnswers(path: path)
        for n in all.keys.sorted() where all[n]!["tcp.srcport"] != "" && all[n]!["ip.version"] == "4" {
            let p = try a.packet(UInt64(n))
            let x = try p.explain()
            t.packets += 1
            for f in x.fields {
                t.sentences += 1
                t.add(ExplainOracle.check(name: f.name, text: f.valueText, meaning: f.meaning, frame: n, in: all))
                if f.name == "Window" || f.name == "Checksum" { t.forms.insert(f.name + ": " + Self.form(f.meaning)) }
            }
            t.add(ExplainOracle.checkSummary(x.summary, relative: p.context?.has_isn == 1, frame: n, in: all))
        }
    }

    /// A sentence with its numbers replaced by #: the form it takes.
    static func form(_ s: String) -> String {
        s.replacingOccurrences(of: "0x[0-9a-f]+", with: "#", options: .regularExpression)
            .replacingOccurrences(of: "[0-9][0-9,]*", with: "#", options: .regularExpression)
    }

    func assertClean(_ t: Tally, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(t.sentences, 0, what, file: file, line: line)
        XCTAssertEqual(t.problems, [], "\(what): \(t.problems.count) sentences disagree with tshark", file: file, line: line)
        print("\(what): \(t.packets) packets, \(t.sentences) field sentences, all agree with tshark")
    }

    /// `injector --explain` (JSON and text) on the sample CSV, with and without the handshake, against tshark
    /// reading the pcap the same run wrote; and every packet of the plan (control packets too, which the
    /// printed explanation leaves out) through the same C function.
    func testInjectorExplainAgreesWithTshark() throws {
        _ = try TestSupport.requireTool("tshark")
        let dir = try TestSupport.tempDir()
        for handshake in [false, true] {
            let pcap = dir + "/inj-\(handshake).pcap"
            let extra = handshake ? ["--handshake"] : []
            let r = try TestSupport.run(TestSupport.product("injector"),
                                        [TestSupport.sampleCSV, "--explain", "--format", "json", "--no-inject", "-w", pcap] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let all = try ExplainOracle.read(pcap)
            let doc = try JSONSerialization.jsonObject(with: r.stdoutData) as! [String: Any]
            var t = Tally()
            var meanings: Set<String> = []
            for p in doc["packets"] as! [[String: Any]] {
                let n = p["number"] as! Int
                guard let layers = p["layers"] as? [[String: Any]] else { continue }
                t.packets += 1
                for l in layers {
                    for f in l["fields"] as! [[String: Any]] {
                        let meaning = f["meaning"] as! String
                        if l["name"] as? String != "Payload" { meanings.insert(meaning) }  // the text shows the payload itself
                        t.sentences += 1
                        t.add(ExplainOracle.check(name: f["name"] as! String, text: f["text"] as! String, meaning: meaning,
                                                  frame: n, in: all))
                    }
                }
                t.add(ExplainOracle.checkSummary(p["summary"] as! String, relative: true, frame: n, in: all))
            }
            assertClean(t, "injector --explain --format json\(handshake ? " --handshake" : "")")
            // The text rendering prints the same sentences.
            let text = try TestSupport.run(TestSupport.product("injector"),
                                           [TestSupport.sampleCSV, "--explain", "--no-inject", "-w", dir + "/text.pcap"] + extra)
            XCTAssertEqual(text.status, 0, text.stderr)
            for s in meanings { XCTAssertTrue(text.stdout.contains(s), "the text explanation lacks '\(s)'") }

            var lib = Tally()
            var o = CraftOptions()
            o.raw.handshake = handshake ? 1 : 0
            let plan = try Plan(messages: try MessageSet(path: TestSupport.sampleCSV), options: o)
            try plan.writePcap(to: dir + "/plan.pcap")  // its own ISNs and ports
            let planned = try ExplainOracle.read(dir + "/plan.pcap")
            for i in 0..<plan.packetCount {
                let x = try plan.explain(i)
                lib.packets += 1
                for f in x.fields {
                    lib.sentences += 1
                    lib.add(ExplainOracle.check(name: f.name, text: f.valueText, meaning: f.meaning, frame: i + 1, in: planned))
                }
                lib.add(ExplainOracle.checkSummary(x.summary, relative: true, frame: i + 1, in: planned))
            }
            XCTAssertEqual(lib.packets, planned.count)
            assertClean(lib, "every packet of the plan\(handshake ? " with the handshake" : "")")
        }
    }

    /// A real kernel TCP connection (veth, checksums in software, window scale 10), every packet.
    func testRealKernelCaptureAgreesWithTshark() throws {
        var t = Tally()
        try explainEveryFrame(TestSupport.root.appendingPathComponent("Tests/Fixtures/real_tcp.pcap").path, into: &t)
        assertClean(t, "real_tcp.pcap")
        XCTAssertTrue(t.forms.contains("Window: the sender can receive # x #^# = # bytes before the other side must wait: "
                                       + "window scale # from its SYN's option (packet #)"), "\(t.forms)")
    }

    /// The two checksum cases a lab capture lacks, in a Linux cooked (SLL2) capture Scapy writes: a zero
    /// checksum on an outgoing frame (offload: "not filled in") and a wrong one on an incoming frame (WRONG),
    /// beside a window scaled by each side's own shift (7 and 9).
    func testZeroChecksumOnTheSenderAndAWrongOneAgreeWithTshark() throws {
        let dir = try TestSupport.tempDir()
        let script = """
            import sys
            from scapy.all import IP, TCP, Raw, wrpcap
            from scapy.layers.l2 import CookedLinuxV2
            def seg(out, flags, seq, ack, payload=b'', opts=[], ck=None):
                a, b, p, q = ('10.99.0.1', '10.99.0.2', 40000, 12345) if out else ('10.99.0.2', '10.99.0.1', 12345, 40000)
                s = CookedLinuxV2(proto=0x0800, ifindex=2, lladdrtype=1, pkttype=4 if out else 0, lladdrlen=6,
                                  src=b'\\x02\\0\\0\\0\\0\\x01\\0\\0') / IP(src=a, dst=b, flags='DF', id=7) / \\
                    TCP(sport=p, dport=q, flags=flags, seq=seq, ack=ack, window=502, options=opts) / Raw(payload)
                if ck is not None:
                    s[TCP].chksum = ck
                return s
            wrpcap(sys.argv[1], [seg(1, 'S', 1000, 0, opts=[('MSS', 1460), ('WScale', 7)]),
                                 seg(0, 'SA', 5000, 1001, opts=[('MSS', 1460), ('WScale', 9)]),
                                 seg(1, 'PA', 1001, 5001, b'hello\\n', ck=0),
                                 seg(0, 'PA', 5001, 1007, b'bad one\\n', ck=0x1234)], linktype=276)
            """
        try script.write(toFile: dir + "/mk.py", atomically: true, encoding: .utf8)
        let mk = try TestSupport.run("/usr/bin/python3", [dir + "/mk.py", dir + "/sll2.pcap"])
        guard mk.status == 0 else { throw XCTSkip("Debian's Scapy (/usr/bin/python3) is needed: \(mk.stderr)") }
        var t = Tally()
        try explainEveryFrame(dir + "/sll2.pcap", into: &t)
        assertClean(t, "sll2.pcap (Scapy)")
        for form in ["Checksum: not filled in (checksum offload): the sending host left it to its network card, so the field is #",
                     "Checksum: WRONG: pseudo-header, header and data give #",
                     "Window: the sender can receive # x #^# = # bytes"] {
            XCTAssertTrue(t.forms.contains { $0.hasPrefix(form) }, "no '\(form)' in \(t.forms.sorted())")
        }
    }

    /// The check itself fails on wrong sentences: the old wordings of item 4 and a wrong number each.
    func testTheCheckCatchesWrongSentences() throws {
        _ = try TestSupport.requireTool("tshark")
        let path = TestSupport.root.appendingPathComponent("Tests/Fixtures/real_tcp.pcap").path
        let all = try ExplainOracle.read(path)
        let x = try CaptureAnswers(path: path).packet(4).explain()   // PSH/ACK with data, window 63 scaled by 2^10
        func field(_ n: String) -> Field { x.fields.first { $0.name == n } ?? x.fields[0] }
        func problems(_ name: String, meaning: String? = nil, text: String? = nil) -> [String] {
            let f = field(name)
            return ExplainOracle.check(name: name, text: text ?? f.valueText, meaning: meaning ?? f.meaning, frame: 4, in: all)
        }
        // As printed today, all true.
        for f in x.fields { XCTAssertEqual(problems(f.name), [], f.name) }
        // The window read without its scale (main before this fix): caught as contradicting tshark's
        // calculated window (64,512), not merely as an unknown sentence.
        let unscaled = problems("Window", meaning: "the sender can receive 63 more bytes before the other side must wait")
        XCTAssertEqual(unscaled.count, 1)
        XCTAssertTrue(unscaled.first?.contains("tcp.window_size is '64512'") == true, "\(unscaled)")
        XCTAssertNotEqual(problems("Window", meaning: field("Window").meaning.replacingOccurrences(of: "64,512", with: "64,513")), [])
        XCTAssertNotEqual(problems("Window", meaning: field("Window").meaning.replacingOccurrences(of: "packet 1", with: "packet 2")), [])
        // A correct checksum called wrong, or offload: caught.
        XCTAssertNotEqual(problems("Checksum", meaning: "WRONG: pseudo-header, header and data give 0x1234"), [])
        XCTAssertNotEqual(problems("Checksum", meaning: "not filled in (checksum offload): the sending host left it to its "
                                   + "network card, so the field is 0; the card would write 0xf538. Not an error in the packet"), [])
        // Wrong numbers and states.
        XCTAssertNotEqual(problems("TTL", meaning: "time to live: each router subtracts 1 and discards the packet at 0 (63 hops left)"), [])
        XCTAssertNotEqual(problems("Sequence Number", meaning: field("Sequence Number").meaning.replacingOccurrences(of: "relative 1", with: "relative 2")), [])
        XCTAssertNotEqual(problems("PSH", meaning: "no push"), [])
        XCTAssertNotEqual(problems("DF", meaning: "may be fragmented by routers"), [])
        XCTAssertNotEqual(problems("Total Length", text: "99"), [])
        // A sentence no check covers is a problem, not a pass.
        XCTAssertNotEqual(problems("Urgent Pointer", meaning: "something new"), [])
        XCTAssertNotEqual(problems("No Such Field"), [])
    }

    /// Every packet of every capture `netlab lab` makes (kernel TCP on loopback and across a veth pair,
    /// hand-built packets delivered to the echo server, the chat server), and the same captures without
    /// their first three frames (no SYN: the scale is unknown), against tshark; then the report's printed
    /// "Every field" table of part 1, row by row.
    func testLabCapturesAndTheReportTableAgreeWithTshark() throws {
        try TestSupport.requireRoot("netlab lab makes network namespaces and captures")
        let editcap = try TestSupport.requireTool("editcap")
        let dir = try TestSupport.tempDir()
        let lab = try TestSupport.run(TestSupport.product("netlab"), ["lab", "--out", dir + "/lab", "--no-report", "--no-color"])
        XCTAssertEqual(lab.status, 0, lab.stdout + lab.stderr)
        var t = Tally()
        for f in ["part1", "part2", "deliver", "part3"] {
            let path = dir + "/lab/\(f).pcap"
            try explainEveryFrame(path, into: &t)
            let cut = dir + "/\(f)-no-handshake.pcap"
            XCTAssertEqual(try TestSupport.run(editcap, ["-r", path, cut, "4-100000"]).status, 0)
            try explainEveryFrame(cut, into: &t)
        }
        assertClean(t, "netlab lab's captures, whole and without their handshake")
        // The three ways a window is told and an offloaded checksum all occur, so each was checked.
        for form in ["Window: the sender can receive # x #^# = # bytes", "Window: # before scaling: the connection's SYNs are not",
                     "Window: the sender can receive # bytes before the other side must wait; a SYN's window",
                     "Checksum: not filled in (checksum offload)", "Checksum: correct"] {
            XCTAssertTrue(t.forms.contains { $0.hasPrefix(form) }, "no '\(form)' in \(t.forms.sorted())")
        }
        print(t.forms.sorted().joined(separator: "\n"))

        // The report prints that table: read its rows back from report.md and check each against tshark.
        let rep = try TestSupport.run(TestSupport.product("netlab"), ["report", dir + "/lab/part1.pcap", "--input",
                                                                      dir + "/lab/in-proj.txt", "--out", dir + "/rep", "--no-pdf"])
        XCTAssertEqual(rep.status, 0, rep.stderr)
        let md = try String(contentsOfFile: dir + "/rep/report.md", encoding: .utf8)
        guard let g = ExplainOracle.match(#".*\nPacket (\d+) of part1\.pcap .*"#, md), let n = Int(g[0]) else {
            return XCTFail("report.md names no packet it takes apart")
        }
        let all = try ExplainOracle.read(dir + "/lab/part1.pcap")
        let table = md.components(separatedBy: "### Every field\n")[1].trimmingCharacters(in: .newlines)
            .components(separatedBy: "\n\n")[0]
        var rows = 0, problems: [String] = []
        for line in table.split(separator: "\n").dropFirst(2) {
            let c = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard c.count >= 6 else { continue }
            rows += 1
            problems += ExplainOracle.check(name: c[2], text: c[4], meaning: c[5], frame: n, in: all)
        }
        XCTAssertGreaterThanOrEqual(rows, 30)
        XCTAssertEqual(problems, [])
        // Item 4's two cases, in the table itself: an offloaded checksum is not WRONG, a scaled window is scaled.
        XCTAssertTrue(table.contains("| not filled in (checksum offload)"), table)
        XCTAssertFalse(table.contains("WRONG"), table)
        XCTAssertTrue(table.range(of: #"\| \d+ x 2\^\d+ = [\d,]+ bytes"#, options: .regularExpression) != nil ||
                      table.range(of: #"receive \d+ x 2\^\d+ = [\d,]+ bytes"#, options: .regularExpression) != nil, table)
        print("report.md: packet \(n)'s \(rows) rows agree with tshark")
    }
}
