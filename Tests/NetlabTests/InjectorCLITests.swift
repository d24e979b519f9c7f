// The injector executable as a user meets it: the no-argument default, --explain
// text, --format json, colour rules, exit codes and one-line errors that leave no
// output behind, and the unprivileged path (run as nobody through setpriv).
import Foundation
import XCTest

final class InjectorCLITests: XCTestCase {
    var injector: String { TestSupport.product("injector") }

    func testNoArgumentsDoesTheUsefulDefault() throws {
        let dir = try TestSupport.tempDir()
        let r = try TestSupport.run(injector, [], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("10 messages -> 11 packets in 1 TCP connection"), r.stdout)
        XCTAssertTrue(r.stdout.contains("wrote injector.pcap: 11 packets"), r.stdout)
        XCTAssertTrue(r.stdout.contains("checksums: libnet and netlab agree on all 22"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/injector.pcap"))
        if TestSupport.isRoot {
            XCTAssertTrue(r.stdout.contains("injected 11 packets toward 127.0.0.1"), r.stdout)
        } else {
            XCTAssertTrue(r.stdout.contains("did not inject"), r.stdout)
        }
        // The compact table names each message; no escape codes when stdout is not a terminal.
        XCTAssertTrue(r.stdout.contains("\"Hello, world\""))
        XCTAssertFalse(r.stdout.contains("\u{1b}["))
    }

    func testExplainShowsFieldsChecksumStepsAndHexDump() throws {
        let dir = try TestSupport.tempDir()
        let r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--write", dir + "/e.pcap", "--explain"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for needle in ["IPv4 header (20 bytes)", "TCP header (20 bytes)", "Total Length", "Header Checksum",
                       "IPv4 header checksum (RFC 791", "TCP checksum (RFC 9293 3.1", "pseudo-header", "fold carry",
                       "complement", "libnet and netlab agree", "Hex dump", "IPv4 0-19", "TCP 20-39", "Payload 40-",
                       "segment 1 of 2", "segment 2 of 2", "0000  45 00"] {
            XCTAssertTrue(r.stdout.contains(needle), "missing '\(needle)'")
        }
        // Ten messages, eleven data packets, each explained once.
        XCTAssertEqual(r.stdout.components(separatedBy: "== Packet ").count - 1, 11)
    }

    func testJSONCarriesTheSameContent() throws {
        let dir = try TestSupport.tempDir()
        let r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--write", dir + "/j.pcap", "--explain",
                                               "--format", "json", "--handshake"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try JSONSerialization.jsonObject(with: r.stdoutData) as! [String: Any]
        XCTAssertEqual(doc["messages"] as? Int, 10)
        XCTAssertEqual(doc["checksums_agree"] as? Bool, true)
        let packets = doc["packets"] as! [[String: Any]]
        XCTAssertEqual(packets.count, 27)
        XCTAssertEqual(packets.first?["kind"] as? String, "SYN")
        let data = packets.filter { $0["kind"] as? String == "data" }
        XCTAssertEqual(data.count, 11)
        let first = data[0]
        XCTAssertEqual((first["message"] as! [String: Any])["msg_id"] as? String, "1")
        XCTAssertEqual(first["payload"] as? String, "Welcome to netlab chat!")
        let layers = first["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.map { $0["name"] as! String }, ["IPv4", "TCP", "Payload"])
        let steps = first["checksum_steps"] as! [String: [String: Any]]
        XCTAssertEqual((steps["tcp"]!["pseudo_header"] as! [String]).count, 6)
        XCTAssertEqual(steps["tcp"]!["correct"] as? Bool, true)
        XCTAssertEqual((first["hex"] as! String).count, 2 * (first["length"] as! Int))
        XCTAssertEqual((doc["pcap"] as! [String: Any])["packets"] as? Int, 27)
        let convs = doc["conversations"] as! [[String: Any]]
        XCTAssertEqual(convs.first?["server"] as? String, "127.0.0.1:12345")
    }

    func testColourOnlyOnATerminalAndNeverWithNO_COLOR() throws {
        let script = try TestSupport.requireTool("script")
        let dir = try TestSupport.tempDir()
        let cmd = "\(injector) \(TestSupport.sampleCSV) --write \(dir)/c.pcap"
        // (the test runner itself may export NO_COLOR: clear it for the terminal case)
        let tty = try TestSupport.run(script, ["-qec", "env -u NO_COLOR " + cmd, "/dev/null"])
        XCTAssertTrue(tty.stdout.contains("\u{1b}["), "a terminal gets colour")
        let noColor = try TestSupport.run(script, ["-qec", "NO_COLOR=1 " + cmd, "/dev/null"])
        XCTAssertFalse(noColor.stdout.contains("\u{1b}["), "NO_COLOR turns it off")
        let flag = try TestSupport.run(script, ["-qec", cmd + " --no-color", "/dev/null"])
        XCTAssertFalse(flag.stdout.contains("\u{1b}["), "--no-color turns it off")
    }

    func testBadInputGivesOneLineNonZeroExitAndNoOutput() throws {
        let dir = try TestSupport.tempDir()
        let bad = dir + "/bad.csv"
        try "msg_id,app_protocol,src_app,dst_app,message,timestamp\n1,CHAT,a,b,\"open\n".write(toFile: bad, atomically: true, encoding: .utf8)
        var r = try TestSupport.run(injector, [bad, "--write", dir + "/o.pcap"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("injector: \(bad):2:"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.pcap"))

        // Usage errors exit 64 (EX_USAGE) and name the option.
        for (args, needle) in [(["--src-ip", "1.2.3"], "1.2.3"), (["--dst-port", "99999"], "99999"),
                               (["--mss", "0"], "--mss"), (["--port-map", "HTTP"], "HTTP"),
                               (["--capture", "x.pcap", "--no-inject"], "--no-inject")] {
            r = try TestSupport.run(injector, args + ["--write", dir + "/u.pcap"], cwd: dir)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/u.pcap"))

        r = try TestSupport.run(injector, [TestSupport.sampleCSV, "--write", dir + "/no/such/dir.pcap"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no/such/dir.pcap"), r.stderr)
        r = try TestSupport.run(injector, [dir + "/missing.csv", "--write", dir + "/m.pcap"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("missing.csv: cannot open the CSV"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["bad.csv"], "nothing half-done")
    }

    /// Without CAP_NET_RAW (as user nobody): --inject fails with one line naming what is missing and
    /// --write as the way out, writing nothing; the default still writes the pcap and says it did not inject.
    func testWithoutPrivilege() throws {
        try TestSupport.requireRoot("dropping to user nobody needs root first")
        let setpriv = try TestSupport.requireTool("setpriv")
        let dir = try TestSupport.tempDir()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir)
        let drop = ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
        var r = try TestSupport.run(setpriv, drop + [injector, TestSupport.sampleCSV, "--inject", "--write", dir + "/x.pcap"],
                                    cwd: dir)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("CAP_NET_RAW") && r.stderr.contains("--write"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.pcap"), "nothing half-done")

        // A folder nobody may write to: the error names the path, and nothing is left.
        let locked = try TestSupport.tempDir()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked)
        r = try TestSupport.run(setpriv, drop + [injector, TestSupport.sampleCSV, "--write", locked + "/x.pcap"], cwd: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains(locked + "/x.pcap") && r.stderr.contains("Permission denied"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: locked), [])

        r = try TestSupport.run(setpriv, drop + [injector], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("wrote injector.pcap"), r.stdout)
        XCTAssertTrue(r.stdout.contains("did not inject: raw IPv4 injection needs CAP_NET_RAW"), r.stdout)
    }

    /// A CSV of one message of `bytes` bytes (issue 8 item 9).
    func bigMessageCSV(_ dir: String, bytes: Int) throws -> String {
        let path = dir + "/big.csv"
        var csv = Array("msg_id,app_protocol,src_app,dst_app,message,timestamp\n1,CHAT,client,server,".utf8)
        csv += [UInt8](repeating: UInt8(ascii: "a"), count: bytes)
        csv += Array(",2025-03-01T10:00:00.000Z\n".utf8)
        try Data(csv).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Ctrl-C while the report of a large message is being produced and printed: the
    /// injector stops promptly with status 130 (it used to finish, 25 s later, with 0).
    /// Standard output is a pipe nobody reads, so the report cannot be printed to the end.
    func testCtrlCWhilePrintingALargeReportExits130() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = try bigMessageCSV(dir, bytes: 4 << 20)
        for args in [["--explain"], []] {
            let pcap = dir + "/big.pcap"
            try? FileManager.default.removeItem(atPath: pcap)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: injector)
            p.arguments = args + ["--no-inject", "--write", pcap, csv]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out // never read: printing blocks once the pipe is full
            p.standardError = err
            try p.run()
            // The pcap is written before the report: once it is there, the report is under way.
            var waited = 0
            while !FileManager.default.fileExists(atPath: pcap) && waited < 600 {
                usleep(50_000)
                waited += 1
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: pcap), "the pcap never appeared")
            usleep(300_000)
            kill(p.processIdentifier, SIGINT)
            // Promptly: well under the 25 s the old code kept going (a deadline, not a timing).
            let deadline = Date().addingTimeInterval(15)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                XCTFail("injector \(args) kept running 15 s after SIGINT")
                continue
            }
            XCTAssertEqual(p.terminationReason, .exit)
            XCTAssertEqual(p.terminationStatus, 130, "injector \(args)")
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(e.contains("injector: interrupted"), e)
        }
    }
}
