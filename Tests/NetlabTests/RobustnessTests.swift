// analyze over hundreds of assorted and malformed captures made by
// fuzz/mkcorpus.py (truncations, bit flips, link types forced onto the same
// bytes, impossible lengths, pcapng oddities, junk): never a crash or a hang,
// exit status 0, 1 or 2, every error line naming its file and, for a file damaged
// part-way, the packet. (fuzz/robust.sh runs the same under ASan/LSan/UBSan.)
import Foundation
import XCTest

final class RobustnessTests: XCTestCase {
    func testHundredsOfMalformedCaptures() throws {
        Lab.requireTools(["python3"])
        let dir = Lab.tempDir("robust")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus")
        let gen = try Lab.run("python3", [Lab.repoRoot.appendingPathComponent("fuzz/mkcorpus.py").path,
                                          Lab.repoRoot.appendingPathComponent("fuzz/corpus/pcap").path, corpus.path, "4242"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted().map { corpus.appendingPathComponent($0).path }
        XCTAssertGreaterThan(files.count, 500)
        let csv = Lab.repoRoot.appendingPathComponent("samples/group01_chat_input.csv").path
        for mode in [["--json"], []] {
            let r = try Lab.run(Lab.product("analyze"), mode + ["--find", "Welcome", "--follow", "1", "--expect", csv] + files,
                                timeout: 300)
            XCTAssertFalse(r.signaled, "analyze died on a signal: \(r.stderr.suffix(2000))")
            XCTAssertTrue([0, 1, 2].contains(r.status), "exit \(r.status)")
            for line in r.stderr.split(separator: "\n") {
                XCTAssertTrue(line.hasPrefix("analyze: \(corpus.path)/"), "an error that names no file: \(line)")
                if line.contains("cut short") || line.contains("record claims") {
                    XCTAssertTrue(line.contains(": packet "), "a damaged file's error names the packet: \(line)")
                }
            }
            if mode == ["--json"] {
                let arr = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
                XCTAssertEqual(arr.count, files.count)
                XCTAssertEqual(arr.map { $0["file"] as? String ?? "" }, files)
            }
        }
        // The answer sheet (nl_answers.c, its own two passes and packet copies) over the same files.
        let r = try Lab.run(Lab.product("analyze"), ["--answers", "--json"] + files, timeout: 300)
        XCTAssertFalse(r.signaled, "analyze --answers died on a signal: \(r.stderr.suffix(2000))")
        XCTAssertTrue([0, 2].contains(r.status), "exit \(r.status)")
        let arr = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        XCTAssertEqual(arr.map { $0["file"] as? String ?? "" }, files)
    }
}
