// analyze: what an engineer asks of any capture, answered in one command and
// checked against tshark. Argument parsing and output only: every networking
// decision (conversations, servers, checksum verdicts, notes) is libnetlab's.
import ArgumentParser
import Foundation
import Netlab

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Answer what an engineer asks of a capture: conversations, servers, payload bytes, checksums.",
        discussion: """
        Reads pcap (either byte order, micro- or nanosecond) and pcapng files. Packet numbers are 1-based \
        frame numbers, as Wireshark shows them. With several files, each gets its own report (--json: an array).

        --expect learns which way each message travels as the injector decides it (the app whose name holds \
        "server" is the server; else each group's first dst_app). --expect-echo grades an echo capture: each line \
        of the file to the server, and its echo (reversed, case swapped) back, in order; the server's greeting is \
        allowed. Payload the expected messages do not account for is listed as unexpected.

        Exit status: 0 every file read whole (and, with --expect/--expect-echo, everything intact, in order, \
        nothing unexpected); 1 something missing, altered, out of order or unexpected, or --follow names no \
        conversation; 2 a capture could not be read (or was damaged part-way: the report covers the packets \
        before the damage); 65 the CSV or input file is invalid (its error on stderr; with --json a \
        {"file","error"} entry); 64 a usage error.
        """)

    @Argument(help: "Capture files (.pcap or .pcapng).")
    var files: [String]

    @Flag(help: "Print the report as JSON (field names documented in docs/analyze.md).")
    var json = false

    @Option(name: .customLong("find"),
            help: "List every packet whose payload contains TEXT, also across segment boundaries (repeatable).")
    var find: [String] = []

    @Option(help: "Print conversation N's reassembled byte stream each way, as Follow TCP Stream does.")
    var follow: Int?

    @Option(help: "A messages CSV: check that every message is in one conversation's payloads, intact and in order.")
    var expect: String?

    @Option(name: .customLong("expect-echo"),
            help: "Grade an echo capture: every line of this file (in-proj.txt) and its echo, in order.")
    var expectEcho: String?

    @Option(name: .customLong("max-listed"),
            help: "List at most this many conversations (TCP and UDP each), bad packets, problems, matches and duplicates each.")
    var maxListed = 10_000

    @Flag(help: "Print the answer sheet of each capture instead: per TCP conversation the server, client, interfaces, greeting, request/reply pairs, bytes each way, largest payload; chat users.")
    var answers = false

    @Flag(help: "List every TCP segment, one line each, with Wireshark's analysis flags in brackets.")
    var packets = false

    @Flag(name: .customLong("no-color"), help: "Never colour the output (NO_COLOR is honoured too).")
    var noColor = false

    mutating func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one capture file") }
        if let follow, follow < 1 {
            throw ValidationError("--follow \(follow): conversations are numbered from 1")
        }
        for t in find where t.isEmpty { throw ValidationError("--find: the text to find is empty") }
        if expect != nil && expectEcho != nil { throw ValidationError("give --expect or --expect-echo, not both") }
        if answers && (expect != nil || expectEcho != nil || follow != nil || !find.isEmpty) {
            throw ValidationError("--answers prints the answer sheet alone: no --expect, --expect-echo, --follow or --find")
        }
        guard maxListed >= 1 else { throw ValidationError("--max-listed \(maxListed): give 1 or more") }
    }

    func run() throws {
        if answers {
            if !AnswersOutput.run(files: files, json: json, maxListed: UInt32(clamping: maxListed), complain: complain) { throw ExitCode(2) }
            return
        }
        // An invalid CSV or input file stops everything before any capture is read: 65 (EX_DATAERR).
        if let bad = expect ?? expectEcho {
            do {
                if expect != nil { _ = try MessageSet(path: bad) } else { try Analysis.validateEchoInput(bad) }
            } catch let e as NetlabError {
                complain(e.message)
                if json {
                    var w = JSONWriter()
                    w.beginObject(); w.field("file", bad); w.field("error", e.message); w.endObject()
                    w.endDocument(); w.flush()
                }
                throw ExitCode(65)
            }
        }
        var unreadable = false
        var options = AnalyzeOptions()
        options.find = find
        options.follow = follow ?? 0
        options.expect = expect
        options.expectEcho = expectEcho
        options.maxListed = maxListed
        options.packets = packets
        let color = !json && terminalWantsColor(disabled: noColor)
        var failed = false
        var w = JSONWriter()
        let many = files.count > 1
        if json && many { w.beginArray() }
        for (i, path) in files.enumerated() {
            let analysis: Analysis
            do {
                analysis = try Analysis(path: path, options: options)
            } catch let e as NetlabError {
                complain(e.message)
                unreadable = true
                if json {
                    w.beginObject(); w.field("file", path); w.field("error", e.message); w.endObject()
                }
                continue
            }
            if json {
                var jr = JSONReport(analysis: analysis, texts: find, followAsked: follow ?? 0, expectAsked: expect ?? expectEcho)
                jr.packets = packets
                jr.write(into: &w)
            } else {
                var r = TextReport(analysis: analysis, texts: find, followAsked: follow ?? 0, expectAsked: expect ?? expectEcho,
                                   color: color)
                r.packets = packets
                if many && i > 0 { emit("\n") }
                r.render()
            }
            if let err = analysis.summary.readError {
                complain(err.message + " (the report covers the \(analysis.summary.packets) packets before it)")
                unreadable = true
            }
            if let follow, analysis.followedConversation == 0 {
                complain("\(path): --follow \(follow): no such conversation (the capture has "
                         + "\(analysis.conversationCount))")
                failed = true
            }
            if let asked = expect != nil ? "--expect" : expectEcho != nil ? "--expect-echo" : nil, !analysis.expectationsMet {
                let n = analysis.expectations.filter { !$0.ok }.count
                let u = analysis.unexpected.filter { $0.kind == "unexpected" }.count
                complain("\(path): \(asked): \(n) of \(analysis.expectations.count) messages not found intact and in order"
                         + (u > 0 ? "; \(u) unexpected payload run\(u == 1 ? "" : "s")" : ""))
                failed = true
            }
        }
        if json {
            if many { w.endArray() }
            w.endDocument()
            w.flush()
        }
        if unreadable { throw ExitCode(2) }
        if failed { throw ExitCode.failure }
    }

    func emit(_ s: String) {
        var s = s
        s.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
    }

    func complain(_ message: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data("analyze: \(safeLine(message))\n".utf8))
    }
}
