// netlab lab, doctor and report (root): the whole exercise in two namespaces,
// the delivery proof checked independently (the server's output against the
// transform computed here), clean-up after a failure, an interrupt and a crash,
// and the report rendered by headless Chromium.
import Foundation
import XCTest

extension TestSupport {
    /// The namespaces a lab run says it made ("two hosts: nllab-PID-0-c (...) <-> nllab-PID-0-s (...)"): a
    /// test compares only its own, since other labs may run at the same time.
    static func namespacesNamed(in output: String) -> [String] {
        let re = try! NSRegularExpression(pattern: "nllab-[0-9]+-[0-9]+-[a-z]+")
        return Array(Set(re.matches(in: output, range: NSRange(output.startIndex..., in: output))
            .map { String(output[Range($0.range, in: output)!]) })).sorted()
    }

    /// Which of these namespaces still exist.
    static func existingNamespaces(_ names: [String]) throws -> [String] {
        let now = Set(try sh("ip netns list").stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) })
        return Array(Set(names).intersection(now)).sorted()
    }
}

final class LabTests: XCTestCase {
    var netlab: String { TestSupport.product("netlab") }

    /// Namespaces the lab created (named nllab-PID-...).
    func labNamespaces(pid: Int32? = nil) throws -> [String] {
        let r = try TestSupport.sh("ip netns list")
        return r.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            .filter { $0.hasPrefix(pid.map { "nllab-\($0)-" } ?? "nllab-") }
    }

    func namespacesNamed(in output: String) -> [String] { TestSupport.namespacesNamed(in: output) }
    func existing(_ names: [String]) throws -> [String] { try TestSupport.existingNamespaces(names) }

    /// The echo answer computed here, independently of libnetlab: reversed by character
    /// (Unicode scalars of valid UTF-8), ASCII letters' case swapped.
    func echo(_ line: String) -> String {
        String(String.UnicodeScalarView(line.unicodeScalars.reversed().map { u -> Unicode.Scalar in
            switch u.value {
            case 65...90: return Unicode.Scalar(u.value + 32)!
            case 97...122: return Unicode.Scalar(u.value - 32)!
            default: return u
            }
        }))
    }

