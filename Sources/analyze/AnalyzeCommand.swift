// analyze: what an engineer asks of any capture, answered in one command and
// checked against tshark. Argument parsing and output only: every networking
// decision (conversations, servers, checksum verdicts, notes) is libnetlab's.
import ArgumentParser
import Foundation
import Netlab

@main
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Answer what an engineer asks of a capture: conversations, servers, payload bytes, checksums.",
        discussion: """
        Reads pcap (either byte order, micro- or nanosecond) and pcapng files. Packet numbers are 1-based \
        frame numbers, as Wireshark shows them. With several files, each gets its own report (--json: an array).

        Exit status: 0 when every file was read whole (and, with --expect, every message was found intact and \
        in order); 1 when a file could not be read or was damaged part-way (the report covers the packets \
        before the damage), when --follow names no conversation, or when --expect finds a message missing, \
        altered or out of order; 64 for a usage error.
        """)

    @Argument(help: "Capture files (.pcap or .pcapng).")
    var files: [String]

    @Flag(help: "Print the report as JSON (field names documented in the README).")
    var json = false

    @Option(name: .customLong("find"),
            help: "List every packet whose payload contains TEXT, also across segment boundaries (repeatable).")
    var find: [String] = []

    @Option(help: "Print conversation N's reassembled byte stream each way, as Follow TCP Stream does.")
    var follow: Int?

    @Option(help: "A messages CSV: check that every message is in one conversation's payloads, intact and in order.")
    var expect: String?

    @Option(name: .customLong("max-listed"),
            help: "List at most this many bad packets, problems, matches and duplicates each.")
    var maxListed = 10_000

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
        guard maxListed >= 1 else { throw ValidationError("--max-listed \(maxListed): give 1 or more") }
    }

    func run() throws {
        var options = AnalyzeOptions()
        options.find = find
        options.follow = follow ?? 0
        options.expect = expect
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
                failed = true
                if json && many {
                    w.beginObject(); w.field("file", path); w.field("error", e.message); w.endObject()
                }
                continue
            }
            if json {
                var jr = JSONReport(analysis: analysis, texts: find, followAsked: follow ?? 0, expectAsked: expect)
                jr.packets = packets
                jr.write(into: &w)
            } else {
                var r = TextReport(analysis: analysis, texts: find, followAsked: follow ?? 0, expectAsked: expect,
                                   color: color)
                r.packets = packets
                if many && i > 0 { emit("\n") }
                r.render()
            }
            if let err = analysis.summary.readError {
                complain(err.message + " (the report covers the \(analysis.summary.packets) packets before it)")
                failed = true
            }
            if let follow, analysis.followedConversation == 0 {
                complain("\(path): --follow \(follow): no such conversation (the capture has "
                         + "\(analysis.conversationCount))")
                failed = true
            }
            if expect != nil, !analysis.expectations.allSatisfy(\.ok) {
                let n = analysis.expectations.filter { !$0.ok }.count
                complain("\(path): --expect: \(n) of \(analysis.expectations.count) messages not found intact and in order")
                failed = true
            }
        }
        if json {
            if many { w.endArray() }
            w.endDocument()
            w.flush()
        }
        if failed { throw ExitCode.failure }
    }

    func emit(_ s: String) {
        var s = s
        s.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
    }

    func complain(_ message: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data("analyze: \(message)\n".utf8))
    }
}
