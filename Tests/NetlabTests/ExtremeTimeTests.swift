// Times anywhere in the int64 nanosecond range (issue 8 item 2): libnetlab's
// nl_time arithmetic against known vectors and glibc's gmtime_r, and the built
// analyze over fuzz/mkextreme.py's captures (if_tsoffset of -9,223,372,037 s,
// interfaces offset -9e9 s and +9e9 s, every if_tsresol) in every output mode:
// exit 0 or 1, never a trap; the times it prints agree with tshark's.
import CNetlab
import Foundation
import XCTest

final class ExtremeTimeTests: XCTestCase {
    func iso(_ ns: Int64, nano: Bool = true) -> String {
        var buf = [CChar](repeating: 0, count: 48)
        XCTAssertGreaterThan(nl_time_iso8601(ns, nano ? 1 : 0, &buf, buf.count), 0)
        return String(cString: buf)
    }

    func testSaturatingDifferenceAndSpan() {
        XCTAssertEqual(nl_time_sub(Int64.max, -1), Int64.max)
        XCTAssertEqual(nl_time_sub(Int64.min, 1), Int64.min)
        XCTAssertEqual(nl_time_sub(Int64.max, Int64.min), Int64.max)
        XCTAssertEqual(nl_time_sub(Int64.min, Int64.max), Int64.min)
        XCTAssertEqual(nl_time_sub(5, 7), -2)
        XCTAssertEqual(nl_time_span_s(Int64.min, Int64.max), 18_446_744_073.709551615, accuracy: 1e-5)
        XCTAssertEqual(nl_time_span_s(-9_000_000_000_000_000_000, 9_000_000_000_000_000_000), 18e9)
        XCTAssertEqual(nl_time_span_s(1_000_000_000_000_000_001, 1_000_000_000_000_000_002), 1e-9)
        XCTAssertEqual(nl_time_span_s(10, 4), -6e-9)
    }

    func testISO8601AtTheEdgesAndAgainstGmtime() {
        XCTAssertEqual(iso(0), "1970-01-01T00:00:00.000000000Z")
        XCTAssertEqual(iso(-1), "1969-12-31T23:59:59.999999999Z")
        XCTAssertEqual(iso(-1, nano: false), "1969-12-31T23:59:59.999999Z")
        XCTAssertEqual(iso(Int64.min), "1677-09-21T00:12:43.145224192Z")
        XCTAssertEqual(iso(Int64.max), "2262-04-11T23:47:16.854775807Z")
        XCTAssertEqual(iso(-9_000_000_000 * 1_000_000_000), "1684-10-19T08:00:00.000000000Z")
        XCTAssertEqual(iso(1_740_823_200_000_300_000, nano: false), "2025-03-01T10:00:00.000300Z")
        // glibc's gmtime_r as the independent oracle, over the whole range.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let ns = Int64.random(in: Int64.min...Int64.max, using: &rng)
            var secs = time_t(ns >= 0 ? ns / 1_000_000_000 : (ns + 1) / 1_000_000_000 - 1)
            let frac = ns - Int64(secs) * 1_000_000_000
            var t = tm()
            gmtime_r(&secs, &t)
            let want = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", t.tm_year + 1900, t.tm_mon + 1,
                              t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, frac)
            XCTAssertEqual(iso(ns), want, "ns \(ns)")
        }
    }

    /// The files and the rest of the extreme corpus through the built tool, every mode.
    func testAnalyzeNeverTrapsOnExtremeTimes() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gen = try TestSupport.run("/usr/bin/python3", [TestSupport.root.appendingPathComponent("fuzz/mkextreme.py").path, dir])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        XCTAssertGreaterThan(files.count, 40)
        XCTAssertTrue(files.contains { $0.hasSuffix("tsoffset-minus-9223372037.pcapng") })
        let modes: [[String]] = [[], ["--json"], ["--follow", "1"], ["--find", "HELLO", "--json"],
                                 ["--max-listed", "1"], ["--expect", TestSupport.sampleCSV],
                                 ["--packets"], ["--packets", "--json"], ["--answers"]]
        for mode in modes {
            // All files in one run (a trap on any ends it); the report of each is printed.
            let r = try TestSupport.run(TestSupport.product("analyze"), mode + files)
            // 0 or 1 (2 where a file is damaged, once analyze gives that its own status): never a signal.
            XCTAssertTrue((0...2).contains(r.status), "analyze \(mode): exit \(r.status)\n\(r.stderr.suffix(2000))")
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
            XCTAssertTrue(r.stdout.contains(files.last!), "analyze \(mode) stopped before the last file")
        }
    }

    /// The report (answer sheet, flow and TCP graphs) of captures whose clock jumps 18e9 s between
    /// interfaces or sits at the ends of the range: written, never a trap.
    func testReportNeverTrapsOnExtremeTimes() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gen = try TestSupport.run("/usr/bin/python3", [TestSupport.root.appendingPathComponent("fuzz/mkextreme.py").path, dir + "/in"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/in").sorted()
            .filter { $0.contains("two-ifaces") || $0.contains("tsoffset") }.map { dir + "/in/" + $0 }
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for (i, file) in files.enumerated() {
            let out = dir + "/report\(i)"
            let r = try TestSupport.run(TestSupport.product("netlab"), ["report", file, "--out", out, "--no-pdf"])
            XCTAssertTrue((0...2).contains(r.status), "report \(file): exit \(r.status)\n\(r.stderr.suffix(2000))")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"), "report \(file): \(r.stderr)")
        }
    }

    /// Interfaces offset -9e9 s and +9e9 s: analyze's first and last times and duration match tshark's.
    func testMixedOffsetTimesAgreeWithTshark() throws {
        let tshark = try TestSupport.requireTool("tshark")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(try TestSupport.run("/usr/bin/python3", [TestSupport.root.appendingPathComponent("fuzz/mkextreme.py").path, dir]).status, 0)
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir)
            .first { $0.hasSuffix("two-ifaces-pm9e9.pcapng") })
        let file = dir + "/" + name
        let epochs = try TestSupport.run(tshark, ["-r", file, "-T", "fields", "-e", "frame.time_epoch"]).stdout
            .split(separator: "\n").compactMap { Double($0) }
        XCTAssertEqual(epochs.count, 4)
        let r = try TestSupport.run(TestSupport.product("analyze"), ["--json", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        XCTAssertEqual(j["first_time"] as? String, "1684-10-19T08:00:00.000000Z")
        XCTAssertEqual(j["last_time"] as? String, "2255-03-14T16:00:00.000001Z")
        XCTAssertEqual(try XCTUnwrap(j["duration"] as? Double), epochs.max()! - epochs.min()!, accuracy: 1e-3)
        XCTAssertEqual(epochs.min()!, -9e9, accuracy: 1e-3)
    }
}
