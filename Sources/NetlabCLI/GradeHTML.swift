// netlab grade --html DIR: index.html (every submission, its verdict, points and
// each check) and one feedback page per submission: each check with its reason
// and every sentence behind it, beside the answer sheet of the student's own
// captures and what differs from the reference. Self-contained pages (inline
// CSS, no scripts, nothing fetched); every text from a submission is escaped.
// Rendering only: verdicts, reasons and answers come from libnetlab.
import Foundation
import Netlab

struct GradeHTML {
    let rubric: Rubric
    let grades: ClassGrades

    static let style = """
        body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#0f172a}
        h1,h2,h3{line-height:1.2}h2{border-bottom:2px solid #cbd5e1;padding-bottom:.2em;margin-top:1.6em}
        table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #cbd5e1;padding:.25em .6em;text-align:left;vertical-align:top}
        th{background:#f1f5f9}td{overflow-wrap:anywhere}.PASS{color:#15803d;font-weight:bold}.FAIL{color:#b91c1c;font-weight:bold}
        ul{margin:.2em 0;padding-left:1.2em}code{font:13px ui-monospace,monospace}.side{display:flex;gap:2em;flex-wrap:wrap}
        .side>section{flex:1 1 420px;min-width:0}small{color:#475569}td code{white-space:nowrap}
        .t{white-space:pre-wrap}.idx td{white-space:nowrap}.scroll{overflow-x:auto}
        """

    func esc(_ s: String) -> String { SVG.esc(s) }

    /// A file name for a submission's page: letters, digits, '.', '-', '_' kept, the rest '_'; made unique.
    static func pageNames(_ names: [String]) -> [String] {
        var used = Set<String>(["index"])
        return names.map { n in
            var base = String(n.unicodeScalars.map { s -> Character in
                s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-".unicodeScalars.contains(s)) ? Character(s) : "_"
            }).trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if base.isEmpty { base = "submission" }
            var name = base, k = 2
            while used.contains(name.lowercased()) {
                name = "\(base)-\(k)"
                k += 1
            }
            used.insert(name.lowercased())
            return name + ".html"
        }
    }

