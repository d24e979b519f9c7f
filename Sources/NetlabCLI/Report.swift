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
        abstract: "Write report.html and report.md from a lab folder's captures (no root needed).")

    @Option(name: .customLong("in"), help: "Folder holding the lab's captures (part1.pcap, part2.pcap, ...).")
    var input = "lab-out"

    @Option(name: .customLong("csv"), help: "Messages whose encapsulation the report explains (default: the bundled sample).")
    var csv: String?

    func run() throws {
        do {
            var writer = ReportWriter(labDir: URL(fileURLWithPath: input).standardizedFileURL,
                                      csv: try csv ?? LabFiles.sample())
            let files = try writer.write()
            print("wrote " + files.joined(separator: ", "))
        } catch let e as NetlabError {
            FileHandle.standardError.write(Data("netlab report: \(e.message)\n".utf8))
            throw ExitCode.failure
        } catch let e as LabError {
            FileHandle.standardError.write(Data("netlab report: \(e.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct ReportWriter {
    let labDir: URL
    let csv: String

    static let captures: [(file: String, title: String, about: String)] = [
        ("part1.pcap", "Part 1: echo on one host", "The echo server and client on the same host, talking over loopback, captured on the any interface."),
        ("part2.pcap", "Part 2: echo across two hosts", "The echo server on 10.99.0.2 and the client on 10.99.0.1, two network namespaces joined by a veth pair, captured on any in the client's namespace."),
        ("deliver.pcap", "Hand-built packets into a real server", "`injector --deliver`: a TCP connection made only of packets netlab built with libnet, accepted by the unmodified kernel stack of the echo server's host."),
        ("part3.pcap", "Part 3: the chat server with three clients", "alice, bob and carol on the client host, the chat server on the other, captured on any in the client's namespace."),
    ]

    var html = ""
    var md = ""
    var svgs: [(String, String)] = []

    init(labDir: URL, csv: String) {
        self.labDir = labDir
        self.csv = csv
    }

    func path(_ n: String) -> String { labDir.appendingPathComponent(n).path }

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
        for r in rows { h("<tr>" + r.map { "<td>\(SVG.esc($0))</td>" }.joined() + "</tr>") }
        h("</tbody></table>")
        m("| " + header.joined(separator: " | ") + " |")
        m("|" + header.map { _ in " --- |" }.joined())
        for r in rows { m("| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
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
            .ip{color:#93c5fd}.tcp{color:#86efac}.pl{color:#fde68a}
            """
        h("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
        h("<title>netlab lab report</title><style>\(style)</style></head><body>")
        h("<h1>netlab lab report</h1>")
        m("# netlab lab report\n")
        let when = ISO8601DateFormatter().string(from: Date())
        h("<p>Written \(when) from <code>\(SVG.esc(labDir.path))</code>. Packet numbers are frame numbers as Wireshark shows them.</p>")
        m("Written \(when) from `\(labDir.path)`. Packet numbers are frame numbers as Wireshark shows them.\n")
        checks()
        try encapsulation()
        for c in Self.captures where FileManager.default.fileExists(atPath: path(c.file)) {
            try captureSection(file: c.file, title: c.title, about: c.about)
        }
        h("</body></html>")
        let files = labDir.appendingPathComponent("report-files")
        try? FileManager.default.removeItem(at: files) /* pictures of an earlier report */
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for (name, svg) in svgs {
            try svg.write(to: files.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try html.write(toFile: path("report.html"), atomically: true, encoding: .utf8)
        try md.write(toFile: path("report.md"), atomically: true, encoding: .utf8)
        return [path("report.html"), path("report.md")]
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

    mutating func encapsulation() throws {
        let ms = try MessageSet(path: csv)
        var o = CraftOptions()
        o.raw.handshake = 0
        let plan = try Plan(messages: ms, options: o)
        h("<h2>Encapsulation, byte by byte</h2>")
        m("## Encapsulation, byte by byte\n")
        let intro = "Each message of \(URL(fileURLWithPath: csv).lastPathComponent) becomes the payload of a TCP segment, which rides in an IPv4 packet. netlab builds both headers with libnet and computes both checksums itself; here are the first messages."
        h("<p>\(SVG.esc(intro))</p>")
        m(intro + "\n")
        var shown = 0
        for p in plan.packets where p.message != nil && p.segment == 1 {
            if shown == 3 { break }
            shown += 1
            let msg = plan.messages[p.message!]
            let x = try plan.explain(p.number - 1)
            let title = "Message \(msg.id): \"\(safePreview(msg.bytes, limit: 60))\""
            h("<h3>\(SVG.esc(title))</h3><p><code>\(SVG.esc(x.summary))</code></p>")
            m("### \(title)\n\n`\(x.summary)`\n")
            picture(SVG.nesting(spans: x.spans, total: p.bytes.count), name: "msg\(msg.id)-layers.svg",
                    alt: "message \(msg.id): the payload inside TCP inside IPv4")
            picture(SVG.headerDiagram(layer: "IPv4", fields: x.fields, title: "IPv4 header (RFC 791), 32 bits per row"),
                    name: "msg\(msg.id)-ipv4.svg", alt: "IPv4 header of message \(msg.id) with its values")
            picture(SVG.headerDiagram(layer: "TCP", fields: x.fields, title: "TCP header (RFC 9293), 32 bits per row"),
                    name: "msg\(msg.id)-tcp.svg", alt: "TCP header of message \(msg.id) with its values")
            h("<details><summary>Every field explained</summary>")
            table(["layer", "field", "bits", "value", "meaning"],
                  x.fields.map { [$0.layer, $0.name, "\($0.bitOffset)+\($0.bitWidth)", $0.valueText, $0.meaning] })
            h("</details>")
            checksum("IPv4 header checksum", x.ipChecksum, libnet: p.ipChecksumLibnet)
            checksum("TCP checksum (pseudo-header + header + data)", x.tcpChecksum, libnet: p.tcpChecksumLibnet)
            hexdump(p.bytes, spans: x.spans)
        }
    }

    mutating func checksum(_ title: String, _ t: ChecksumTrace, libnet: UInt16) {
        h("<h4>\(SVG.esc(title))</h4>")
        m("#### \(title)\n")
        var lines: [String] = []
        for part in ["pseudo-header", "header", "data"] {
            let ws = t.words.filter { $0.part == part }
            guard !ws.isEmpty else { continue }
            let shown = ws.prefix(40).map { w in
                w.part == "header" && w.offset == t.fieldOffset ? "[0000]" : String(format: "%04x", w.value)
            }
            lines.append(part.padding(toLength: 14, withPad: " ", startingAt: 0) + shown.joined(separator: " ")
                         + (ws.count > 40 ? " … (\(ws.count) words)" : ""))
        }
        lines.append(String(format: "sum           0x%08x  (%d words)", t.sum, t.words.count))
        var s = t.sum
        for f in t.folds {
            lines.append(String(format: "fold carry    0x%04x + 0x%04x = 0x%04x", s >> 16, s & 0xffff, f))
            s = f
        }
        lines.append(String(format: "complement    ~0x%04x = 0x%04x   in the packet: 0x%04x %@; libnet computed 0x%04x",
                            t.folded, t.checksum, t.inPacket, t.correct ? "(correct)" : "(WRONG)", libnet))
        pre(lines)
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
        var opts = AnalyzeOptions()
        opts.find = ["Welcome"]
        let a = try Analysis(path: path(file), options: opts)
        let s = a.summary
        h("<h2>\(SVG.esc(title)) <small><code>\(SVG.esc(file))</code></small></h2><p>\(SVG.esc(about))</p>")
        m("## \(title) (`\(file)`)\n\n\(about)\n")
        let names = interfaceNames()
        // A capture on "any" records each packet's interface index: name those; else the file's interfaces.
        let byIndex = a.interfaces.filter { $0.kind == .ifindex }
        let ifaces = (byIndex.isEmpty ? a.interfaces : byIndex).map { i -> String in
            if let n = i.name { return n }
            if i.kind == .ifindex { return names[i.index].map { "\($0) (index \(i.index))" } ?? "interface index \(i.index)" }
            return "interface \(i.index)"
        }
        let tcp = a.conversations.filter { $0.proto == 6 }
        var protos: [String] = []
        if s.tcp > 0 { protos.append("TCP (\(s.tcp) packets)") }
        if s.udp > 0 { protos.append("UDP (\(s.udp) packets)") }
        if s.icmp + s.icmpv6 > 0 { protos.append("ICMP (\(s.icmp + s.icmpv6) packets)") }
        let serverPorts = Array(Set(tcp.map(\.serverPort))).sorted().map(String.init).joined(separator: ", ")
        let clientPorts = tcp.map { "\($0.clientPort)" }.joined(separator: ", ")
        let greeting = a.matches.first
        var rows: [[String]] = [
            ["capture", "\(s.packets) packets, \(s.bytes) bytes, \(linkTypeName(s.linkType)) (\(linkTypeDescription(s.linkType)))"],
            ["transport protocol", protos.isEmpty ? "none" : protos.joined(separator: ", ")],
            ["server port", tcp.isEmpty ? "-" : serverPorts + " (the side that received the SYN)"],
            ["client ephemeral ports", tcp.isEmpty ? "-" : clientPorts],
            ["interfaces", ifaces.isEmpty ? "-" : ifaces.joined(separator: ", ")],
        ]
        for c in tcp {
            rows.append(["bytes each way, conversation \(c.id)",
                         "\(c.client) -> \(c.server): \(c.payloadC2S) payload bytes in \(c.packetsC2S) packets; back: \(c.payloadS2C) bytes in \(c.packetsS2C) packets"])
        }
        if let g = greeting {
            rows.append(["greeting (\"Welcome\")", "packet \(g.packet), \(g.payloadBytes) bytes of payload, conversation \(g.conversation)"])
        }
        if s.largestPacket > 0 {
            rows.append(["largest TCP payload", "packet \(s.largestPacket): \(s.largestBytes) bytes"])
        }
        rows.append(["checksums", "IPv4 \(s.ckIPv4.good) good, \(s.ckIPv4.bad) bad; TCP \(s.ckTCP.good) good, \(s.ckTCP.bad) bad, \(s.ckTCP.offload) left to offload"])
        table(["question", "answer"], rows)
        if !a.notes.isEmpty {
            h("<ul>" + a.notes.map { "<li>\(SVG.esc($0.text))</li>" }.joined() + "</ul>")
            for n in a.notes { m("- " + n.text) }
            m("")
        }
        let flows = try FlowGraph.read(path: path(file))
        let stem = file.replacingOccurrences(of: ".pcap", with: "")
        for f in flows {
            // Number it as analyze does (TCP and UDP share one sequence): match by the two endpoints.
            let id = tcp.first { Set([$0.client, $0.server]) == Set([f.a, f.b]) }?.id ?? f.id
            h("<h3>Conversation \(id): \(SVG.esc(f.a)) ⇄ \(SVG.esc(f.b))</h3>")
            m("### Conversation \(id): \(f.a) <-> \(f.b)\n")
            picture(SVG.sequenceDiagram(f), name: "\(stem)-conv\(id)-flow.svg",
                    alt: "flow graph of conversation \(id): every segment with its flags and relative numbers")
            picture(SVG.bytesOverTime(f), name: "\(stem)-conv\(id)-bytes.svg",
                    alt: "payload bytes over time in each direction, conversation \(id)")
        }
    }
}
