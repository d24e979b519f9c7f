// netlab grade on a whole class made of real captures (Tests/grade-class/mkclass.py:
// netlab's echo server and client and plain Python sockets, right and wrong, on
// loopback and across two network namespaces, captured by tcpdump and dumpcap as
// pcap and pcapng on lo and on any), broken files and hostile zips: every verdict
// and every reason equals the truth the class was made with; the gradebook CSV and
// the HTML pages say the same; a reference is compared by meaning; nothing is
// written outside the output the TA asked for and no submission's file runs.
import Foundation
import XCTest

final class GradeClassTests: XCTestCase {
    /// The class, made once for every test here (about two minutes).
    static var made: URL?
    static var madeError: String?

    static func makeClass() throws -> URL {
        if let made { return made }
        if let madeError { throw XCTSkip(madeError) }
        try Lab.requireRoot("making a class of real captures (network namespaces, tcpdump, dumpcap)")
        for tool in ["tcpdump", "dumpcap", "tshark", "ip", "nft"] where Lab.which(tool) == nil {
            XCTFail("\(tool) is not installed; `make deps` installs it")
        }
        let out = Lab.tempDir("gradeclass")
        let r = try Lab.run("/usr/bin/python3", [Lab.repoRoot.appendingPathComponent("Tests/grade-class/mkclass.py").path,
                                                 out.path, "--bin", URL(fileURLWithPath: Lab.product("echoserver"))
                                                    .deletingLastPathComponent().path], timeout: 900)
        guard r.status == 0 else {
            madeError = "mkclass.py failed: \(r.stderr)"
            throw NSError(domain: "GradeClassTests", code: 1, userInfo: [NSLocalizedDescriptionKey: madeError!])
        }
        made = out
        return out
    }

    override class func tearDown() {
        if let made { try? FileManager.default.removeItem(at: made) }
        super.tearDown()
    }

    struct Truth {
        let submission: String
        let verdict: String
        let checks: [String: (result: String, reason: String)]
        let reference: [String: [[String]]]?
        let portSame: [String: [String]]?
    }

    func truth(_ dir: URL) throws -> [Truth] {
        try String(contentsOf: dir.appendingPathComponent("truth.jsonl"), encoding: .utf8).split(separator: "\n").map {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            let checks = try XCTUnwrap(o["checks"] as? [String: [String: String]])
            return Truth(submission: o["submission"] as! String, verdict: o["verdict"] as! String,
                         checks: checks.mapValues { ($0["result"]!, $0["reason"]!) },
                         reference: o["reference"] as? [String: [[String]]],
                         portSame: o["port_same"] as? [String: [String]])
        }
    }

    /// netlab grade's JSON Lines, by submission.
    func grade(_ args: [String], cwd: URL) throws -> (status: Int32, bySubmission: [String: [String: Any]], stderr: String) {
        let r = try Lab.run(Lab.product("netlab"), ["grade"] + args + ["--json"], timeout: 300, cwd: cwd)
        var by: [String: [String: Any]] = [:]
        for line in r.text.split(separator: "\n") {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            by[o["submission"] as! String] = o
        }
        return (r.status, by, r.stderr)
    }

    func checks(of o: [String: Any]) -> [String: [String: Any]] {
        var m: [String: [String: Any]] = [:]
        for c in o["checks"] as? [[String: Any]] ?? [] { m[c["check"] as! String] = c }
        return m
    }

