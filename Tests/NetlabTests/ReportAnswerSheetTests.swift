// netlab report CAPTURE... on a student's own two captures (echo on lo, chat on
// any): report.pdf printed by headless Chromium is read back with pdftotext and
// every answer on it is what tshark says of the same files; the answer sheet
// comes first, then the encapsulation of a real packet of the capture (both
// checksums as tshark computes them), then the flow graphs.
import Foundation
import Netlab
import XCTest

final class ReportAnswerSheetTests: XCTestCase {
    func testReportOfTwoOwnCapturesAgreesWithTsharkInThePDF() throws {
        try Lab.requireRoot("capturing real traffic for the report")
        Lab.requireTools(["tshark", "tcpdump", "chromium", "pdftotext"])
        let dir = Lab.tempDir("report-answers")
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let port = Lab.randomPortBase() + 5
        let lines = ["Hello World", "Welcome to netlab! (my own line)", "The Quick Brown Fox"]
        try (lines.map { $0 + "\n" }.joined()).write(toFile: path("in-proj.txt"), atomically: true, encoding: .utf8)

        // Part 1: echo on lo (tcpdump). Part 2: chat on any (netlab capture), "Welcome" in a message.
        let echo = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)", "--no-output"],
                                      label: "echoserver", dir: dir)
        defer { echo.stop(SIGTERM) }
        try echo.waitFor("listening")
        let cap1 = try Lab.Background("tcpdump", ["-U", "-n", "--immediate-mode", "-i", "lo", "-w", path("part1.pcap"),
                                                  "tcp port \(port)"], label: "tcpdump", dir: dir)
        try cap1.waitFor("listening on")
        usleep(200_000)
        let r = try Lab.run(Lab.product("echoclient"), ["--host", "127.0.0.1", "--port", "\(port)", "--input", path("in-proj.txt")])
        XCTAssertEqual(r.status, 0, r.stderr)
        usleep(300_000)
        cap1.stop()

        let chat = try Lab.Background(Lab.product("chatserver"), ["--host", "127.0.0.1", "--port", "\(port + 1)"],
                                      label: "chatserver", dir: dir)
        defer { chat.stop(SIGTERM) }
        try chat.waitFor("listening")
        let cap2 = try Lab.Background(Lab.product("capture"), ["-i", "any", "-w", path("part2.pcap"), "tcp", "port", "\(port + 1)"],
                                      label: "capture", dir: dir)
        try cap2.waitFor("listening on")
        usleep(200_000)
        do {
            let alice = try LineClient(port: UInt16(port + 1)), bob = try LineClient(port: UInt16(port + 1))
            try alice.register("alice"); try bob.register("bob")
            try alice.send("CHAT bob\n"); _ = try alice.next(); _ = try bob.waitFor("REQUEST")
            try bob.send("ACCEPT alice\n"); _ = try bob.next(); _ = try alice.waitFor("ACCEPTED")
            try alice.send("MSG bob Welcome, Bob!\n"); _ = try bob.waitFor("FROM alice")
            try alice.send("QUIT\n"); _ = try alice.next()
            try bob.send("QUIT\n"); _ = try bob.next()
        }
        usleep(300_000)
        cap2.stop()

        let out = path("report")
        let rep = try Lab.run(Lab.product("netlab"), ["report", path("part1.pcap"), path("part2.pcap"), "--input",
                                                      path("in-proj.txt"), "--out", out], timeout: 180)
        XCTAssertEqual(rep.status, 0, rep.stderr)
        for f in ["report.html", "report.md", "report.pdf"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
        }
        func pdfText(_ args: [String]) throws -> String {
            let t = try Lab.run("pdftotext", args + [out + "/report.pdf", "-"]).text
            return t.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
        }
        let text = try pdfText([])
        let page1 = try pdfText(["-f", "1", "-l", "1"])
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
            .replacingOccurrences(of: " | ", with: " ").replacingOccurrences(of: "<br>", with: " ")
            .replacingOccurrences(of: #"\\([!-/:-@\[-`{-~])"#, with: "$1", options: .regularExpression) // Markdown's escapes read as text
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertFalse(html.contains("<details"), "every table printed expanded")
        XCTAssertFalse(html.contains("<script"))
        let pages = try Lab.run("pdfinfo", [out + "/report.pdf"]).text
            .split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last!) } ?? 0
        XCTAssertTrue((3...60).contains(pages), "page count \(pages)")

        // Order: the answer sheet (on page 1), then the encapsulation, then the flow graphs.
        XCTAssertTrue(page1.contains("Answer sheet") && page1.contains("Part 1") && page1.contains("greeting"), page1)
        let iSheet = try XCTUnwrap(text.range(of: "Answer sheet")).lowerBound
        let iEncap = try XCTUnwrap(text.range(of: "Encapsulation, byte by byte")).lowerBound
        let iFlow = try XCTUnwrap(text.range(of: "Conversation 1:")).lowerBound
        XCTAssertTrue(iSheet < iEncap && iEncap < iFlow)

        // Every answer, as tshark says it.
        func expectIn(_ s: String, _ why: String) {
            XCTAssertTrue(text.contains(s), "PDF lacks \(why): '\(s)'")
            XCTAssertTrue(md.contains(s), "report.md lacks \(why): '\(s)'")
        }
        for (file, srv) in [("part1.pcap", port), ("part2.pcap", port + 1)] {
            let rows = try Tshark.run(["-r", path(file), "-Y", "tcp.len > 0", "-T", "fields", "-e", "frame.number",
                                       "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.len", "-e", "tcp.stream"])
                .split(separator: "\n").map { $0.split(separator: "\t").map { Int($0)! } }
            // The greeting of each stream: its first payload frame, from the server port.
            for s in Set(rows.map { $0[4] }) {
                let first = try XCTUnwrap(rows.first { $0[4] == s })
                XCTAssertEqual(first[1], srv, "\(file): the server speaks first")
                expectIn("packet \(first[0]), \(first[3]) bytes of payload", "\(file) greeting of stream \(s)")
            }
            expectIn("server port \(srv)", "\(file) server port")
            let m = rows.map { $0[3] }.max()!
            let tied = rows.filter { $0[3] == m }.map { String($0[0]) }
            expectIn("\(m) bytes: packet\(tied.count > 1 ? "s" : "") \(tied.joined(separator: ", "))", "\(file) largest payload")
            for c in try Tshark.conversations(path(file), proto: "tcp", excluding: []) {
                let client = c.a.hasSuffix(":\(srv)") ? c.b : c.a
                let c2s = c.a == client ? (c.framesAB, c.bytesAB) : (c.framesBA, c.bytesBA)
                let s2c = c.a == client ? (c.framesBA, c.bytesBA) : (c.framesAB, c.bytesAB)
                expectIn("\(c2s.1) in \(c2s.0) frames", "\(file) frame bytes client to server")
                expectIn("\(s2c.1) in \(s2c.0) frames", "\(file) frame bytes server to client")
            }
        }
        // The interface, as tshark reads the files: part 1 on lo (an Ethernet header with all-zero addresses),
        // part 2 on any (a cooked v2 header: ARPHRD_LOOPBACK, 772, and its ifindex).
        let e1 = Set(try Tshark.run(["-r", path("part1.pcap"), "-T", "fields", "-e", "eth.src"]).split(separator: "\n"))
        XCTAssertEqual(e1, ["00:00:00:00:00:00"])
        expectIn("a loopback interface (Ethernet header (EN10MB) with all-zero addresses", "part 1 interface")
        let s2 = Set(try Tshark.run(["-r", path("part2.pcap"), "-T", "fields", "-e", "sll.hatype", "-e", "sll.ifindex"])
            .split(separator: "\n"))
        XCTAssertEqual(s2.count, 1)
        let hf = s2.first!.split(separator: "\t").map(String.init)
        XCTAssertEqual(hf.first, "772")
        expectIn("lo, the loopback interface, ifindex \(hf.last!) (Linux cooked v2 header: ARPHRD_LOOPBACK (772), ifindex \(hf.last!)",
                 "part 2 interface")
        // The chat users and their client ports (tshark: the destination port of "OK NICK <name>").
        for name in ["alice", "bob"] {
            let p = try Tshark.run(["-r", path("part2.pcap"), "-Y", "tcp.payload contains \"OK NICK \(name)\"", "-T", "fields",
                                    "-e", "tcp.dstport"]).split(separator: "\n").first.map(String.init) ?? "?"
            expectIn("\(name): client port \(p)", "chat user \(name)")
        }
        // The trap: the client's own line holding "Welcome" is never the greeting.
        let trap = try Tshark.run(["-r", path("part1.pcap"), "-Y", "tcp.payload contains \"my own line\"", "-T", "fields",
                                   "-e", "frame.number", "-e", "tcp.len"]).split(separator: "\n").first.map {
            $0.split(separator: "\t").map(String.init) } ?? []
        XCTAssertEqual(trap.count, 2)
        XCTAssertFalse(text.contains("packet \(trap[0]), \(trap[1]) bytes of payload"), "the client's Welcome line is no greeting")

        // The encapsulation is of a packet of part1.pcap carrying one of the user's lines; both checksums are tshark's.
        let enc = try XCTUnwrap(text.range(of: #"Packet (\d+) of part1\.pcap \(the first packet carrying one of your messages\)"#,
                                           options: .regularExpression))
        let num = String(text[enc].dropFirst(7).prefix { $0.isNumber })
        let ck = try Tshark.run(["-r", path("part1.pcap"), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
                                 "-Y", "frame.number == \(num)", "-T", "fields", "-e", "ip.checksum", "-e", "tcp.checksum",
                                 "-e", "tcp.checksum_calculated", "-e", "tcp.payload"])
        let f = ck.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init)
        XCTAssertEqual(String(decoding: TsharkAnswers.hex(f[3]), as: UTF8.self), lines[0] + "\n")
        let ipck = f[0].dropFirst(2), tcpCalc = (f.count > 2 && !f[2].isEmpty ? f[2] : f[1]).dropFirst(2)
        XCTAssertTrue(text.contains("complement ~0x") && text.contains("= 0x\(ipck)"), "IPv4 checksum 0x\(ipck)")
        XCTAssertTrue(text.contains("= 0x\(tcpCalc)"), "TCP checksum as tshark calculates it: 0x\(tcpCalc)")
    }

    /// The injector's capture is no echo: the report's sheet gives the chosen message's own bytes (tshark's tcp.len)
    /// and says there is no reply and why, never "the matching echo reply".
    func testReportOfTheInjectorsCapturePairsNoReply() throws {
        Lab.requireTools(["tshark", "chromium", "pdftotext"])
        let dir = Lab.tempDir("report-inject")
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/group01_chat_input.csv").path
        let cap = dir.appendingPathComponent("inj.pcap").path, out = dir.appendingPathComponent("report").path
        XCTAssertEqual(try Lab.run(Lab.product("injector"), [csv, "--write", cap]).status, 0)
        // And a capture where the client speaks first (no greeting): handshake, "first\n", its echo.
        let c: [UInt8] = [10, 0, 0, 2], s: [UInt8] = [10, 0, 0, 1]
        let pkts = [Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 100, flags: 0x02),
                    Pkt.tcp4(src: s, dst: c, sport: 7007, dport: 40000, seq: 500, ack: 101, flags: 0x12),
                    Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 101, ack: 501, flags: 0x10, id: 2),
                    Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 101, ack: 501, flags: 0x18,
                             payload: Array("first\n".utf8), id: 3),
                    Pkt.tcp4(src: s, dst: c, sport: 7007, dport: 40000, seq: 501, ack: 107, flags: 0x18,
                             payload: Array("TSRIF\n".utf8), id: 2)]
        let first = dir.appendingPathComponent("first.pcap").path
        try Data(CaptureBytes.pcap(linkType: 1, frames: pkts.enumerated().map {
            CaptureBytes.Frame(seconds: 1_700_000_000, fraction: $0.offset * 1000, data: Pkt.ether($0.element)) }))
            .write(to: URL(fileURLWithPath: first))
        let firstPayload = try Tshark.run(["-r", first, "-Y", "tcp.len > 0 && tcp.srcport == 40000", "-T", "fields",
                                           "-e", "frame.number"]).split(separator: "\n").first.map(String.init)
        let rep = try Lab.run(Lab.product("netlab"), ["report", cap, first, "--csv", csv, "--out", out], timeout: 180)
        XCTAssertEqual(rep.status, 0, rep.stderr)
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
            .replacingOccurrences(of: " | ", with: " ").replacingOccurrences(of: "<br>", with: " ")
            .replacingOccurrences(of: #"\\([!-/:-@\[-`{-~])"#, with: "$1", options: .regularExpression) // Markdown's escapes read as text
        let row = try XCTUnwrap(md.split(separator: "\n").first { $0.contains("a client message and the field that holds it") })
        let m = try XCTUnwrap(row.range(of: #"packet (\d+) \((\d+) B\)"#, options: .regularExpression), String(row))
        let parts = row[m].split(whereSeparator: { !$0.isNumber }).map { Int($0)! }
        let len = try Tshark.run(["-r", cap, "-Y", "frame.number == \(parts[0])", "-T", "fields", "-e", "tcp.len"])
        XCTAssertEqual(Int(len.trimmingCharacters(in: .whitespacesAndNewlines)), parts[1], "the packet's own tcp.len: \(row)")
        let injSheet = String(md[..<(md.range(of: "### Part 2 (first.pcap)")?.lowerBound ?? md.endIndex)])
        XCTAssertFalse(injSheet.contains("the matching echo reply"), injSheet)
        XCTAssertTrue(injSheet.contains("no reply: the server's next line is not its echo"), injSheet)
        XCTAssertTrue(md.contains("none: the client spoke first, in packet \(firstPayload ?? "?")"), md)
    }
}
