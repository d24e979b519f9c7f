// netlab report: the lab's findings as one self-contained HTML page (inline CSS
// and SVG, no scripts, nothing fetched) and the same content as Markdown with the
// pictures beside it. Rendering only: packets, explanations and analyses come
// from libnetlab (Plan, Explanation, Analysis, FlowGraph).
import ArgumentParser
import Foundation
import Netlab

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html, report.md and report.pdf: the answer sheet of your captures first (no root needed).",
        discussion: """
        netlab report part1.pcap part2.pcap --input in-proj.txt --out answers   # your own two captures
        netlab report --in lab-out                                             # the captures of `netlab lab`
        Order: the answer sheet (one table per capture; part 1 / part 2 when given two), the encapsulation of a real \
        data packet of your capture (header diagrams, both checksums, hex dump), then each capture's flow graphs. \
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

    @Option(name: .customLong("out"), help: "Folder for report.html, report.md, report.pdf (default: the lab folder, or report-out).")
    var out: String?

    @Flag(inversion: .prefixedNo, help: "Print report.pdf with headless Chromium.")
    var pdf = true

    func validate() throws {
        for f in captures where !FileManager.default.fileExists(atPath: f) {
            throw ValidationError("\(f): no such capture file")
        }
        if let inputLines, !FileManager.default.fileExists(atPath: inputLines) {
            throw ValidationError("--input \(inputLines): no such file")
        }
    }

    func run() throws {
        do {
            let lab = URL(fileURLWithPath: input).standardizedFileURL
            let outDir = URL(fileURLWithPath: out ?? (captures.isEmpty ? input : "report-out")).standardizedFileURL
            let sample: String? = captures.isEmpty ? try LabFiles.sample() : nil
            var writer = ReportWriter(labDir: lab, outDir: outDir, csv: csv ?? sample,
                                      input: inputLines ?? (captures.isEmpty ? existing(lab.appendingPathComponent("in-proj.txt").path) : nil),
                                      captures: captures)
            var files = try writer.write()
            if pdf { files.append(try writer.writePDF()) }
            print("wrote " + files.joined(separator: ", "))
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

struct ReportWriter {
    let labDir: URL
    let outDir: URL
    let csv: String?
    let input: String?
    let given: [String]

    static let captures: [(file: String, title: String, about: String)] = [
        ("part1.pcap", "Part 1: echo on one host", "The echo server and client on the same host, talking over loopback, captured on the any interface."),
        ("part2.pcap", "Part 2: echo across two hosts", "The echo server on 10.99.0.2 and the client on 10.99.0.1, two network namespaces joined by a veth pair, captured on any in the client's namespace."),
        ("deliver.pcap", "Hand-built packets into a real server", "`injector --deliver`: a TCP connection made only of packets netlab built with libnet, accepted by the unmodified kernel stack of the echo server's host."),
        ("part3.pcap", "Part 3: the chat server with three clients", "alice, bob and carol on the client host, the chat server on the other, captured on any in the client's namespace."),
        ("bulk.pcap", "Bulk transfer over the impaired link", "lab --impair: 2 MiB (less on a slow link: what its rate carries in 30 s) from the client to ncat on the server over the lossy, rate-limited veth pair (impairment.txt says how), captured on any in the client's namespace."),
    ]

    var html = ""
    var md = ""
    var svgs: [(String, String)] = []

    init(labDir: URL, outDir: URL? = nil, csv: String?, input: String? = nil, captures: [String] = []) {
        self.labDir = labDir
        self.outDir = outDir ?? labDir
        self.csv = csv
        self.input = input
        given = captures
    }

    func path(_ n: String) -> String { labDir.appendingPathComponent(n).path }
    func outPath(_ n: String) -> String { outDir.appendingPathComponent(n).path }

    /// The captures of the report: those given (part 1, part 2 when two), else the lab's.
    var reportCaptures: [ReportCapture] {
        if !given.isEmpty {
            return given.enumerated().map { i, f in
                let title = given.count == 2 ? "Part \(i + 1)" : given.count == 1 ? "Capture" : "Capture \(i + 1)"
                return ReportCapture(path: f, title: title, about: "")
            }
        }
        return Self.captures.filter { FileManager.default.fileExists(atPath: path($0.file)) }
            .map { ReportCapture(path: path($0.file), title: $0.title, about: $0.about) }
    }

    mutating func h(_ s: String) { html += s + "\n" }
    mutating func m(_ s: String) { md += s + "\n" }

    /// An SVG inline in the HTML and as a file beside the Markdown.
    mutating func picture(_ svg: String, name: String, alt: String) {
        h("<figure>\(svg)<figcaption>\(SVG.esc(alt))</figcaption></figure>")
        svgs.append((name, svg))
        m("![\(alt)](report-files/\(name))\n")
    }

    mutating func table(_ header: [String], _ rows: [[String]]) {
        h("<table><thead><tr>" + header.map { "<th>\(SVG.esc($0))</th>" }.joined() + "</tr></thead><tbody>")
        for r in rows { h("<tr>" + r.map { "<td>\(SVG.esc($0).replacingOccurrences(of: "\n", with: "<br>"))</td>" }.joined() + "</tr>") }
        h("</tbody></table>")
        m("| " + header.joined(separator: " | ") + " |")
        m("|" + header.map { _ in " --- |" }.joined())
        for r in rows {
            m("| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: "<br>") }
                .joined(separator: " | ") + " |")
        }
        m("")
    }

    mutating func pre(_ lines: [String], htmlLines: [String]? = nil) {
        h("<pre>" + (htmlLines ?? lines.map(SVG.esc)).joined(separator: "\n") + "</pre>")
        m("```\n" + lines.joined(separator: "\n") + "\n```\n")
    }

    mutating func write() throws -> [String] {
        let style = """
            body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#0f172a}
            h1,h2,h3{line-height:1.2}h2{border-bottom:2px solid #cbd5e1;padding-bottom:.2em;margin-top:2em}
            table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #cbd5e1;padding:.25em .6em;text-align:left;vertical-align:top}
            th{background:#f1f5f9}pre{background:#0f172a;color:#e2e8f0;padding:.8em;overflow-x:auto;font:13px/1.4 ui-monospace,monospace}
            figure{margin:1em 0}figcaption{color:#475569;font-size:13px}svg{max-width:100%;height:auto}
            svg text{font-family:ui-monospace,monospace}svg .t{font-size:13px;font-weight:bold}svg .fn{font-size:10px;fill:#334155}
            svg .fv{font-size:11px;font-weight:bold}svg .bit{font-size:10px;fill:#64748b}svg .lbl{font-size:11px}
            svg .life{stroke:#94a3b8;stroke-width:2}svg .arrow{stroke:#334155;stroke-width:1.4}svg .ctl{stroke:#b91c1c}
            svg .data{stroke:#1d4ed8}svg .axis{stroke:#334155}.ok{color:#15803d;font-weight:bold}.fail{color:#b91c1c;font-weight:bold}
            .ip{color:#93c5fd}.tcp{color:#86efac}.pl{color:#fde68a}td{overflow-wrap:anywhere}td:nth-child(3){white-space:nowrap}
            @page{size:A4;margin:12mm}
            @media print{body{max-width:none;margin:0;padding:0;font-size:11px}h2{break-before:page}h2.first{break-before:auto}
            pre{white-space:pre-wrap;overflow-wrap:anywhere;overflow:visible;font-size:9.5px}table{width:100%}
            tr,figure,pre{break-inside:avoid}h2,h3,h4{break-after:avoid}details{display:block}summary{display:none}}
            """
        h("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
        h("<title>netlab lab report</title><style>\(style)</style></head><body>")
        h("<h1>netlab lab report</h1>")
        m("# netlab lab report\n")
        let when = ISO8601DateFormatter().string(from: Date())
        let caps = reportCaptures
        guard !caps.isEmpty else { throw LabError(message: "\(labDir.path): no capture to report on (part1.pcap, ...); give capture files") }
        let from = given.isEmpty ? labDir.path : caps.map(\.name).joined(separator: ", ")
        h("<p>Written \(when) from <code>\(SVG.esc(from))</code>. Packet numbers are frame numbers as Wireshark shows them.</p>")
        m("Written \(when) from `\(from)`. Packet numbers are frame numbers as Wireshark shows them.\n")
        let answered = try answerSheet(caps)
        try capturedEncapsulation(answered)
        if given.isEmpty { checks() }
        for c in caps {
            try captureSection(file: c.path, title: c.title, about: c.about)
        }
        h("</body></html>")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let files = outDir.appendingPathComponent("report-files")
        try? FileManager.default.removeItem(at: files) /* pictures of an earlier report */
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for (name, svg) in svgs {
            try OutputFile.write(svg, to: files.appendingPathComponent(name).path)
        }
        try OutputFile.write(html, to: outPath("report.html"))
        try OutputFile.write(md, to: outPath("report.md"))
        return [outPath("report.html"), outPath("report.md")]
    }

    /// The lab's own verdicts (results.txt), when the lab wrote them.
    mutating func checks() {
        guard let text = try? String(contentsOfFile: path("results.txt"), encoding: .utf8) else { return }
        h("<h2>What the lab proved</h2><ul>")
        m("## What the lab proved\n")
        for line in text.split(separator: "\n") {
            let ok = line.hasPrefix("OK")
            let rest = String(line.dropFirst(ok ? 2 : 4)).trimmingCharacters(in: .whitespaces)
            h("<li><span class=\"\(ok ? "ok" : "fail")\">\(ok ? "OK" : "FAIL")</span> \(SVG.esc(rest))</li>")
            m("- **\(ok ? "OK" : "FAIL")** \(rest)")
        }
        h("</ul>")
        m("")
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
        h("<p>Hex dump (\(SVG.esc(legend)); colours: <span class=\"ok\">IPv4 blue, TCP green, payload yellow</span>)</p>")
        m("Hex dump (\(legend)):\n")
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

    mutating func captureSection(file: String, title: String, about: String) throws {
        let a = try Analysis(path: file, options: AnalyzeOptions())
        let s = a.summary
        let name = URL(fileURLWithPath: file).lastPathComponent
        h("<h2>\(SVG.esc(title)) <small><code>\(SVG.esc(name))</code></small></h2><p>\(SVG.esc(about))</p>")
        m("## \(title) (`\(name)`)\n\n\(about)\n")
        let tcp = a.conversations.filter { $0.proto == 6 }
        var protos: [String] = []
        if s.tcp > 0 { protos.append("TCP (\(s.tcp) packets)") }
        if s.udp > 0 { protos.append("UDP (\(s.udp) packets)") }
        if s.icmp + s.icmpv6 > 0 { protos.append("ICMP (\(s.icmp + s.icmpv6) packets)") }
        let rows: [[String]] = [
            ["capture", "\(s.packets) packets, \(s.bytes) bytes, \(linkTypeName(s.linkType)) (\(linkTypeDescription(s.linkType)))"],
            ["protocols", protos.isEmpty ? "none" : protos.joined(separator: ", ")],
            ["checksums", "IPv4 \(s.ckIPv4.good) good, \(s.ckIPv4.bad) bad; TCP \(s.ckTCP.good) good, \(s.ckTCP.bad) bad, \(s.ckTCP.offload) left to offload"],
        ]
        table(["about the capture", ""], rows)
        if !a.notes.isEmpty {
            h("<ul>" + a.notes.map { "<li>\(SVG.esc($0.text))</li>" }.joined() + "</ul>")
            for n in a.notes { m("- " + n.text) }
            m("")
        }
        let flows = try FlowGraph.read(path: file)
        let stem = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
        for f in flows {
            // Number it as analyze does (TCP and UDP share one sequence): match by the two endpoints.
            let id = tcp.first { Set([$0.client, $0.server]) == Set([f.a, f.b]) }?.id ?? f.id
            h("<h3>Conversation \(id): \(SVG.esc(f.a)) ⇄ \(SVG.esc(f.b))</h3>")
            m("### Conversation \(id): \(f.a) <-> \(f.b)\n")
            picture(SVG.sequenceDiagram(f), name: "\(stem)-conv\(id)-flow.svg",
                    alt: "flow graph of conversation \(id): every segment with its flags and relative numbers")
            picture(SVG.bytesOverTime(f), name: "\(stem)-conv\(id)-bytes.svg",
                    alt: "payload bytes over time in each direction, conversation \(id)")
            try tcpGraphs(file: file, a: f.a, b: f.b, id: id, stem: stem)
        }
    }
}
