// The analyze executable: the JSON carries the issue's names, text by default,
// several files, and errors: usage (64), a missing or non-capture file, a file
// cut short (report kept, packet named, exit 1), --follow of no conversation.
import Foundation
import XCTest

final class AnalyzeCommandTests: XCTestCase {
    var dir: URL!
    var capture: String!

    override func setUpWithError() throws {
        dir = Lab.tempDir("cli")
        capture = dir.appendingPathComponent("chat.pcap").path
        let r = try Lab.run(Lab.product("injector"), ["--handshake", "--write", capture, "--no-inject"], cwd: Lab.repoRoot)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func analyze(_ args: [String]) throws -> Lab.Output { try Lab.run(Lab.product("analyze"), args) }

    func testJSONCarriesTheIssuesNames() throws {
        let r = try analyze(["--json", "--find", "Welcome", capture])
        XCTAssertEqual(r.status, 0, r.stderr)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        for k in ["file", "link_type", "packets", "interfaces", "protocols", "conversations", "largest_payload",
                  "checksums", "matches"] {
            XCTAssertNotNil(j[k], k)
        }
        XCTAssertEqual(j["file"] as? String, capture)
        XCTAssertEqual(j["link_type"] as? String, "RAW")
        XCTAssertEqual(j["protocols"] as? [String], ["tcp"])
        let c = try XCTUnwrap((j["conversations"] as? [[String: Any]])?.first)
        for k in ["id", "protocol", "client", "server", "server_guessed", "packets_c2s", "packets_s2c", "payload_bytes_c2s",
                  "payload_bytes_s2c", "handshake", "end", "retransmissions", "largest_payload"] {
            XCTAssertNotNil(c[k], "conversations[0].\(k)")
        }
        XCTAssertEqual(c["id"] as? Int, 1)
        XCTAssertEqual(c["server"] as? String, "127.0.0.1:12345")
        XCTAssertEqual(c["handshake"] as? Bool, true)
        XCTAssertEqual(c["end"] as? String, "fin")
        let lp = try XCTUnwrap(c["largest_payload"] as? [String: Int])
        XCTAssertNotNil(lp["packet"]); XCTAssertNotNil(lp["bytes"])
        let ck = try XCTUnwrap(j["checksums"] as? [String: Any])
        for layer in ["ipv4", "tcp", "udp"] {
            let v = try XCTUnwrap(ck[layer] as? [String: Int], layer)
            for k in ["good", "bad", "offload", "unverified"] { XCTAssertNotNil(v[k], "\(layer).\(k)") }
        }
        XCTAssertEqual((ck["tcp"] as? [String: Int])?["good"], j["packets"] as? Int, "the injector's checksums are right")
        XCTAssertEqual(ck["bad_packets"] as? [Int], [])
        let m = try XCTUnwrap((j["matches"] as? [[String: Any]])?.first)
        XCTAssertEqual(m["text"] as? String, "Welcome")
        XCTAssertEqual(m["conversation"] as? Int, 1)
        for k in ["packet", "payload_bytes"] { XCTAssertNotNil(m[k] as? Int, k) }
    }

    func testTextReportByDefaultWithoutColourOffATerminal() throws {
        let r = try analyze([capture])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.text.contains("TCP conversations (1)"), r.text)
        XCTAssertTrue(r.text.contains("127.0.0.1:12345"))
        XCTAssertFalse(r.text.contains("\u{1b}["), "no colour when stdout is not a terminal")
    }

    func testUsageErrors() throws {
        XCTAssertEqual(try analyze([]).status, 64)
        XCTAssertEqual(try analyze(["--follow", "0", capture]).status, 64)
        XCTAssertEqual(try analyze(["--find", "", capture]).status, 64)
    }

    func testMissingNotACaptureAndSeveralFiles() throws {
        let missing = dir.appendingPathComponent("missing.pcap").path
        var r = try analyze([missing])
        XCTAssertEqual(r.status, 2, "a capture that cannot be read: 2")
        XCTAssertTrue(r.stderr.hasPrefix("analyze: \(missing): cannot open the capture"), r.stderr)
        let text = dir.appendingPathComponent("notes.txt")
        try "not a capture\n".write(to: text, atomically: true, encoding: .utf8)
        r = try analyze([text.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(text.path): not a pcap or pcapng capture"), r.stderr)
        // Several files: a JSON array, one object per file, the failing one saying why.
        r = try analyze(["--json", capture, missing, capture])
        XCTAssertEqual(r.status, 2)
        let arr = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        XCTAssertEqual(arr.count, 3)
        XCTAssertEqual(arr[1]["file"] as? String, missing)
        XCTAssertNotNil(arr[1]["error"] as? String)
        XCTAssertEqual(arr[2]["packets"] as? Int, arr[0]["packets"] as? Int)
    }

    func testFileCutShortKeepsTheReportAndNamesThePacket() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: capture))
        let total = try XCTUnwrap(try JSONSerialization.jsonObject(with: try analyze(["--json", capture]).stdout)
            as? [String: Any])["packets"] as! Int
        bytes.removeLast(7)
        let cut = dir.appendingPathComponent("cut.pcap").path
        try bytes.write(to: URL(fileURLWithPath: cut))
        let r = try analyze(["--json", cut])
        XCTAssertEqual(r.status, 2, "damaged part-way: the capture could not be read whole")
        XCTAssertTrue(r.stderr.contains("\(cut): packet \(total) at byte offset"), r.stderr)
        XCTAssertTrue(r.stderr.contains("the report covers the \(total - 1) packets before it"), r.stderr)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(j["packets"] as? Int, total - 1)
        XCTAssertTrue((j["read_error"] as? String)?.contains("cut short") ?? false)
    }

    func testFollowOfNoConversation() throws {
        let r = try analyze(["--follow", "9", capture])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--follow 9: no such conversation (the capture has 1)"), r.stderr)
        let ok = try analyze(["--follow", "1", capture])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.text.contains("Welcome to netlab chat!"), ok.text)
    }
}
