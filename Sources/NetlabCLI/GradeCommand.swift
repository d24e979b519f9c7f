// netlab grade: a whole class graded against a rubric, from a folder of
// submissions (one folder or .zip each) to a gradebook CSV, JSON Lines with a
// reason for every check, and an HTML summary with a feedback page per student.
// Parsing arguments and formatting only: every verdict and every reason is
// libnetlab's (nl_rubric.c, nl_classgrade.c, nl_gradecheck.c).
import ArgumentParser
import Foundation
import Netlab

struct GradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Grade a class: one folder or .zip per submission, every check with its reason (docs/grade.md).",
        discussion: """
        netlab grade class/ --rubric rubric.txt --csv grades.csv --html feedback
        netlab grade class/ --greeting 'Welcome to CS 352!' --port 5000 --input in-proj.txt --require part1,part2
        The rubric comes from --rubric FILE, options, or both (options replace the file's settings). \
        Exit status: 0 when grading ran, whatever the grades; 64 a usage error; 65 an invalid rubric or input \
        file; 2 an unreadable class folder or reference capture; 1 an output that could not be written.
        """)

    @Argument(help: "The class folder: one folder or .zip per submission.")
    var classDir: String

    @Option(help: "Rubric file (KEY = VALUE lines: greeting, port, input, transform, require, output, files, reference, points.CHECK).")
    var rubric: String?

    @Option(help: "The greeting the server must send first (its line end aside).")
    var greeting: String?

    @Option(help: "The server port: a number, or 'same' (one port in every capture of a submission).")
    var port: String?

    @Option(help: "The class's input lines (in-proj.txt); a submission's own copy is never used.")
    var input: String?

    @Option(help: "What the server does to each line: reverse-swapcase (default), identity, upper, lower, swapcase, reverse.")
    var transform: String?

    @Option(help: "Required captures, e.g. part1,part2 (part1 on loopback, part2 across hosts; or NAME:loopback|across|any).")
    var require: String?

    @Option(name: .customLong("output-file"), help: "A file the submission must hold with the transform of every input line (out-proj.txt).")
    var outputFile: String?

    @Option(help: "Files every submission must hold: names or patterns, comma-separated (server.py,client.py).")
    var files: String?

    @Option(parsing: .singleValue, help: "A reference capture to compare each capture with by meaning: FILE, or PART=FILE (repeatable).")
    var reference: [String] = []

    @Option(help: "Title of the HTML pages.")
    var title: String?

    @Option(help: "Write the gradebook here: one row per submission (submission, verdict, each check, points).")
    var csv: String?

    @Flag(help: "Print JSON Lines: one object per submission, each check with its reason.")
    var json = false

    @Option(help: "Write an HTML summary (index.html) and one feedback page per submission into this folder.")
    var html: String?

    @Flag(name: .customLong("no-color"), help: "Never colour the output (NO_COLOR is honoured too).")
    var noColor = false

    func validate() throws {
        if let port, port != "same", Int(port).map({ !(1...65535).contains($0) }) ?? true {
            throw ValidationError("--port \(port): give a port (1-65535) or 'same'")
        }
        for r in reference where r.isEmpty { throw ValidationError("--reference: give a capture file") }
    }

    /// The options, as the rubric's own settings.
    var settings: [(String, String)] {
        var s: [(String, String)] = []
        for (key, value) in [("title", title), ("greeting", greeting), ("port", port), ("input", input),
                             ("transform", transform), ("require", require), ("output", outputFile), ("files", files)] {
            if let value { s.append((key, value)) }
        }
        for r in reference {
            if let eq = r.firstIndex(of: "="), !r[..<eq].contains("/") {
                s.append(("reference." + r[..<eq], String(r[r.index(after: eq)...])))
            } else {
                s.append(("reference", r))
            }
        }
        return s
    }

    func run() throws {
        let rules: Rubric
        do {
            rules = try Rubric()
            if let rubric { try rules.load(rubric) }
            for (k, v) in settings { try rules.set(k, v) }
            try rules.finish()
        } catch let e as NetlabError {
            complain(e.message)
            throw ExitCode(65)
        }
        let grades: ClassGrades
        do {
            grades = try ClassGrades(dir: classDir, rubric: rules)
        } catch let e as NetlabError {
            complain(e.message)
            throw ExitCode(2)
        }
        for s in grades.skipped { complain("skipped \(s)") }
        if grades.submissions.isEmpty { complain("\(classDir): no submission (a folder or .zip) to grade") }
        let ok = try reportingFailure("netlab grade") {
            if let csv { try OutputFile.write(GradeFormat.csv(grades, checks: rules.checks), to: csv) }
            if let html { try GradeHTML(rubric: rules, grades: grades).write(to: html) }
        }
        if json {
            for s in grades.submissions {
                var w = JSONWriter(streaming: false, compact: true)
                GradeFormat.json(s, into: &w)
                w.endDocument()
                w.flush()
            }
        } else {
            print(GradeFormat.text(grades, color: terminalWantsColor(disabled: noColor)), terminator: "")
        }
        if !ok { throw ExitCode.failure }
    }

    func complain(_ message: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data("netlab grade: \(message)\n".utf8))
    }
}

