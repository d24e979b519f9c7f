// netlab report as the hand-in (issue 18 item 5): --title, --author (repeatable) and
// --questions samples/cs352-questions.txt make page 1 of answers.pdf the assignment's
// questions by its own numbers, part 1 and part 2 side by side, every answer tshark's;
// Japanese and emoji render (fonts-noto-cjk, fonts-noto-color-emoji: pdffonts embeds
// fonts beyond DejaVu, pdftotext reads the text back); a chat of seven clients is a
// summary of a few pages with the details after. Printed by the real headless Chromium.
import Foundation
import XCTest

final class ReportHandInTests: XCTestCase {
    static let questions = TestSupport.root.appendingPathComponent("samples/cs352-questions.txt").path

    func pdfText(_ pdf: String, first: Int? = nil, last: Int? = nil) throws -> String {
        var args: [String] = []
        if let first { args += ["-f", "\(first)"] }
        if let last { args += ["-l", "\(last)"] }
        let r = try TestSupport.run(try TestSupport.requireTool("pdftotext"), args + [pdf, "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }

    func pages(_ pdf: String) throws -> Int {
        let r = try TestSupport.run(try TestSupport.requireTool("pdfinfo"), [pdf])
        return r.stdout.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last!) } ?? 0
    }

    func testPageOneAnswersTheQuestionsPartOneAndTwoSideBySideInAnyScript() throws {
        _ = try TestSupport.requireTool("chromium")
        let pdffonts = try TestSupport.requireTool("pdffonts")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p1 = dir + "/part1.pcap", p2 = dir + "/part2.pcap"
        let g = try TestSupport.run("/usr/bin/python3", [ReportOneReadTests.mkcaps, "intl", p1, p2])
        XCTAssertEqual(g.status, 0, g.stderr)
        let pdf = dir + "/answers.pdf"
        let r = try TestSupport.run(TestSupport.product("netlab"), [
            "report", p1, p2, "--title", "CS 352 Project 1: answers", "--author", "Ada Lovelace (al123)",
            "--author", "山田 太郎 (ty42)", "--questions", Self.questions, "--out", pdf], env: ["TMPDIR": dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        var isDir: ObjCBool = true
        XCTAssertTrue(FileManager.default.fileExists(atPath: pdf, isDirectory: &isDir) && !isDir.boolValue, "answers.pdf is a file")
        let page1 = try pdfText(pdf, first: 1, last: 1)
        for s in ["CS 352 Project 1: answers", "Ada Lovelace (al123)", "山田 太郎 (ty42)", "Part A", "Part B", "Part C",
                  "Part 1 (part1.pcap)", "Part 2 (part2.pcap)", "What transport-layer protocol", "こんにちは 世界 🎉", "ようこ", "🌏"] {
            XCTAssertTrue(page1.contains(s), "page 1 lacks \(s): \(page1)")
        }
        // Each part's answers as tshark reads the same file, in its own column of the same row.
        func fields(_ f: String, _ filter: String, _ e: [String]) throws -> [String] {
            try TestSupport.tsharkFields(f, e, filter: filter).first ?? []
        }
        let g1 = try fields(p1, "tcp.len > 0", ["frame.number", "tcp.len", "tcp.srcport"])
        let g2 = try fields(p2, "tcp.len > 0", ["frame.number", "tcp.len", "tcp.srcport"])
        XCTAssertTrue(page1.contains("What port does the server listen on? \(g1[2]) \(g2[2])"), page1)
        XCTAssertTrue(page1.contains("packet \(g1[0]), \(g1[1]) bytes of payload"), "part 1 greeting \(g1)")
        XCTAssertEqual(page1.components(separatedBy: "packet \(g2[0]), \(g2[1]) bytes of payload").count - 1, 2,
                       "both parts' greetings side by side")
        // The Japanese and the emoji are drawn with fonts that have them: more than DejaVu is embedded.
        let fonts = try TestSupport.run(pdffonts, [pdf]).stdout.split(separator: "\n").dropFirst(2)
        XCTAssertTrue(fonts.contains { !$0.contains("DejaVu") }, "only DejaVu embedded:\n" + fonts.joined(separator: "\n"))
        let fc = try TestSupport.run("/usr/bin/fc-list", [":lang=ja", "family"]).stdout
        XCTAssertTrue(fc.contains("Noto Sans CJK"), "fonts-noto-cjk: \(fc)")
        let emoji = try TestSupport.run("/usr/bin/fc-list", ["Noto Color Emoji"]).stdout
        XCTAssertFalse(emoji.isEmpty, "fonts-noto-color-emoji")
    }

    func testAQuestionsFileMistakeNamesItsLineBeforeAnythingIsRead() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cap = dir + "/c.pcap"
        XCTAssertEqual(try TestSupport.run("/usr/bin/python3", [ReportOneReadTests.genConvs, "2", cap]).status, 0)
        for (text, said) in [("[Part A]\n1 transport What?\n2 colour Which colour?\n", "q.txt:3: unknown answer \"colour\""),
                             ("1 greeting,nope Both?\n", "q.txt:1: unknown answer \"nope\""),
                             ("[Part A\n", "q.txt:1: a section heading is [TEXT]"),
                             ("7\n", "q.txt:1: \"NUMBER KEY QUESTION\" expected"),
                             ("# only a comment\n", "q.txt: no question in it"),
                             ("1 transport What?\n2 bytes-c2s \u{0}Bytes?\n", "q.txt:2: a NUL byte"),
                             ("1 transport " + String(repeating: "x", count: 988) + "\n2 transport " +
                              String(repeating: "y", count: 989) + "\n", "q.txt:2: a line longer than 1,000 bytes")] {
            try text.write(toFile: dir + "/q.txt", atomically: true, encoding: .utf8)
            let r = try TestSupport.run(TestSupport.product("netlab"), ["report", cap, "--questions", dir + "/q.txt",
                                                                         "--no-pdf", "--out", dir + "/out"])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains(said), "\(text): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/report.md"))
        }
    }

