// The experiments library (experiments/*.pkt, issue 22 item 5) under `netlab prove` on this
// kernel: every script holds, and a copy of each with one expected field changed fails at that
// line naming that field. The oracle is packetdrill: every script and every mutation listed in
// Tests/Fixtures/prove/experiment-mutations.tsv was first run under google/packetdrill, built
// from source, on the CI kernel (packetdrill passes the scripts and fails each mutant at the
// same line; tools/prove-agreement.sh repeats that check where packetdrill is at hand).
import Foundation
import XCTest

final class ProveExperimentsTests: XCTestCase {
    static let experiments = TestSupport.root.appendingPathComponent("experiments")

    /// The fifteen topics issue 22 asks for, and TCP Fast Open, each a script with a page.
    static let topics = [
        "three-way-handshake", "rst-closed-port", "syn-backoff", "rto-doubling", "fast-retransmit",
        "sack-recovery", "delayed-ack", "nagle-nodelay", "zero-window-probe", "window-scaling",
        "mss-segmentation", "half-close", "fin-time-wait", "simultaneous-close", "keepalive", "fast-open",
    ]

    struct Mutation {
        let script: String
        let line: Int
        let field: String
        let expected: String
        let mutated: String
    }

    static func mutations() throws -> [Mutation] {
        let path = TestSupport.root.appendingPathComponent("Tests/Fixtures/prove/experiment-mutations.tsv").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { row in
            let c = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard c.count == 5, let line = Int(c[1]) else {
                throw NSError(domain: "ProveExperimentsTests", code: 1,
                              userInfo: [NSLocalizedDescriptionKey: "bad row in \(path): \(row)"])
            }
            return Mutation(script: c[0], line: line, field: c[2], expected: c[3], mutated: c[4])
        }
    }

    /// No root needed: every topic has its script and page, the index links every page, and the
    /// mutation table covers every script with a line that really holds the text it changes.
    func testLibraryIsComplete() throws {
        let fm = FileManager.default
        let pkts = try fm.contentsOfDirectory(atPath: Self.experiments.path).filter { $0.hasSuffix(".pkt") }
        XCTAssertGreaterThanOrEqual(pkts.count, 15)
        let index = try String(contentsOf: Self.experiments.appendingPathComponent("README.md"), encoding: .utf8)
        for t in Self.topics {
            XCTAssertTrue(pkts.contains(t + ".pkt"), "experiments/\(t).pkt is missing")
            let page = Self.experiments.appendingPathComponent(t + ".md").path
            XCTAssertTrue(fm.fileExists(atPath: page), "experiments/\(t).md is missing")
            XCTAssertTrue(index.contains("(\(t).md)"), "experiments/README.md does not link \(t).md")
        }
        let muts = try Self.mutations()
        for p in pkts {
            XCTAssertEqual(muts.filter { $0.script == p }.count, 1, "\(p): one mutation expected in the table")
        }
        for m in muts {
            let lines = try String(contentsOf: Self.experiments.appendingPathComponent(m.script), encoding: .utf8)
                .components(separatedBy: "\n")
            XCTAssertGreaterThanOrEqual(lines.count, m.line, m.script)
            if lines.count >= m.line {
                XCTAssertTrue(lines[m.line - 1].contains(m.expected),
                              "\(m.script):\(m.line) no longer holds \(m.expected): \(lines[m.line - 1])")
            }
        }
    }

    /// `netlab prove experiments/` runs every script of the folder, and every one holds.
    func testEveryExperimentHolds() throws {
        try TestSupport.requireRoot("netlab prove makes network namespaces and a tun device")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try TestSupport.run(TestSupport.product("netlab"), ["prove", "--out", dir + "/runs", "experiments/"],
                                    cwd: TestSupport.root.path)
        let all = r.stdout + r.stderr
        XCTAssertEqual(r.status, 0, all)
        for t in Self.topics {
            XCTAssertTrue(all.contains("experiments/\(t).pkt"), "\(t) was not run:\n\(all)")
        }
        XCTAssertFalse(all.contains("FAILED"), all)
    }

    /// Shell lines get packetdrill's environment: PACKETDRILL_PID is the shell's $PPID, so the
    /// scripts that save sysctls to /tmp/sysctl_restore_$PACKETDRILL_PID.sh and run
    /// `/tmp/sysctl_restore_${PPID}.sh` at the end (google/packetdrill's gtests) find their file.
    func testShellLinesSeePacketdrillPid() throws {
        try TestSupport.requireRoot("netlab prove makes network namespaces and a tun device")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        `test -n "$PACKETDRILL_PID" && test "$PACKETDRILL_PID" = "$PPID"`
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        """
        try script.write(toFile: dir + "/pid.pkt", atomically: true, encoding: .utf8)
        let r = try TestSupport.run(TestSupport.product("netlab"), ["prove", "--out", dir + "/runs", "pid.pkt"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    /// A copy of each script with one expected field changed fails (exit 1) at that line, and the
    /// verdict names the field: the row of the field table marked as differing, or, for a timing
    /// change, the time the segment came against the window the line allowed.
    func testEachMutatedExperimentFailsAtItsLineNamingTheField() throws {
        try TestSupport.requireRoot("netlab prove makes network namespaces and a tun device")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for m in try Self.mutations() {
            var lines = try String(contentsOf: Self.experiments.appendingPathComponent(m.script), encoding: .utf8)
                .components(separatedBy: "\n")
            XCTAssertTrue(lines[m.line - 1].contains(m.expected), "\(m.script):\(m.line)")
            lines[m.line - 1] = lines[m.line - 1].replacingOccurrences(of: m.expected, with: m.mutated)
            let copy = dir + "/" + m.script
            try lines.joined(separator: "\n").write(toFile: copy, atomically: true, encoding: .utf8)

            let r = try TestSupport.run(TestSupport.product("netlab"), ["prove", "--out", dir + "/runs", copy], cwd: dir)
            let all = r.stdout + r.stderr
            XCTAssertEqual(r.status, 1, "\(m.script) with \(m.mutated) should fail:\n\(all)")
            guard let at = all.range(of: "\nFAILED ") else {
                XCTFail("\(m.script): no FAILED verdict:\n\(all)")
                continue
            }
            let verdict = String(all[at.lowerBound...])
            XCTAssertTrue(verdict.contains("\(m.script):\(m.line):"),
                          "\(m.script): the verdict should name line \(m.line):\n\(verdict)")
            if m.field == "time" {
                XCTAssertTrue(verdict.contains("  time") && verdict.contains("it came at"),
                              "\(m.script): the verdict should name the time:\n\(verdict)")
            } else {
                let marked = verdict.components(separatedBy: "\n").filter { $0.contains("<-- differs") }
                XCTAssertTrue(marked.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(m.field)
                        || $0.contains(" \(m.field) ") },
                              "\(m.script): the row of \(m.field) should be marked as differing:\n\(verdict)")
            }
        }
    }
}