    func testLabRunsEverythingProvesDeliveryAndLeavesNothing() throws {
        try TestSupport.requireRoot("network namespaces, raw sockets and capture")
        let dir = try TestSupport.tempDir() + "/out"
        // The user's own lines for the echo parts (the assignment's in-proj.txt), CRLF and all.
        let input = try TestSupport.tempDir() + "/in-proj.txt"
        let mine = ["My own first line", "Welcome to netlab!", "  MiXeD  "]
        try mine.map { $0 + "\r\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
        let r = try TestSupport.run(netlab, ["lab", "--out", dir, "--input", input, "--no-color"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        for part in ["part1", "part2"] {
            let out = try String(contentsOfFile: dir + "/\(part)-out-proj.txt", encoding: .utf8)
            XCTAssertEqual(out, mine.map { echo($0) + "\n" }.joined(), "\(part) echoed the user's lines")
            // Graded without a person: every line and its echo, in order.
            let g = try TestSupport.run(TestSupport.product("analyze"), [dir + "/\(part).pcap", "--expect-echo", input])
            XCTAssertEqual(g.status, 0, g.stdout + g.stderr)
        }
        for f in ["part1.pcap", "part2.pcap", "part3.pcap", "deliver.pcap", "report.html", "report.md", "report.pdf", "results.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        // tshark reads every capture without errors.
        for f in ["part1.pcap", "part2.pcap", "part3.pcap", "deliver.pcap"] {
            let rows = try TestSupport.tsharkFields(dir + "/" + f, ["frame.number", "_ws.malformed"])
            XCTAssertGreaterThan(rows.count, 10, f)
            XCTAssertEqual(try TestSupport.tsharkCount(dir + "/" + f, filter: "_ws.malformed"), 0, f)
        }
        // The delivery proof, checked here: the echo server's output file holds exactly the
        // CSV's lines reversed with their case swapped, in order.
        let csv = try String(contentsOfFile: dir + "/deliver-messages.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("msg_id,"))
        let sample = try TestSupport.run(TestSupport.product("injector"), [TestSupport.sampleCSV, "--write", dir + "/sample-check.pcap",
                                                                           "--format", "json", "--no-inject"])
        let doc = try JSONSerialization.jsonObject(with: sample.stdoutData) as! [String: Any]
        let messages = (doc["packets"] as! [[String: Any]]).filter { ($0["message"] as? [String: Any])?["segment"] as? Int == 1 }
        // Rebuild each message's text from its segments' payloads.
        var texts: [String] = []
        for p in (doc["packets"] as! [[String: Any]]) {
            guard let m = p["message"] as? [String: Any], let payload = p["payload"] as? String else { continue }
            if m["segment"] as? Int == 1 { texts.append(payload) } else { texts[texts.count - 1] += payload }
        }
        XCTAssertEqual(texts.count, messages.count)
        let lines = texts.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let want = lines.map { echo($0) + "\n" }.joined()
        let got = try String(contentsOfFile: dir + "/deliver-out-proj.txt", encoding: .utf8)
        XCTAssertEqual(got, want, "the server's output is the transformed CSV")
        // One clean TCP stream of hand-built packets: no analysis warnings, handshake and close.
        XCTAssertEqual(try TestSupport.tsharkCount(dir + "/deliver.pcap", filter: "tcp.analysis.flags"), 0)
        XCTAssertEqual(try TestSupport.tsharkCount(dir + "/deliver.pcap", filter: "tcp.stream != 0"), 0)
        XCTAssertEqual(try TestSupport.tsharkCount(dir + "/deliver.pcap", filter: "tcp.flags.syn == 1"), 2)
        XCTAssertEqual(try TestSupport.tsharkCount(dir + "/deliver.pcap", filter: "tcp.flags.fin == 1"), 2)
        let expect = try String(contentsOfFile: dir + "/deliver-expect.txt", encoding: .utf8)
        XCTAssertTrue(expect.contains("10 messages: 10 found intact and in order"), expect)
        // Nothing left behind: no namespace (of its own: other labs may run beside it), no process.
        XCTAssertEqual(namespacesNamed(in: r.stdout).count, 2, r.stdout)
        XCTAssertEqual(try existing(namespacesNamed(in: r.stdout)), [])
        // The lab runs its tools through its own executable (netlab echo server, ...).
        let ps = try TestSupport.sh("ps -eo args | grep -E '^\(TestSupport.productsDirectory.path)/netlab (echo|chat|capture) ' || true")
        XCTAssertEqual(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "")
    }

    func testCleanUpAfterFailureInterruptAndCrash() throws {
        try TestSupport.requireRoot("network namespaces")
        let dir = try TestSupport.tempDir()
        // A failure after the namespaces exist: exit 1, and they are gone.
        var r = try TestSupport.run(netlab, ["lab", "--out", dir + "/a/b/out", "--fail-after"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--fail-after"), r.stderr)
        XCTAssertTrue(r.stdout.contains("removed the namespaces"), r.stdout)
        XCTAssertEqual(namespacesNamed(in: r.stdout).count, 2, r.stdout)
        XCTAssertEqual(try existing(namespacesNamed(in: r.stdout)), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a"), "no folder the failed run made is left")

        // Ctrl-C in the middle: the same.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: netlab)
        p.arguments = ["lab", "--out", dir + "/b", "--no-report"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        var seen = ""
        let end = Date().addingTimeInterval(30)
        while !seen.contains("part 2") && Date() < end {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            seen += String(decoding: d, as: UTF8.self)
        }
        XCTAssertTrue(seen.contains("part 2"), seen)
        kill(p.processIdentifier, SIGINT)
        seen += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, seen)
        XCTAssertTrue(seen.contains("interrupted"), seen)
        XCTAssertEqual(try labNamespaces(pid: p.processIdentifier), [], seen)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b"), "an interrupted run leaves no output folder")

        // A crash (SIGKILL) in the middle of part 1, with the capture and the echo server running:
        // those stop with it (they are told when their parent dies), the namespaces stay, and the
        // next run removes them first.
        let q = Process()
        q.executableURL = URL(fileURLWithPath: netlab)
        q.arguments = ["lab", "--out", dir + "/c", "--no-report"]
        let qout = Pipe()
        q.standardOutput = qout
        q.standardError = qout
        try q.run()
        var qseen = ""
        while !qseen.contains("part 1") {
            let d = qout.fileHandleForReading.availableData
            if d.isEmpty { break }
            qseen += String(decoding: d, as: UTF8.self)
        }
        kill(q.processIdentifier, SIGKILL)
        q.waitUntilExit()
        let left = try labNamespaces(pid: q.processIdentifier)
        XCTAssertEqual(left.count, 2, "a killed lab leaves its two namespaces: \(left)")
        var inside = ""
        for _ in 0..<50 {
            inside = try left.map { try TestSupport.sh("ip netns pids \($0)").stdout }.joined()
            if inside.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { break }
            usleep(100_000)
        }
        XCTAssertEqual(inside.trimmingCharacters(in: .whitespacesAndNewlines), "", "no process runs on in them")
        let partFiles = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/c")) ?? []
        XCTAssertFalse(partFiles.contains { $0.contains(".tmp-") }, "the capture finished its file: \(partFiles)")
        r = try TestSupport.run(netlab, ["lab", "--out", dir + "/d", "--fail-after"])
        // Its two, and any another crashed run left (labs of other processes still running are theirs).
        let removed = r.stdout.range(of: #"removed (\d+) namespaces left by an earlier run that crashed"#, options: .regularExpression)
            .map { Int(r.stdout[$0].split(separator: " ")[1]) ?? 0 } ?? 0
        XCTAssertGreaterThanOrEqual(removed, 2, r.stdout)
        XCTAssertEqual(try existing(left + namespacesNamed(in: r.stdout)), [])
    }

    /// Issue 18 item 6: `netlab lab --greeting TEXT --port N --input FILE` is the assignment exactly (tshark
    /// reads the greeting, the port and the lines from the captures), run by name through PATH from a folder
    /// that is not the checkout; and a run that fails leaves nothing: no output folder, no namespace.
    func testAssignmentExactlyFromAnyFolderAndThroughPATH() throws {
        try TestSupport.requireRoot("network namespaces and capture")
        let home = try TestSupport.tempDir()
        let bin = home + "/bin", cwd = home + "/work"
        for d in [bin, cwd] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(atPath: bin + "/netlab", withDestinationPath: netlab)
        let lines = ["Hello, server!", "The Quick Brown Fox", "cs 352 Échec 日本"]
        try lines.map { $0 + "\n" }.joined().write(toFile: cwd + "/in-proj.txt", atomically: true, encoding: .utf8)
        let greeting = "Welcome to CS 352!"
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try TestSupport.run("/usr/bin/env", ["netlab", "lab", "--greeting", greeting, "--port", "23456",
                                                     "--input", "in-proj.txt", "--no-report", "--no-color"],
                                    cwd: cwd, env: ["PATH": path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("OK    part1: the client received the greeting \"\(greeting)\""), r.stdout)
        XCTAssertEqual(try existing(namespacesNamed(in: r.stdout)), [])
        for part in ["part1", "part2"] {
            let pcap = cwd + "/lab-out/\(part).pcap"   // the default folder, in the folder it ran from
            // The server listens on the port asked for: every SYN goes to it.
            let syns = try TestSupport.tsharkFields(pcap, ["tcp.dstport"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
            XCTAssertEqual(syns.map { $0[0] }, ["23456"], part)
            // What each side sent, as tshark's Follow TCP Stream has it: the greeting first, then the
            // transformed lines; the client sent exactly the file's lines.
            let f = try Tshark.follow(pcap, stream: 0)
            XCTAssertFalse(f.node0.hasSuffix(":23456"), "the client spoke first in the stream's bytes: \(f.node0)")
            XCTAssertEqual(String(decoding: f.fromNode0, as: UTF8.self), lines.map { $0 + "\n" }.joined(), part)
            XCTAssertEqual(String(decoding: f.fromNode1, as: UTF8.self),
                           greeting + "\n" + lines.map { echo($0) + "\n" }.joined(), part)
        }

        // Failures leave nothing behind: before the namespaces (a missing input file) and after them.
        let other = home + "/elsewhere"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let missing = try TestSupport.run(netlab, ["lab", "--input", "no-such.txt"], cwd: other)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no-such.txt"), missing.stderr)
        let failed = try TestSupport.run(netlab, ["lab", "--greeting", greeting, "--fail-after"], cwd: other)
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertEqual(namespacesNamed(in: failed.stdout).count, 2, failed.stdout)
        XCTAssertEqual(try existing(namespacesNamed(in: failed.stdout)), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), [], "a failed run leaves no lab-out/")
        // Bad values are refused before anything is made.
        for bad in [["--greeting", "two\nlines"], ["--port", "0"], ["--port", "7000"]] {
            let u = try TestSupport.run(netlab, ["lab"] + bad, cwd: other)
            XCTAssertEqual(u.status, 64, "\(bad): \(u.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), [])
    }

    func testWithoutRootTheLabSaysSo() throws {
        try TestSupport.requireRoot("dropping to user nobody needs root first")
        let setpriv = try TestSupport.requireTool("setpriv")
        let r = try TestSupport.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                              netlab, "lab", "--out", "/tmp/nl-nobody-lab"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("needs root"), r.stderr)
        let d = try TestSupport.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                              netlab, "doctor", "--json"])
        XCTAssertEqual(d.status, 1, "a missing privilege is a failed check")
        let checks = (try JSONSerialization.jsonObject(with: d.stdoutData) as! [String: Any])["checks"] as! [[String: String]]
        let raw = checks.first { $0["topic"] == "raw sockets" }!
        XCTAssertEqual(raw["status"], "FAIL")
        XCTAssertTrue(raw["fix"]!.contains("setcap cap_net_raw,cap_net_admin+ep"), raw["fix"]!)
    }

    func testDoctorAsRoot() throws {
        try TestSupport.requireRoot("the privileged checks")
        let r = try TestSupport.run(netlab, ["doctor", "--json"])
        let checks = (try JSONSerialization.jsonObject(with: r.stdoutData) as! [String: Any])["checks"] as! [[String: String]]
        for topic in ["raw sockets", "capture", "namespaces", "ephemeral ports", "interface lo"] {
            XCTAssertEqual(checks.first { $0["topic"] == topic }?["status"], "OK", topic)
        }
        XCTAssertTrue(checks.first { $0["topic"] == "interface lo" }!["detail"]!.contains("MTU 65536"))
        let range = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        XCTAssertTrue(checks.first { $0["topic"] == "ephemeral ports" }!["detail"]!.contains("\(range[0])-\(range[1])"))
    }

    /// The report, rendered by a real browser: headless Chromium draws it to a PNG without console
    /// errors, and the rendered DOM holds the answers and the pictures.
    func testReportRendersInHeadlessChromium() throws {
        try TestSupport.requireRoot("the captures come from a lab run")
        let chromium = try TestSupport.requireTool("chromium")
        let dir = try TestSupport.tempDir() + "/out"
        let r = try TestSupport.run(netlab, ["lab", "--out", dir])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let html = dir + "/report.html"
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertFalse(page.contains("<script"), "no scripts")
        XCTAssertFalse(page.range(of: "(src|href)=\"https?:", options: .regularExpression) != nil, "nothing fetched")
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=" + dir + "/chromium-profile"]
        let shot = try TestSupport.run(chromium, flags + ["--screenshot=" + dir + "/report.png", "--window-size=1100,2400",
                                                           "file://" + html])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        XCTAssertFalse(shot.stderr.contains("CONSOLE"), "console messages: \(shot.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/report.png"))
        XCTAssertGreaterThan(png.count, 20_000)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4e, 0x47])
        let dom = try TestSupport.run(chromium, flags + ["--dump-dom", "file://" + html])
        XCTAssertEqual(dom.status, 0)
        XCTAssertFalse(dom.stderr.contains("CONSOLE"), dom.stderr)
        for text in ["netlab lab report", "Encapsulation, byte by byte", "IPv4 header (RFC 791), 32 bits per row",
                     "Part 1: echo on one host", "Part 2: echo across two hosts", "Hand-built packets into a real server",
                     "Part 3: the chat server with three clients", "Answer sheet", "server port", "client ephemeral port",
                     "12345 (the side that received the SYN)", "greeting (the server's first payload)", "largest payload",
                     "the matching echo reply", "chat users",
                     "[SYN] Seq=0", "payload bytes sent (cumulative)", "OK</span>"] {
            XCTAssertTrue(dom.stdout.contains(text.replacingOccurrences(of: "\"", with: "&quot;")) || dom.stdout.contains(text),
                          "rendered page lacks '\(text)'")
        }
        XCTAssertFalse(dom.stdout.contains("FAIL</span>"))
        // The answer sheet of the lab's own captures agrees with tshark, traps included: deliver.pcap's
        // client sends "Welcome to netlab chat!", part3's alice sends "Welcome, Carol!".
        for f in ["part1.pcap", "part2.pcap", "deliver.pcap", "part3.pcap"] {
            let convs = try answersOf(dir + "/" + f)
            XCTAssertFalse(convs.isEmpty, f)
            for (k, a) in convs.enumerated() {
                try answersAgreeWithTshark(f, a, stream: k, path: dir + "/" + f, retransmissions: f == "deliver.pcap")
                let g = (a["greeting"] as? [String: Any])?["text"] as? String
                XCTAssertEqual(g, f == "part3.pcap" ? "HELLO netlab-chat 1: register with NICK <name>; HELP lists the commands\n"
                                                    : "Welcome to netlab!\n", f)
            }
        }
        let pdf = try TestSupport.run("/usr/bin/pdftotext", [dir + "/report.pdf", "-"])
        XCTAssertEqual(pdf.status, 0)
        for text in ["Answer sheet", "Part 1: echo on one host", "chat users", "alice: client port"] {
            XCTAssertTrue(pdf.stdout.contains(text), "report.pdf lacks '\(text)'")
        }
        XCTAssertGreaterThanOrEqual(dom.stdout.components(separatedBy: "<svg").count - 1, 15, "the pictures are drawn")
        // The Markdown twin references pictures that exist.
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let refs = md.components(separatedBy: "](report-files/").dropFirst().map { String($0.prefix { $0 != ")" }) }
        XCTAssertGreaterThan(refs.count, 10)
        for f in refs { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report-files/" + f), f) }
    }
}