    /// Paths, sizes and times of everything under dir: the class folder must come out as it went in.
    func snapshot(_ dir: URL) -> [String: String] {
        var s: [String: String] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil, options: [])
        while let u = e?.nextObject() as? URL {
            var st = stat()
            if lstat(u.path, &st) == 0 { s[u.path] = "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_mode)" }
        }
        return s
    }

    func testEveryVerdictAndReasonEqualsTheTruthOfARealClass() throws {
        let dir = try Self.makeClass()
        let truth = try self.truth(dir)
        XCTAssertGreaterThanOrEqual(truth.count, 40)
        let cls = dir.appendingPathComponent("class")
        let before = snapshot(cls)
        let work = Lab.tempDir("gradework")
        defer { try? FileManager.default.removeItem(at: work) }
        let g = try grade([cls.path, "--rubric", dir.appendingPathComponent("rubric.txt").path, "--csv", "grades.csv",
                           "--html", "feedback"], cwd: work)
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertEqual(Set(g.bySubmission.keys), Set(truth.map(\.submission)))
        var compared = 0
        for t in truth {
            let got = try XCTUnwrap(g.bySubmission[t.submission], t.submission)
            XCTAssertEqual(got["verdict"] as? String, t.verdict, t.submission)
            let cs = checks(of: got)
            XCTAssertEqual(Set(cs.keys), Set(t.checks.keys), t.submission)
            for (id, want) in t.checks {
                XCTAssertEqual(cs[id]?["result"] as? String, want.result, "\(t.submission) \(id): \(cs[id]?["reason"] ?? "-")")
                XCTAssertEqual(cs[id]?["reason"] as? String, want.reason, "\(t.submission) \(id)")
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 40 * 13)

        // The gradebook: one row per submission, the same verdicts and check results.
        let csv = try String(contentsOf: work.appendingPathComponent("grades.csv"), encoding: .utf8)
            .split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try XCTUnwrap(csv.first)
        XCTAssertEqual(Array(header.prefix(2)), ["submission", "verdict"])
        XCTAssertEqual(Array(header.suffix(2)), ["points", "max_points"])
        XCTAssertEqual(csv.count - 1, truth.count)
        for row in csv.dropFirst() {
            let t = try XCTUnwrap(truth.first { $0.submission == row[0] }, row[0])
            XCTAssertEqual(row[1], t.verdict, row[0])
            for (k, id) in header.enumerated() where t.checks[id] != nil {
                XCTAssertEqual(row[k], t.checks[id]!.result, "\(row[0]) \(id) in the CSV")
            }
        }

        // The HTML: a summary and a page per submission holding its reasons (escaped).
        let index = try String(contentsOf: work.appendingPathComponent("feedback/index.html"), encoding: .utf8)
        let pages = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("feedback").path)
        XCTAssertEqual(pages.count, truth.count + 1)
        for t in truth.prefix(12) {
            XCTAssertTrue(index.contains(">\(t.submission)</a>"), t.submission)
        }
        let b04 = try String(contentsOf: work.appendingPathComponent("feedback/b04-wrong-echo.html"), encoding: .utf8)
        XCTAssertTrue(b04.contains(t(truth, "b04-wrong-echo", "part1.echo").replacingOccurrences(of: "'", with: "&#39;")))
        XCTAssertTrue(b04.contains("<th>question</th>"), "the answer sheet of the student's own capture")

        // Nothing else was written: the class folder is as it was, no file escaped a zip, nothing ran.
        XCTAssertEqual(snapshot(cls), before)
        for p in try String(contentsOf: dir.appendingPathComponent("never-written.txt"), encoding: .utf8).split(separator: "\n") {
            XCTAssertFalse(FileManager.default.fileExists(atPath: String(p)), "\(p) exists")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: work.path)), ["grades.csv", "feedback"])
    }

    func t(_ truth: [Truth], _ sub: String, _ check: String) -> String {
        truth.first { $0.submission == sub }?.checks[check]?.reason ?? "?"
    }

    func testPortSameFromOptionsAndTheReferenceComparedByMeaning() throws {
        let dir = try Self.makeClass()
        let truth = try self.truth(dir)
        let cls = dir.appendingPathComponent("class").path
        let work = Lab.tempDir("gradework2")
        defer { try? FileManager.default.removeItem(at: work) }
        // The same rubric from options alone, with the port "the same in every capture".
        let same = try grade([cls, "--greeting", "Welcome to CS 352!", "--port", "same", "--input",
                              dir.appendingPathComponent("in-proj.txt").path, "--require", "part1,part2",
                              "--output-file", "out-proj.txt", "--files", "server.py,client.py"], cwd: work)
        XCTAssertEqual(same.status, 0, same.stderr)
        for t in truth {
            let cs = checks(of: try XCTUnwrap(same.bySubmission[t.submission]))
            for id in ["part1.port", "part2.port"] {
                let want = t.portSame?[id] ?? [t.checks[id]!.result, t.checks[id]!.reason]
                XCTAssertEqual([cs[id]?["result"] as? String, cs[id]?["reason"] as? String], want.map { Optional($0) },
                               "\(t.submission) \(id) with --port same")
            }
            for (id, want) in t.checks where !id.hasSuffix(".port") {
                XCTAssertEqual(cs[id]?["reason"] as? String, want.reason, "\(t.submission) \(id) from options")
            }
        }
        // The reference: what differs in meaning, per rubric item; the same meaning lists nothing.
        let ref = try grade([cls, "--rubric", dir.appendingPathComponent("rubric.txt").path,
                             "--reference", "part1=" + dir.appendingPathComponent("ref/part1.pcap").path,
                             "--reference", "part2=" + dir.appendingPathComponent("ref/part2.pcap").path], cwd: work)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        var checked = 0
        for t in truth {
            guard let want = t.reference else { continue }
            let caps = try XCTUnwrap(ref.bySubmission[t.submission]?["captures"] as? [[String: Any]])
            for c in caps {
                let part = c["part"] as! String
                let got = (c["reference"] as? [[String: Any]] ?? []).map { [$0["item"] as! String, $0["text"] as! String] }
                XCTAssertEqual(got, want[part] ?? [], "\(t.submission) \(part) vs the reference")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 28)
    }
}
