// netlab: every tool behind one front door, git-style (`netlab inject`, `netlab chat server`,
// ...). The list below is the help page's list and what `netlab nosuchcommand` offers: a new
// command is one line in it. `netlab doctor` checks the machine (here too).
import ArgumentParser
import Foundation
import Netlab

struct NetlabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netlab",
        abstract: "See and prove how TCP/IP works.",
        discussion: """
        Every command takes --help (or: netlab help COMMAND); each has a manual page, e.g. man netlab-analyze. \
        The guide: README.md and docs/ in the source, /usr/share/doc/netlab when installed.
        """,
        version: netlabVersion,
        subcommands: [
            InjectCommand.self,
            CaptureCommand.self,
            AnalyzeCommand.self,
            ChatCommand.self,
            EchoCommand.self,
            LabCommand.self,
            ReportCommand.self,
            DoctorCommand.self,
            GradeCommand.self,
            ProveCommand.self,
        ])
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this machine before the lab: privileges, interfaces, offloads, ports, namespaces, tools.")

    @Flag(help: "Print the checks as JSON.")
    var json = false

    @Flag(name: .customLong("no-color"), help: "Never colour the output (NO_COLOR is honoured too).")
    var noColor = false

    func run() throws {
        let exe = (try? Front.executable()) ?? "netlab"
        let checks: [Check]
        do {
            checks = try Doctor.run(program: exe)
        } catch let e as NetlabError {
            FileHandle.standardError.write(Data("netlab doctor: \(e.message)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            var w = JSONWriter(streaming: false)
            w.beginObject()
            w.beginArray("checks")
            for c in checks {
                w.beginObject()
                w.field("detail", c.detail)
                w.field("fix", c.fix)
                w.field("status", c.status)
                w.field("topic", c.topic)
                w.endObject()
            }
            w.endArray()
            w.endObject()
            print(w.text)
        } else {
            let color = terminalWantsColor(disabled: noColor)
            func paint(_ s: String) -> String {
                guard color else { return s }
                let code = ["OK": "32", "INFO": "36", "WARN": "33", "FAIL": "1;31"][s] ?? "0"
                return "\u{1b}[\(code)m\(s)\u{1b}[0m"
            }
            let width = checks.map { Fmt.width($0.topic) }.max() ?? 10
            for c in checks {
                let tag = paint(Fmt.pad(c.status, 4))
                print("\(tag)  \(Fmt.pad(c.topic, width))  \(c.detail)")
                if !c.fix.isEmpty { print("      \(String(repeating: " ", count: width))  -> \(c.fix)") }
            }
            let fails = checks.filter { $0.status == "FAIL" }.count
            print(fails == 0 ? "doctor: ready for the lab" : "doctor: \(fails) problem\(fails == 1 ? "" : "s") to fix first")
        }
        if checks.contains(where: { $0.status == "FAIL" }) { throw ExitCode.failure }
    }
}
