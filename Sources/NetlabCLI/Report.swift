// netlab report: the lab's findings as one self-contained HTML page (inline CSS
// and SVG, no scripts, nothing fetched) and the same content as Markdown with the
// pictures beside it. Rendering only: each capture is read once by libnetlab
// (nl_report.h: one analysis, its flow graph and answer sheet, which
// conversations are drawn); the output paths are checked by nl_outfile.
import ArgumentParser
import Foundation
import Netlab

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html, report.md and report.pdf: the answer sheet of your captures first (no root needed).",
        discussion: """
        netlab report part1.pcap part2.pcap --input in-proj.txt --out answers   # your own two captures
        netlab report part1.pcap part2.pcap --title "CS 352 Project 1" --author "Ada Lovelace (al123)" \\
            --questions cs352 --out answers.pdf                                  # the hand-in: answers.pdf
        netlab report --in lab-out                                             # the captures of `netlab lab`
        Order: the answers (the questions file's, part 1 and part 2 side by side, when given), the answer sheet, \
        the encapsulation of a real data packet of your capture (header diagrams, both checksums, hex dump), then each \
        capture's conversations: graphs for those with the most bytes and the most loss, a table for the rest. \
        The PDF is printed by headless Chromium (A4).
        """)

    @Argument(help: "Capture files (.pcap or .pcapng); none: the lab folder's captures (--in).")
    var captures: [String] = []

    @Option(name: .customLong("in"), help: "Folder holding the lab's captures (part1.pcap, part2.pcap, ...).")
    var input = "lab-out"

    @Option(name: .customLong("csv"), help: "Messages CSV: its messages mark the packet the report takes apart.")
    var csv: String?

    @Option(name: .customLong("input"), help: "The echo client's input (in-proj.txt): its lines mark the packet the report takes apart.")
    var inputLines: String?

    @Option(name: .customLong("out"), help: "A folder for report.html, report.md, report.pdf (default: the lab folder, or report-out), or a file NAME.pdf (then NAME.html and NAME.md beside it).")
    var out: String?

    @Option(name: .customLong("title"), help: "The title on page 1 (default: netlab lab report).")
    var title: String?

    @Option(name: .customLong("author"), help: "An author on page 1, e.g. \"Ada Lovelace (al123)\" (repeat for each).")
    var authors: [String] = []

    @Option(name: .customLong("questions"), help: "The assignment's questions mapped to answers: a file, or the name of one netlab ships (cs352: samples/cs352-questions.txt; docs/report.md).")
    var questions: String?

    @Option(name: .customLong("pdf-timeout"), help: "Seconds Chromium may take to print the PDF before it is stopped.")
    var pdfTimeout: Double = 120

    @Flag(inversion: .prefixedNo, help: "Print the PDF with headless Chromium.")
    var pdf = true

    func validate() throws {
        for f in captures where !FileManager.default.fileExists(atPath: f) {
            throw ValidationError("\(safeLine(f)): no such capture file")
        }
        if let inputLines, !FileManager.default.fileExists(atPath: inputLines) {
            throw ValidationError("--input \(safeLine(inputLines)): no such file")
        }
        if !(pdfTimeout > 0 && pdfTimeout <= 3600) { throw ValidationError("--pdf-timeout: give seconds between 0 and 3600") }
    }

    /// A questions file: the path given, or for a bare name that is no file here (cs352) the one netlab ships
    /// as samples/NAME-questions.txt.
    static func questionsFile(_ arg: String) throws -> String {
        if FileManager.default.fileExists(atPath: arg) || arg.contains("/") { return arg }
        guard let shipped = try? Front.dataFile("samples/\(arg)-questions.txt") else {
            throw LabError(message: "--questions \(safeLine(arg)): no such file, and netlab ships no questions named \(safeLine(arg)) (cs352 is one)")
        }
        return shipped
    }

    func run() throws {
        do {
            let lab = URL(fileURLWithPath: input).standardizedFileURL
            let qs = try questions.map { try QuestionSheet(path: Self.questionsFile($0)) }
            let target = try ReportOutput(out ?? (captures.isEmpty ? input : "report-out"), pdf: pdf)
            let sample: String? = captures.isEmpty ? try LabFiles.sample() : nil
            var writer = ReportWriter(labDir: lab, output: target, csv: csv ?? sample,
                                      input: inputLines ?? (captures.isEmpty ? existing(lab.appendingPathComponent("in-proj.txt").path) : nil),
                                      captures: captures)
            writer.title = title
            writer.authors = authors
            writer.questions = qs
            writer.pdfTimeout = pdfTimeout
            var files = try writer.write()
            if pdf { files.append(try writer.writePDF()) }
            print("wrote " + files.map { safeLine($0) }.joined(separator: ", "))
        } catch let e as NetlabError {
            FileHandle.standardError.write(Data("netlab report: \(e.message)\n".utf8))
            throw ExitCode.failure
        } catch let e as LabError {
            FileHandle.standardError.write(Data("netlab report: \(e.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    func existing(_ p: String) -> String? { FileManager.default.fileExists(atPath: p) ? p : nil }
}

/// Where the report goes: a folder (report.html, report.md, report.pdf, report-files/) or NAME.pdf with
/// NAME.html, NAME.md and NAME-files/ beside it. Checked before anything is read (nl_report_output_check).
struct ReportOutput {
    let dir: URL
    let stem: String

    init(_ out: String, pdf: Bool) throws {
        let o = try ReportFiles.check(out: out, pdf: pdf)
        dir = URL(fileURLWithPath: o.dir).standardizedFileURL
        stem = o.stem
    }

    /// The lab's folder, as the lab writes it (report.* inside).
    init(folder: URL) {
        dir = folder
        stem = "report"
    }

    func path(_ ext: String) -> String { dir.appendingPathComponent(stem + "." + ext).path }
    var filesName: String { stem + "-files" }
}

struct ReportWriter {
    let labDir: URL
    let output: ReportOutput
    let csv: String?
    let input: String?
    let given: [String]
    var title: String?
    var authors: [String] = []
    var questions: QuestionSheet?
    var pdfTimeout = 120.0

    static let captures: [(file: String, title: String, about: String)] = [
        ("part1.pcap", "Part 1: echo on one host", "The echo server and client on the same host, talking over loopback, captured on the any interface."),
        ("part2.pcap", "Part 2: echo across two hosts", "The echo server on 10.99.0.2 and the client on 10.99.0.1, two network namespaces joined by a veth pair, captured on any in the client's namespace."),
        ("deliver.pcap", "Hand-built packets into a real server", "injector --deliver: a TCP connection made only of packets netlab built with libnet, accepted by the unmodified kernel stack of the echo server's host."),
        ("part3.pcap", "Part 3: the chat server with three clients", "alice, bob and carol on the client host, the chat server on the other, captured on any in the client's namespace."),
        ("bulk.pcap", "Bulk transfer over the impaired link", "lab --impair: 2 MiB (less on a slow link: what its rate carries in 30 s) from the client to ncat on the server over the lossy, rate-limited veth pair (impairment.txt says how), captured on any in the client's namespace."),
    ]

    var html = ""
    var md = ""
    var svgs: [(String, String)] = []

    init(labDir: URL, output: ReportOutput? = nil, csv: String?, input: String? = nil, captures: [String] = []) {
        self.labDir = labDir
        self.output = output ?? ReportOutput(folder: labDir)
        self.csv = csv
        self.input = input
        given = captures
    }

    func path(_ n: String) -> String { labDir.appendingPathComponent(n).path }

    /// The captures of the report: those given (part 1, part 2 when two), else the lab's.
    var reportCaptures: [ReportCapture] {
        if !given.isEmpty {
            return given.enumerated().map { i, f in
                let title = given.count == 2 ? "Part \(i + 1)" : given.count == 1 ? "Capture" : "Capture \(i + 1)"
                return ReportCapture(path: f, title: title, about: "", index: i + 1)
            }
        }
        return Self.captures.filter { FileManager.default.fileExists(atPath: path($0.file)) }.enumerated()
            .map { i, c in ReportCapture(path: path(c.file), title: c.title, about: c.about, index: i + 1) }
    }

    // ---- The one place where text enters the page: every string below is plain text (a capture's
    // bytes, a file name, an option, our own words), escaped here for HTML (SVG.esc) and for
    // Markdown (markdownText, nl_text_markdown). Only the markup these functions add is live.

    private mutating func h(_ s: String) { html += s + "\n" }
    private mutating func m(_ s: String) { md += s + "\n" }

    mutating func heading(_ level: Int, _ text: String, code: String? = nil, cls: String? = nil) {
        let c = cls.map { " class=\"\($0)\"" } ?? ""
        h("<h\(level)\(c)>\(SVG.esc(text))" + (code.map { " <small><code>\(SVG.esc($0))</code></small>" } ?? "") + "</h\(level)>")
        m(String(repeating: "#", count: level) + " " + markdownText(text) + (code.map { " (" + markdownText($0) + ")" } ?? "") + "\n")
    }

    mutating func para(_ text: String, cls: String? = nil) {
        h("<p\(cls.map { " class=\"\($0)\"" } ?? "")>\(SVG.esc(text))</p>")
        m(markdownText(text) + "\n")
    }

    /// A list; each item with an optional bold mark of our own ("OK", "FAIL").
    mutating func bullets(_ items: [(mark: String?, ok: Bool, text: String)]) {
        h("<ul>" + items.map { i in
            "<li>" + (i.mark.map { "<span class=\"\(i.ok ? "ok" : "fail")\">\(SVG.esc($0))</span> " } ?? "") + SVG.esc(i.text) + "</li>"
        }.joined() + "</ul>")
        for i in items { m("- " + (i.mark.map { "**\(markdownText($0))** " } ?? "") + markdownText(i.text)) }
        m("")
    }

    /// An SVG inline in the HTML and as a file beside the Markdown (name: ours, [A-Za-z0-9.-]).
    mutating func picture(_ svg: String, name: String, alt: String) {
        h("<figure>\(svg)<figcaption>\(SVG.esc(alt))</figcaption></figure>")
        svgs.append((name, svg))
        m("![\(markdownText(alt))](\(output.filesName)/\(name))\n")
    }

    /// A table; a cell's lines are kept as lines (<br>).
    mutating func table(_ header: [String], _ rows: [[String]], cls: String? = nil) {
        func lines(_ s: String, _ esc: (String) -> String) -> String {
            s.split(separator: "\n", omittingEmptySubsequences: false).map { esc(String($0)) }.joined(separator: "<br>")
        }
        h("<table\(cls.map { " class=\"\($0)\"" } ?? "")><thead><tr>" + header.map { "<th>\(SVG.esc($0))</th>" }.joined() + "</tr></thead><tbody>")
        for r in rows { h("<tr>" + r.map { "<td>\(lines($0, SVG.esc))</td>" }.joined() + "</tr>") }
        h("</tbody></table>")
        m("| " + header.map { markdownText($0) }.joined(separator: " | ") + " |")
        m("|" + header.map { _ in " --- |" }.joined())
        for r in rows { m("| " + r.map { lines($0, markdownText) }.joined(separator: " | ") + " |") }
        m("")
    }

    /// Preformatted lines (numbers and our words only); htmlLines: the same with our own colour spans.
    mutating func pre(_ lines: [String], htmlLines: [String]? = nil) {
        h("<pre>" + (htmlLines ?? lines.map(SVG.esc)).joined(separator: "\n") + "</pre>")
        // A fence longer than any run of backticks inside, so nothing inside can end it.
        var longest = 0, run = 0
        for c in lines.joined(separator: "\n") { run = c == "`" ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        m(fence + "\n" + lines.joined(separator: "\n") + "\n" + fence + "\n")
    }

    // ---- The report

    mutating func write() throws -> [String] {
        let style = """
            body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK JP","Noto Color Emoji",sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#0f172a}
            h1,h2,h3{line-height:1.2}h2{border-bottom:2px solid #cbd5e1;padding-bottom:.2em;margin-top:2em}
            table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #cbd5e1;padding:.25em .6em;text-align:left;vertical-align:top}
            th{background:#f1f5f9}pre{background:#0f172a;color:#e2e8f0;padding:.8em;overflow-x:auto;font:13px/1.4 ui-monospace,monospace}
            figure{margin:1em 0}figcaption{color:#475569;font-size:13px}svg{max-width:100%;height:auto}
            svg text{font-family:ui-monospace,monospace}svg .t{font-size:13px;font-weight:bold}svg .fn{font-size:10px;fill:#334155}
            svg .fv{font-size:11px;font-weight:bold}svg .bit{font-size:10px;fill:#64748b}svg .lbl{font-size:11px}
            svg .life{stroke:#94a3b8;stroke-width:2}svg .arrow{stroke:#334155;stroke-width:1.4}svg .ctl{stroke:#b91c1c}
            svg .data{stroke:#1d4ed8}svg .axis{stroke:#334155}.ok{color:#15803d;font-weight:bold}.fail{color:#b91c1c;font-weight:bold}
            .ip{color:#93c5fd}.tcp{color:#86efac}.pl{color:#fde68a}td{overflow-wrap:anywhere}
            .authors{font-size:16px;margin-top:-.4em}table.answers td:first-child{white-space:nowrap}
            @page{size:A4;margin:12mm}
            @media print{body{max-width:none;margin:0;padding:0;font-size:11px}h2{break-before:page}h2.first{break-before:auto}
            pre{white-space:pre-wrap;overflow-wrap:anywhere;overflow:visible;font-size:9.5px}table{width:100%}
            tr,figure,pre{break-inside:avoid}h2,h3,h4{break-after:avoid}details{display:block}summary{display:none}}
            """
        let heading1 = title ?? "netlab lab report"
        h("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
        h("<title>\(SVG.esc(heading1))</title><style>\(style)</style></head><body>")
        heading(1, heading1)
        if !authors.isEmpty { para(authors.joined(separator: ", "), cls: "authors") }
        let when = ISO8601DateFormatter().string(from: Date())
        let caps = reportCaptures
        guard !caps.isEmpty else { throw LabError(message: "\(safeLine(labDir.path)): no capture to report on (part1.pcap, ...); give capture files") }
        // Each capture read once (nl_report_capture_open): every view below comes from it.
        let loaded = try caps.map { try LoadedCapture(cap: $0, report: ReportedCapture(path: $0.path, maxRows: Self.graphRows)) }
        let from = given.isEmpty ? labDir.path : caps.map(\.name).joined(separator: ", ")
        para("Written \(when) from \(from). Packet numbers are frame numbers as Wireshark shows them.")
        let sheets = answerSheets(loaded)
        if let questions { questionPage(questions, sheets, loaded) }
        answerSheet(sheets, loaded, first: questions == nil)
        try capturedEncapsulation(loaded)
        if given.isEmpty { checks() }
        for c in loaded { try captureSection(c) }
        h("</body></html>")
        try FileManager.default.createDirectory(at: output.dir, withIntermediateDirectories: true)
        let files = output.dir.appendingPathComponent(output.filesName)
        try? FileManager.default.removeItem(at: files) /* pictures of an earlier report */
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for (name, svg) in svgs {
            try OutputFile.write(svg, to: files.appendingPathComponent(name).path)
        }
        try OutputFile.write(html, to: output.path("html"))
        try OutputFile.write(md, to: output.path("md"))
        return [output.path("html"), output.path("md")]
    }

    /// The lab's own verdicts (results.txt), when the lab wrote them.
    mutating func checks() {
        guard let text = try? String(contentsOfFile: path("results.txt"), encoding: .utf8) else { return }
        heading(2, "What the lab proved")
        bullets(text.split(separator: "\n").map { line in
            let ok = line.hasPrefix("OK")
            return (ok ? "OK" : "FAIL", ok, String(line.dropFirst(ok ? 2 : 4)).trimmingCharacters(in: .whitespaces))
        })
    }

    mutating func hexdump(_ bytes: [UInt8], spans: [Span]) {
        var plain: [String] = []
        var rich: [String] = []
        func cls(_ i: Int) -> String {
            switch spans.first(where: { i >= $0.offset && i < $0.offset + $0.length })?.layer {
            case "IPv4": return "ip"
            case "TCP": return "tcp"
            default: return "pl"
            }
        }
        var i = 0
        while i < bytes.count {
            let end = min(i + 16, bytes.count)
            let hex = (i..<end).map { String(format: "%02x", bytes[$0]) }
            plain.append(String(format: "%04x  ", i) + hex.joined(separator: " "))
            rich.append(String(format: "%04x  ", i) + (i..<end).map { "<span class=\"\(cls($0))\">\(hex[$0 - i])</span>" }.joined(separator: " "))
            i += 16
        }
        let legend = spans.map { "\($0.layer) bytes \($0.offset)-\($0.offset + $0.length - 1)" }.joined(separator: ", ")
        para("Hex dump (\(legend); colours: IPv4 blue, TCP green, payload yellow):")
        pre(plain, htmlLines: rich)
    }

    /// Interface names recorded by the lab for SLL2 interface indexes ("3 nlc12345").
    func interfaceNames() -> [UInt32: String] {
        guard let text = try? String(contentsOfFile: path("interfaces.txt"), encoding: .utf8) else { return [:] }
        var out: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let i = UInt32(parts[0]) { out[i] = String(parts[1]) }
        }
        return out
    }

    /// A capture's section: what it holds, then its conversations: graphs for the ones that matter
    /// (nl_report decides: every one of a few, else the most bytes and the most loss), a table for the rest.
    mutating func captureSection(_ c: LoadedCapture) throws {
        let a = c.report.analysis
        let s = a.summary
        heading(2, c.cap.title, code: c.cap.name)
        if !c.cap.about.isEmpty { para(c.cap.about) }
        var protos: [String] = []
        if s.tcp > 0 { protos.append("TCP (\(s.tcp) packets)") }
        if s.udp > 0 { protos.append("UDP (\(s.udp) packets)") }
        if s.icmp + s.icmpv6 > 0 { protos.append("ICMP (\(s.icmp + s.icmpv6) packets)") }
        let n = c.report.flowCount
        table(["about the capture", ""], [
            ["capture", "\(s.packets) packets, \(s.bytes) bytes, \(linkTypeName(s.linkType)) (\(linkTypeDescription(s.linkType)))"],
            ["protocols", protos.isEmpty ? "none" : protos.joined(separator: ", ")],
            ["TCP conversations", "\(n)"],
            ["checksums", "IPv4 \(s.ckIPv4.good) good, \(s.ckIPv4.bad) bad; TCP \(s.ckTCP.good) good, \(s.ckTCP.bad) bad, \(s.ckTCP.offload) left to offload"],
        ])
        let notes = a.notes
        if !notes.isEmpty { bullets(notes.prefix(50).map { (nil, true, $0.text) }) }
        let drawn = (0..<n).filter { !c.report.drawn($0).isEmpty }
        if n > drawn.count {
            para("\(n) TCP conversations: graphs for the \(drawn.count) that matter most (the \(ReportedCapture.drawBytes) "
                 + "with the most bytes, and the \(ReportedCapture.drawLoss) with the most retransmissions when any lost "
                 + "segments), then a table of the others.")
        }
        for i in drawn {
            let f = c.report.flow(i)
            let why = c.report.drawn(i)
            var reasons: [String] = []
            if why.contains(.mostBytes) { reasons.append("among the most bytes") }
            if why.contains(.mostLoss) { reasons.append("among the most retransmissions") }
            heading(3, "Conversation \(f.conversation): \(f.a) ⇄ \(f.b)" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))"))
            let stem = "c\(c.cap.index)-conv\(f.conversation)"
            picture(SVG.sequenceDiagram(f), name: "\(stem)-flow.svg",
                    alt: "flow graph of conversation \(f.conversation): every segment with its flags and relative numbers")
            picture(SVG.bytesOverTime(f), name: "\(stem)-bytes.svg",
                    alt: "payload bytes over time in each direction, conversation \(f.conversation)")
            try tcpGraphs(c.report, index: i, conv: f, stem: stem)
        }
        let rest = (0..<n).filter { c.report.drawn($0).isEmpty }
        guard !rest.isEmpty else { return }
        heading(3, "The other \(rest.count) conversations")
        let rows: [[String]] = rest.prefix(ReportedCapture.tableCap).compactMap { i in
            let k = c.report.conversationNumber(i)
            guard k > 0 && k <= a.conversationCount else { return nil }
            let cv = a.conversation(at: k - 1)
            return ["\(cv.id)", cv.client, cv.server, "\(cv.packetsC2S) / \(cv.packetsS2C)",
                    "\(cv.bytesC2S) / \(cv.bytesS2C)", "\(cv.retransmissions)", cv.end]
        }
        table(["#", "client", "server", "packets c→s / s→c", "frame bytes c→s / s→c", "resent", "end"], rows)
        if rest.count > ReportedCapture.tableCap {
            para("… and \(rest.count - ReportedCapture.tableCap) more: analyze lists every conversation of \(c.cap.name).")
        }
    }
}

/// One capture of the report, read once.
struct LoadedCapture {
    let cap: ReportCapture
    let report: ReportedCapture
}
