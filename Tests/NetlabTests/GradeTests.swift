// Grading without root: echo grading of the byte stream on crafted conversations
// (every line in one write, CRLF, echoes swapped, a greeting never taken for an
// echo), analyze's JSON for a capture that cannot be opened and its answer sheet of
// a capture cut short, the rubric's parser and its errors, hostile and damaged zips
// refused with their reasons, the gradebook's CSV quoting, and netlab grade's exit
// statuses. The class of real captures is GradeClassTests.
import Foundation
import XCTest

/// A TCP conversation between 127.0.0.1:40000 (client) and :5000 (server), segment by segment.
struct Conversation {
    var frames: [CaptureBytes.Frame] = []
    var seq = [UInt32(1000), UInt32(5000)]   // next sequence number: client, server
    var time = 0

    init() {
        add(0, flags: Pkt.SYN)
        seq[0] += 1
        add(1, flags: Pkt.SYN | Pkt.ACK)
        seq[1] += 1
        add(0, flags: Pkt.ACK)
    }

    /// A segment from the client (0) or the server (1), acknowledging everything the other side sent.
    mutating func add(_ from: Int, _ text: String = "", flags: UInt8 = Pkt.ACK | Pkt.PSH) {
        let p = Array(text.utf8)
        let sp = from == 0 ? 40000 : 5000, dp = from == 0 ? 5000 : 40000
        let ack = flags == Pkt.SYN ? 0 : seq[1 - from]
        let l3 = Pkt.tcp4(sport: sp, dport: dp, seq: seq[from], ack: ack, flags: p.isEmpty ? flags : flags | Pkt.ACK,
                          payload: p, id: frames.count + 1)
        frames.append(.init(seconds: 1_700_000_000, fraction: time, data: Pkt.ether(l3, zeroMACs: true)))
        time += 1000
        seq[from] &+= UInt32(p.count)
    }

    mutating func close() {
        add(0, flags: Pkt.FIN | Pkt.ACK)
        seq[0] += 1
        add(1, flags: Pkt.FIN | Pkt.ACK)
        seq[1] += 1
        add(0, flags: Pkt.ACK)
    }

    var pcap: [UInt8] { CaptureBytes.pcap(linkType: 1, frames: frames) }
}

final class GradeTests: XCTestCase {
    var dir: URL!

