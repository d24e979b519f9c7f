// netlab report reads each capture once (issue 23; issue 20 item 7), counted with strace:
// one openat of the file, whatever the number of conversations; the conversations that
// matter (most bytes, most loss) are drawn, the rest listed in a table, and the drawn
// retransmissions are tshark's. Everything from outside (payloads, an interface name, a
// file name with a newline, the title and authors) is inert in report.md (issue 20 item 6),
// checked by rendering it with cmark-gfm, GitHub's Markdown.
import Foundation
import XCTest

final class ReportOneReadTests: XCTestCase {
    static let mkcaps = TestSupport.root.appendingPathComponent("Tests/report/mkcaps.py").path
    static let genConvs = TestSupport.root.appendingPathComponent("bench/gen_convs.py").path

    func testEachCaptureIsOpenedOnceAndTheConversationsThatMatterAreDrawn() throws {
        let strace = try TestSupport.requireTool("strace")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cap = dir + "/convs.pcap"
        // 120 conversations: the 100th a bulk transfer with a lost and resent segment (bench/gen_convs.py).
        let g = try TestSupport.run("/usr/bin/python3", [Self.genConvs, "120", cap])
        XCTAssertEqual(g.status, 0, g.stderr)
        let log = dir + "/strace.txt", out = dir + "/out"
        let r = try TestSupport.run(strace, ["-f", "-e", "trace=openat,open", "-o", log, TestSupport.product("netlab"),
                                             "report", cap, "--no-pdf", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let opens = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"\(cap)\"") && !$0.contains("ENOENT") }
        XCTAssertEqual(opens.count, 1, "the capture is opened once:\n" + opens.joined(separator: "\n"))

        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let drawn = md.split(separator: "\n").filter { $0.hasPrefix("### Conversation ") }
        XCTAssertEqual(drawn.count, 3, "the 3 with the most bytes (the lossy one among them):\n" + drawn.joined(separator: "\n"))
        XCTAssertTrue(drawn.contains { $0.hasPrefix("### Conversation 100:") && $0.contains("most retransmissions") },
                      drawn.joined(separator: "\n"))
        // The table lists the other 117, one row each.
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("10.0.0.1:7 |") }
        XCTAssertEqual(rows.count, 117)
        // The red bars of conversation 100 are the frames tshark marks retransmissions.
        let resent = try TestSupport.tsharkCount(cap, filter: "tcp.analysis.retransmission && tcp.stream == 99")
        XCTAssertGreaterThan(resent, 0)
        XCTAssertTrue(md.contains("Time-sequence graph of conversation 100, one panel per direction")
                      && md.contains("Red bars are retransmissions (\(resent) here)"), "tshark: \(resent) retransmissions")
        let svgs = try FileManager.default.contentsOfDirectory(atPath: out + "/report-files").filter { $0.hasSuffix("-tseq.svg") }
        XCTAssertEqual(svgs.count, 3, svgs.description)
    }

    func testEverythingFromOutsideIsInertInReportMarkdown() throws {
        let cmark = try TestSupport.requireTool("cmark-gfm")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A file name with a newline and a heading, markup in the payloads and in the pcapng interface name.
        let cap = dir + "/evil\n# heading <img src=x onerror=alert(4)>.pcapng"
        let g = try TestSupport.run("/usr/bin/python3", [Self.mkcaps, "evil", cap])
        XCTAssertEqual(g.status, 0, g.stderr)
        let out = dir + "/out"
        let r = try TestSupport.run(TestSupport.product("netlab"), [
            "report", cap, "--no-pdf", "--out", out, "--title", "<script>alert(5)</script> [t](javascript:alert(6))",
            "--author", "![](http://remote/author.png) (ab12)", "--author", "<iframe src=javascript:alert(7)>"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        // The texts are there, as text.
        XCTAssertTrue(md.contains("javascript:alert(1)"), "the request is shown")
        XCTAssertTrue(md.contains("evil"))
        let html = try TestSupport.run(cmark, ["--extension", "table", "--extension", "autolink", "--unsafe", out + "/report.md"])
        XCTAssertEqual(html.status, 0, html.stderr)
        let page = html.stdout
        for live in ["<script", "<iframe", "href=\"javascript", "<a href=\"http", "src=\"http://remote", "<img src=x",
                     "<h1>heading", "<h1># heading"] {
            XCTAssertFalse(page.contains(live), "rendered report.md has live markup: \(live)")
        }
        // Every image is one of the report's own pictures; exactly one top heading (the title).
        let imgs = page.components(separatedBy: "<img src=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertFalse(imgs.isEmpty)
        for i in imgs { XCTAssertTrue(i.hasPrefix("report-files/") && i.hasSuffix(".svg"), "image \(i)") }
        XCTAssertEqual(page.components(separatedBy: "<h1>").count - 1, 1)
        XCTAssertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the greeting, as text")
        XCTAssertTrue(page.contains("&lt;iframe src=javascript:alert(3)&gt;"), "the interface name, as text")
        XCTAssertTrue(page.contains("[x](javascript:alert(1)) ![](http://remote/img)"), "the request, as text")
        XCTAssertTrue(page.contains("evil\\n# heading"), "the file name on one line, its newline shown")
        XCTAssertTrue(page.contains("&lt;img src=http://remote/nick.png&gt;[n](javascript:alert(8)): client port 40001"),
                      "the chat user's name, as text")
    }
}