/// The gradebook's formats: text for a terminal, CSV, JSON Lines.
enum GradeFormat {
    static func points(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(format: "%.3f", p).replacingOccurrences(of: "0+$", with: "", options: .regularExpression)
    }

    /// One CSV field (RFC 4180 quoting); a field a spreadsheet would run as a formula starts with a quote mark.
    static func csvField(_ s: String) -> String {
        var s = s
        if let c = s.first, "=+-@\t\r".contains(c) { s = "'" + s }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func csv(_ g: ClassGrades, checks: [(id: String, points: Double)]) -> String {
        var out = (["submission", "verdict"] + checks.map(\.id) + ["points", "max_points"]).map(csvField)
            .joined(separator: ",") + "\r\n"
        for s in g.submissions {
            let row = [s.name, s.verdict] + s.checks.map { $0.pass ? "PASS" : "FAIL" } + [points(s.points), points(s.maxPoints)]
            out += row.map(csvField).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func json(_ s: SubmissionGrade, into w: inout JSONWriter) {
        w.beginObject()
        w.field("submission", s.name)
        w.field("kind", s.kind)
        w.field("verdict", s.verdict)
        w.field("points", s.points)
        w.field("max_points", s.maxPoints)
        w.beginArray("checks")
        for c in s.checks {
            w.beginObject()
            w.field("check", c.id)
            w.field("result", c.pass ? "PASS" : "FAIL")
            w.field("points", c.points)
            w.field("max_points", c.maxPoints)
            w.field("reason", c.reason)
            w.stringArray("details", c.details)
            w.endObject()
        }
        w.endArray()
        w.beginArray("captures")
        for c in s.captures {
            w.beginObject()
            w.field("part", c.part.isEmpty ? nil : c.part)
            w.field("file", c.file)
            w.field("format", c.format)
            w.field("packets", c.packets)
            w.field("error", c.error)
            if c.conversation > 0 { w.field("conversation", c.conversation) } else { w.null("conversation") }
            if c.hasReference {
                w.beginArray("reference")
                for d in c.differences {
                    w.beginObject()
                    w.field("item", d.item)
                    w.field("text", d.text)
                    w.endObject()
                }
                w.endArray()
            } else {
                w.null("reference")
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    struct Painter: TerminalStyled { let color: Bool }

    static func text(_ g: ClassGrades, color: Bool) -> String {
        let p = Painter(color: color)
        let names = g.submissions.map { safePreview(Array($0.name.utf8), limit: 60) }
        let width = names.map(Fmt.width).max() ?? 10
        var out = ""
        for (s, name) in zip(g.submissions, names) {
            let score = "\(points(s.points))/\(points(s.maxPoints))"
            out += "\(Fmt.pad(name, width))  \(s.pass ? p.good("PASS") : p.bad("FAIL"))  \(Fmt.padLeft(score, 9))"
            let failed = s.checks.filter { !$0.pass }
            if let first = failed.first {
                out += "  \(first.id): \(first.reason)"
                if failed.count > 1 { out += p.dim(" (+\(failed.count - 1) more check\(failed.count == 2 ? "" : "s"))") }
            }
            out += "\n"
        }
        let passed = g.submissions.filter(\.pass).count
        out += "\(g.submissions.count) submission\(g.submissions.count == 1 ? "" : "s"): \(passed) PASS, "
            + "\(g.submissions.count - passed) FAIL\n"
        return out
    }
}