    override func setUp() { dir = Lab.tempDir("grade") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func path(_ n: String) -> String { dir.appendingPathComponent(n).path }

    func write(_ n: String, _ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path(n)).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path(n)))
    }

    func write(_ n: String, _ text: String) throws { try write(n, Array(text.utf8)) }

    let lines = ["Hello World", "second line", "Third ONE"]
    var input: String { lines.map { $0 + "\n" }.joined() }
    func echo(_ s: String) -> String {
        String(s.reversed().map { $0.isASCII && $0.isLetter ? Character($0.isUppercase ? $0.lowercased() : $0.uppercased()) : $0 })
    }

    func expectEcho(_ c: Conversation) throws -> (status: Int32, results: [[String: Any]], unexpected: [[String: Any]]) {
        try write("in.txt", input)
        try write("c.pcap", c.pcap)
        let r = try Lab.run(Lab.product("analyze"), [path("c.pcap"), "--expect-echo", path("in.txt"), "--json"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.stderr)
        let ex = try XCTUnwrap(o["expect"] as? [String: Any])
        return (r.status, ex["results"] as? [[String: Any]] ?? [], ex["unexpected_payload"] as? [[String: Any]] ?? [])
    }

    // ---- the byte stream, not the segments ----

    /// A client that writes every line in one write() is right: TCP is a byte stream (issue 19).
    func testEveryLineInOneWriteIsGradedOnTheStream() throws {
        var c = Conversation()
        c.add(1, "Welcome to CS 352!\n")
        c.add(0, input)
        for l in lines { c.add(1, echo(l) + "\n") }
        c.close()
        let r = try expectEcho(c)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.results.map { $0["status"] as? String }, Array(repeating: "found", count: 6))
        XCTAssertEqual(r.unexpected.map { $0["kind"] as? String }, ["greeting"])
    }

    /// CRLF line ends each way, a line split over segments, every echo in one segment.
    func testCRLFAndSplitLinesAndCoalescedEchoes() throws {
        var c = Conversation()
        c.add(1, "Welcome\r\n")
        c.add(0, "Hello Wo")
        c.add(0, "rld\r\nsecond line\r\nThird ONE\r\n")
        c.add(1, lines.map { echo($0) + "\r\n" }.joined())
        c.close()
        let r = try expectEcho(c)
        XCTAssertEqual(r.status, 0, "\(r.results)")
        XCTAssertEqual(r.results.first?["packet"] as? Int, 5)
        XCTAssertEqual(r.results.first?["last_packet"] as? Int, 6)
    }

    /// Echoes in the wrong order are out of order in the server's stream; an echo sent before its line arrived is too.
    func testOrderIsTheStreamsAndAnEchoCannotPrecedeItsLine() throws {
        var c = Conversation()
        c.add(1, "Welcome\n")
        c.add(0, input)
        c.add(1, echo(lines[1]) + "\n" + echo(lines[0]) + "\n" + echo(lines[2]) + "\n")
        c.close()
        var r = try expectEcho(c)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.results.map { $0["status"] as? String }, ["found", "found", "found", "out-of-order", "found", "found"])
        var d = Conversation()
        d.add(1, "Welcome\n" + echo(lines[0]) + "\n")
        d.add(0, input)
        d.add(1, echo(lines[1]) + "\n" + echo(lines[2]) + "\n")
        d.close()
        r = try expectEcho(d)
        XCTAssertEqual(r.results[1]["status"] as? String, "out-of-order")
        XCTAssertTrue((r.results[1]["detail"] as? String)?.contains("before line 1") == true, "\(r.results[1])")
    }

    /// A greeting is never taken for an echo, altered or not: a server that greets and answers nothing misses every echo.
    func testAGreetingIsNotAnAlteredEcho() throws {
        var c = Conversation()
        c.add(1, "Welcome to CS 352!\n")
        c.add(0, input)
        c.close()
        let r = try expectEcho(c)
        XCTAssertEqual(r.results.map { $0["status"] as? String }, ["found", "missing", "found", "missing", "found", "missing"])
        XCTAssertEqual(r.unexpected.map { $0["kind"] as? String }, ["greeting"])
    }

    // ---- analyze's own errors ----

    func testJSONOfACaptureThatCannotBeOpenedIsItsErrorObject() throws {
        for extra in [[], ["--answers"]] {
            let r = try Lab.run(Lab.product("analyze"), [path("absent.pcap"), "--json"] + extra)
            XCTAssertEqual(r.status, 2)
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], "stdout: \(r.text)")
            XCTAssertEqual(o["file"] as? String, path("absent.pcap"))
            XCTAssertTrue((o["error"] as? String)?.contains("No such file") == true)
        }
    }

    func testAnswersOfACaptureCutShortCoverThePacketsBeforeTheDamage() throws {
        var c = Conversation()
        c.add(1, "Welcome\n")
        c.add(0, "Hello World\n")
        let whole = c.pcap
        try write("cut.pcap", Array(whole.dropLast(10)))
        let r = try Lab.run(Lab.product("analyze"), [path("cut.pcap"), "--answers", "--json"])
        XCTAssertEqual(r.status, 2)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.stderr)
        XCTAssertEqual(o["packets"] as? Int, 4, r.stderr)
        XCTAssertFalse(r.stderr.contains("changed while read"), r.stderr)
    }

    // ---- netlab grade ----

    func grade(_ args: [String]) throws -> Lab.Output {
        try Lab.run(Lab.product("netlab"), ["grade"] + args, cwd: dir)
    }

    func gradeJSON(_ args: [String]) throws -> [String: [String: Any]] {
        let r = try grade(args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var by: [String: [String: Any]] = [:]
        for l in r.text.split(separator: "\n") {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            by[o["submission"] as! String] = o
        }
        return by
    }

    func reason(_ o: [String: Any]?, _ check: String) -> String? {
        (o?["checks"] as? [[String: Any]])?.first { $0["check"] as? String == check }?["reason"] as? String
    }

    var goodCapture: [UInt8] {
        var c = Conversation()
        c.add(1, "Welcome to CS 352!\n")
        for l in lines {
            c.add(0, l + "\n")
            c.add(1, echo(l) + "\n")
        }
        c.close()
        return c.pcap
    }

    func testExitStatusesAndTheRubricsErrors() throws {
        try write("class/alice/part1.pcap", goodCapture)
        try write("in.txt", input)
        XCTAssertEqual(try grade([]).status, 64)
        XCTAssertEqual(try grade(["class", "--port", "70000"]).status, 64)
        var r = try grade(["absent-class", "--input", "in.txt"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("absent-class: cannot open the class folder"), r.stderr)
        r = try grade(["class", "--input", "absent.txt"])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("absent.txt"), r.stderr)
        for (text, want) in [("greting = x\n", "rubric.txt:1: unknown setting \"greting\""),
                             ("port = 5000\n# a comment\nport = 5001\n", "rubric.txt:3: \"port\" set twice in this file"),
                             ("port = fifty\n", "rubric.txt:1: port: \"fifty\" is neither a port"),
                             ("greeting = \"Welcome\n", "rubric.txt:1: a quoted value without its closing quote"),
                             ("require = part1:moon\n", "rubric.txt:1: require: \"part1:moon\": say loopback, across or any"),
                             ("points.greting = 2\n", "rubric.txt:1: points.greting: no such check in this rubric"),
                             ("output = out-proj.txt\n", "rubric.txt:1: output = out-proj.txt needs input = FILE"),
                             ("points.capture = 1.2345\n", "rubric.txt:1: points.capture: \"1.2345\" is not a number"),
                             ("reference.part3 = x.pcap\nrequire = part1\n", "reference.part3: no capture of that name")] {
            try write("rubric.txt", text)
            r = try grade(["class", "--rubric", "rubric.txt"])
            XCTAssertEqual(r.status, 65, text)
            XCTAssertTrue(r.stderr.contains(want), "\(text): \(r.stderr)")
        }
        // A rubric that parses: BOM, CRLF, quotes keeping '#', inline comments, options replacing it.
        try write("rubric.txt", "\u{feff}greeting = \"Welcome to CS #352!\"  # quoted\r\nport = 5000 # the port\r\n"
                  + "input = in.txt\r\npoints.echo = 2.5\r\n")
        var by = try gradeJSON(["class", "--rubric", "rubric.txt"])
        XCTAssertEqual(reason(by["alice"], "greeting"), "greeting 'Welcome to CS 352!' is not 'Welcome to CS #352!'")
        XCTAssertEqual(by["alice"]?["max_points"] as? Double, 5.5)
        by = try gradeJSON(["class", "--rubric", "rubric.txt", "--greeting", "Welcome to CS 352!"])
        XCTAssertEqual(by["alice"]?["verdict"] as? String, "PASS")
        // Grading ran: 0 whatever the grades; an output that cannot be written: 1.
        XCTAssertEqual(try grade(["class", "--greeting", "Nope"]).status, 0)
        try FileManager.default.createDirectory(atPath: path("adir"), withIntermediateDirectories: true)
        XCTAssertEqual(try grade(["class", "--csv", "adir"]).status, 1)
    }

    /// Zips built by Python's zipfile, hostile or damaged: each refused (or its entry unread) with its reason.
    func testHostileAndDamagedZipsAreRefusedWithTheirReasons() throws {
        try write("class/ok/part1.pcap", goodCapture)
        try write("good.pcap", goodCapture)
        let script = """
        import zipfile, sys, os
        c, good = sys.argv[1], open(sys.argv[2], 'rb').read()
        def z(name, entries, method=zipfile.ZIP_DEFLATED):
            with zipfile.ZipFile(os.path.join(c, name), 'w', method) as f:
                for n, d in entries: f.writestr(n, d)
        z('dotdot.zip', [('part1.pcap', good), ('a/../../evil', b'x')])
        z('backslash.zip', [('..\\\\evil', b'x')])
        z('drive.zip', [('C:/evil', b'x')])
        link = zipfile.ZipInfo('part1.pcap'); link.create_system = 3; link.external_attr = 0o120777 << 16
        z('link.zip', [(link, '/etc/passwd')])
        fifo = zipfile.ZipInfo('fifo'); fifo.create_system = 3; fifo.external_attr = 0o010644 << 16
        z('fifo.zip', [(fifo, '')])
        z('bzip2.zip', [('part1.pcap', good)], zipfile.ZIP_BZIP2)
        z('twice.zip', [('part1.pcap', good), ('part1.pcap', good)])
        z('plain.zip', [('sub/part1.pcap', good), ('__MACOSX/sub/._part1.pcap', b'junk'), ('.hidden', b'x')])
        z('crc.zip', [('part1.pcap', good)], zipfile.ZIP_STORED)
        b = bytearray(open(os.path.join(c, 'crc.zip'), 'rb').read()); b[100] ^= 0xff
        open(os.path.join(c, 'crc.zip'), 'wb').write(b)
        z('cut.zip', [('part1.pcap', good)])
        b = open(os.path.join(c, 'cut.zip'), 'rb').read(); open(os.path.join(c, 'cut.zip'), 'wb').write(b[:len(b) // 2])
        z('enc.zip', [('part1.pcap', good)], zipfile.ZIP_STORED)
        b = bytearray(open(os.path.join(c, 'enc.zip'), 'rb').read())
        for sig in (b'PK\\x03\\x04', b'PK\\x01\\x02'):
            at = b.find(sig); off = 6 if sig == b'PK\\x03\\x04' else 8; b[at + off] |= 1
        open(os.path.join(c, 'enc.zip'), 'wb').write(b)
        """
        try write("mk.py", script)
        let mk = try Lab.run("/usr/bin/python3", [path("mk.py"), path("class"), path("good.pcap")])
        XCTAssertEqual(mk.status, 0, mk.stderr)
        let by = try gradeJSON(["class", "--require", "part1"])
        let want: [String: String] = [
            "dotdot.zip": "refused: dotdot.zip: entry \"a/../../evil\" climbs out of its folder (\"..\")",
            "backslash.zip": "refused: backslash.zip: entry \"..\\evil\" holds a backslash (a Windows folder separator): refused",
            "drive.zip": "refused: drive.zip: entry \"C:/evil\" has an absolute path: it would unpack outside its folder",
            "link.zip": "refused: link.zip: entry \"part1.pcap\" is a symbolic link: refused (zip the file itself)",
            "fifo.zip": "refused: fifo.zip: entry \"fifo\" is a FIFO: refused (zip the file itself)",
            "bzip2.zip": "refused: bzip2.zip: entry \"part1.pcap\" uses compression method 12: only stored (0) and deflate (8) are read",
            "twice.zip": "refused: twice.zip: two entries are named \"part1.pcap\"",
            "cut.zip": "refused: cut.zip: not a zip archive (no end of central directory record)",
            "enc.zip": "refused: enc.zip: entry \"part1.pcap\" is encrypted: give the archive without a password",
        ]
        for (zip, reason) in want {
            XCTAssertEqual(by[zip]?["verdict"] as? String, "FAIL", zip)
            XCTAssertEqual(self.reason(by[zip], "readable"), reason, zip)
            XCTAssertEqual(self.reason(by[zip], "part1.capture"), "not graded: the submission could not be read", zip)
        }
        XCTAssertEqual(by["plain.zip"]?["verdict"] as? String, "PASS", "\(by["plain.zip"] ?? [:])")
        XCTAssertEqual(reason(by["plain.zip"], "readable"), "a zip of 1 file")
        XCTAssertEqual(reason(by["plain.zip"], "part1.capture"), "sub/part1.pcap: 13 packets (pcap)")
        XCTAssertTrue(reason(by["crc.zip"], "part1.capture")?.hasPrefix("part1.pcap cannot be read: crc.zip: entry \"part1.pcap\" is damaged (its CRC-32 is") == true,
                      reason(by["crc.zip"], "part1.capture") ?? "")
        XCTAssertEqual(by["ok"]?["verdict"] as? String, "PASS")
    }

    /// Another transform, the output file (CRLF, no last line end), named files by pattern, aggregated checks.
    func testTransformsOutputFileAndEveryCaptureFound() throws {
        var c = Conversation()
        c.add(1, "Hi\n")
        for l in lines {
            c.add(0, l + "\n")
            c.add(1, l.uppercased() + "\n")
        }
        c.close()
        try write("class/upper/one.pcap", c.pcap)
        try write("class/upper/two.pcapng.bak", goodCapture)  // a capture by its content, whatever its name
        try write("class/upper/out-proj.txt", lines.map { $0.uppercased() }.joined(separator: "\r\n"))
        try write("class/upper/src/Server.PY", "#")
        try write("in.txt", input)
        let by = try gradeJSON(["class", "--input", "in.txt", "--transform", "upper", "--output-file", "out-proj.txt",
                                "--files", "server.py,*.md"])
        let u = by["upper"]
        XCTAssertEqual(reason(u, "capture"), "one.pcap: 13 packets (pcap); two.pcapng.bak: 13 packets (pcap)")
        XCTAssertEqual(reason(u, "echo"), "two.pcapng.bak: packet 6: the echo of line 1 is 'DLROw OLLEh', expected 'HELLO WORLD' (and 2 more)")
        XCTAssertEqual(reason(u, "output"), "out-proj.txt: 3 lines, each the upper of its input line")
        XCTAssertEqual(reason(u, "files"), "missing *.md")
        let d = try gradeJSON(["class", "--input", "in.txt", "--output-file", "out-proj.txt"])
        XCTAssertEqual(reason(d["upper"], "output"), "out-proj.txt line 1 is 'HELLO WORLD', expected 'DLROw OLLEh' (and 2 more)")
        XCTAssertEqual(reason(d["upper"], "echo"), "one.pcap: packet 6: the echo of line 1 is 'HELLO WORLD', expected 'DLROw OLLEh' (and 2 more)")
    }

    func testFoldersLinksSpecialFilesAndTheGradebooksQuoting() throws {
        try write("class/=HYPERLINK(\"x\"),b/part1.pcap", goodCapture)
        try write("class/plain/Part 1.pcapng.pcap", goodCapture)
        try write("class/plain/.hidden.pcap", "not read")
        try write("class/notes.txt", "not a submission")
        try write("class/fifo/part1.pcap", goodCapture)
        XCTAssertEqual(mkfifo(path("class/fifo/pipe"), 0o600), 0)
        let r = try grade(["class", "--require", "part1", "--csv", "g.csv", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped notes.txt: neither a folder nor a .zip"), r.stderr)
        let csv = try String(contentsOfFile: path("g.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("\"'=HYPERLINK(\"\"x\"\"),b\",PASS,"), csv)
        XCTAssertTrue(csv.contains("\r\nplain,PASS,"), csv)
        XCTAssertTrue(r.text.contains("pipe is a special file (a FIFO, device or socket): refused"), r.text)
    }
}