    func testTheShippedQuestionsByNameAndAnUnknownName() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cap = dir + "/c.pcap"
        XCTAssertEqual(try TestSupport.run("/usr/bin/python3", [ReportOneReadTests.genConvs, "2", cap]).status, 0)
        let ok = try TestSupport.run(TestSupport.product("netlab"), ["report", cap, "--questions", "cs352", "--no-pdf",
                                                                      "--out", dir + "/out"], cwd: dir)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("What transport-layer protocol"), "cs352's questions on the page")
        let bad = try TestSupport.run(TestSupport.product("netlab"), ["report", cap, "--questions", "cs999", "--no-pdf",
                                                                       "--out", dir + "/out2"], cwd: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--questions cs999: no such file, and netlab ships no questions named cs999"), bad.stderr)
    }

    func testAChatOfSevenClientsIsASummaryOfAFewPagesThenTheDetails() throws {
        _ = try TestSupport.requireTool("chromium")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cap = dir + "/chat7.pcap"
        let g = try TestSupport.run("/usr/bin/python3", [ReportOneReadTests.mkcaps, "chat7", cap])
        XCTAssertEqual(g.status, 0, g.stderr)
        let r = try TestSupport.run(TestSupport.product("netlab"), ["report", cap, "--out", dir + "/out"], env: ["TMPDIR": dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let pdf = dir + "/out/report.pdf"
        let n = try pages(pdf)
        XCTAssertTrue((3...16).contains(n), "\(n) pages")
        // The summary first: the answer sheet with every user's client port (tshark's) on pages 1-2.
        let summary = try pdfText(pdf, first: 1, last: 2)
        for name in ["alice", "bob", "carol", "dave", "erin", "frank", "grace"] {
            let port = try TestSupport.tsharkFields(cap, ["tcp.dstport"], filter: "tcp.payload contains \"OK NICK \(name)\"")
                .first?.first ?? "?"
            XCTAssertTrue(summary.contains("\(name): client port \(port)"), "\(name) \(port): \(summary)")
        }
        // Then the details: graphs for three conversations (the most bytes) and a table of the other four.
        let text = try pdfText(pdf)
        XCTAssertEqual(text.components(separatedBy: "Time-sequence graph of conversation").count - 1, 3)
        XCTAssertTrue(text.contains("The other 4 conversations"))
    }
}