    func page(_ title: String, _ body: String) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
            + "<title>\(esc(title))</title><style>\(Self.style)</style></head><body>\(body)</body></html>\n"
    }

    var heading: String { rubric.title.isEmpty ? "netlab grade" : rubric.title }

    func write(to dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw NetlabError(code: -5, message: "\(dir): cannot make the folder for the HTML pages: \(error.localizedDescription)")
        }
        let pages = Self.pageNames(grades.submissions.map(\.name))
        try OutputFile.write(page(heading, index(pages)), to: dir + "/index.html")
        for (s, name) in zip(grades.submissions, pages) {
            try OutputFile.write(page("\(s.name): \(heading)", feedback(s)), to: dir + "/" + name)
        }
    }

    func index(_ pages: [String]) -> String {
        let checks = rubric.checks
        let passed = grades.submissions.filter(\.pass).count
        var b = "<h1>\(esc(heading))</h1><p>\(grades.submissions.count) submissions: \(passed) PASS, "
            + "\(grades.submissions.count - passed) FAIL. Each name links to that submission's feedback page.</p>"
        b += "<div class=\"scroll\"><table class=\"idx\"><tr><th>submission</th><th>verdict</th><th>points</th>"
            + checks.map { "<th>\(esc($0.id))<br><small>\(GradeFormat.points($0.points))</small></th>" }.joined() + "</tr>"
        for (s, p) in zip(grades.submissions, pages) {
            b += "<tr><td><a href=\"\(esc(p))\">\(esc(s.name))</a></td><td class=\"\(s.verdict)\">\(s.verdict)</td>"
                + "<td>\(GradeFormat.points(s.points))/\(GradeFormat.points(s.maxPoints))</td>"
                + s.checks.map { c in
                    "<td class=\"\(c.pass ? "PASS" : "FAIL")\" title=\"\(esc(c.reason))\">\(c.pass ? "PASS" : "FAIL")</td>"
                }.joined() + "</tr>"
        }
        b += "</table></div>"
        if !grades.skipped.isEmpty {
            b += "<h2>Not graded</h2><ul>" + grades.skipped.map { "<li>\(esc($0))</li>" }.joined() + "</ul>"
        }
        return b
    }

    func feedback(_ s: SubmissionGrade) -> String {
        var b = "<p><a href=\"index.html\">\(esc(heading))</a></p><h1>\(esc(s.name))</h1>"
        b += "<p><span class=\"\(s.verdict)\">\(s.verdict)</span>: \(GradeFormat.points(s.points)) of "
            + "\(GradeFormat.points(s.maxPoints)) points (a \(esc(s.kind)) of \(s.files) files).</p>"
        b += "<div class=\"side\"><section><h2>Checks</h2><table><tr><th>check</th><th>result</th><th>points</th><th>why</th></tr>"
        for c in s.checks {
            b += "<tr><td><code>\(esc(c.id))</code></td><td class=\"\(c.pass ? "PASS" : "FAIL")\">\(c.pass ? "PASS" : "FAIL")</td>"
                + "<td>\(GradeFormat.points(c.points))/\(GradeFormat.points(c.maxPoints))</td><td class=\"t\">\(esc(c.reason))"
            if c.details.count > 1 { b += "<ul>" + c.details.map { "<li>\(esc($0))</li>" }.joined() + "</ul>" }
            b += "</td></tr>"
        }
        b += "</table></section><section><h2>Your captures</h2>"
        if s.captures.isEmpty { b += "<p>No capture was graded.</p>" }
        for c in s.captures { b += capture(c) }
        b += "</section></div>"
        return b
    }

    func capture(_ c: GradedCapture) -> String {
        let name = c.file ?? "(no file)"
        var b = "<h3>\(c.part.isEmpty ? "" : esc(c.part) + ": ")<code>\(esc(name))</code></h3>"
        if let e = c.error { return b + "<p>\(esc(e))</p>" }
        guard let a = c.answers else { return b + "<p>No capture file.</p>" }
        b += "<p>\(esc(c.format ?? "")), \(c.packets) packets"
            + (c.conversation > 0 ? "; conversation \(c.conversation) graded" : "") + ".</p>"
        if let conv = a.conversations.first(where: { $0.conversation == c.conversation }) {
            b += "<table><tr><th>question</th><th>answer (from your capture)</th></tr>"
                + answerRows(conv).map { "<tr><td>\(esc($0.0))</td><td class=\"t\">\(esc($0.1))</td></tr>" }.joined() + "</table>"
        }
        if c.hasReference {
            b += "<h4>Your capture vs the reference</h4>"
            b += c.differences.isEmpty ? "<p>The same meaning as the reference (sequence numbers, ports, timing, "
                + "checksums and duplicate copies aside).</p>"
                : "<ul>" + c.differences.map { "<li class=\"t\"><b>\(esc($0.item))</b>: \(esc($0.text))</li>" }.joined() + "</ul>"
        }
        return b
    }

    /// The answer sheet of the graded conversation (C's answers, in a few rows).
    func answerRows(_ c: ConversationAnswers) -> [(String, String)] {
        var rows: [(String, String)] = [
            ("server", "\(c.server) (port \(c.serverPort); decided by \(c.serverBasis))"),
            ("client", "\(c.client) (ephemeral port \(c.clientPort))"),
            ("interface", c.interfaces.map { $0.label() }.joined(separator: ", ")),
            ("greeting", c.greeting.map { "packet \($0.packet): \"\($0.text.visible())\" (\($0.payloadBytes) bytes)" }
                ?? "none: the client spoke first"),
        ]
        for (k, x) in c.exchanges.prefix(5).enumerated() {
            let reply = x.replyPacket == 0 ? "no reply captured" : "packet \(x.replyPacket): \"\(x.reply.visible())\""
            rows.append(("exchange \(k + 1)", "packet \(x.requestPacket): \"\(x.request.visible())\" -> \(reply)"))
        }
        if c.exchangeCount > 5 { rows.append(("exchanges", "\(c.exchangeCount) in all")) }
        rows.append(("bytes client -> server", "\(c.payloadC2S) of payload; \(c.frameBytesC2S) in \(c.framesC2S) frames"))
        rows.append(("bytes server -> client", "\(c.payloadS2C) of payload; \(c.frameBytesS2C) in \(c.framesS2C) frames"))
        return rows
    }
}
