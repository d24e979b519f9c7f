// The front door: which command a starting program runs and under which name (`netlab
// <command>`, or a classic executable such as `injector`), the word that names no command,
// where the running executable is (the lab starts its tools from it), and where an installed
// netlab keeps its data. It knows no command's options and does none of their work.
import ArgumentParser
import Foundation

public enum Front {
    /// `netlab ARGS`. A word where a command belongs that names none gets the list of commands and
    /// the nearest name, and exit status 64, before ArgumentParser sees it.
    public static func main() -> Never {
        let args = Array(CommandLine.arguments.dropFirst())
        if let message = unknownCommand(args) {
            FileHandle.standardError.write(Data(message.utf8))
            exit(ExitCode.validationFailure.rawValue)
        }
        NetlabCommand.main(args)
        exit(0)
    }

    /// A classic executable: `injector ARGS` runs what `netlab inject ARGS` runs, under its own name.
    public static func main(classic name: String) -> Never {
        guard let tool = classic.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("netlab: no classic tool named \(name)\n".utf8))
            exit(70)
        }
        tool.command.main()
        exit(0)
    }

    /// The design card's executables: each one netlab command under its first name.
    static let classic: [(name: String, words: [String], command: ParsableCommand.Type)] = [
        ("injector", ["inject"], InjectorCommand.self),
        ("capture", ["capture"], CaptureCommand.self),
        ("analyze", ["analyze"], AnalyzeCommand.self),
        ("chatserver", ["chat", "server"], ChatServerCommand.self),
        ("chatclient", ["chat", "client"], ChatClientCommand.self),
        ("echoserver", ["echo", "server"], EchoServerCommand.self),
        ("echoclient", ["echo", "client"], EchoClientCommand.self),
    ]

    // MARK: - A word that names no command

    /// The message for the first word of `args` that stands where a command name belongs and names
    /// none ("netlab nosuchcommand", "netlab chat srever"), or nil when every such word names one.
    static func unknownCommand(_ args: [String]) -> String? {
        var command: ParsableCommand.Type = NetlabCommand.self
        var path = [NetlabCommand._commandName]
        for word in args {
            let subs = command.configuration.subcommands
            // Options, and everything after the last command, are ArgumentParser's to judge.
            if subs.isEmpty || word.hasPrefix("-") || word == "help" { return nil }
            if let next = subs.first(where: { names(of: $0).contains(word) }) {
                command = next
                path.append(next._commandName)
                continue
            }
            let known = subs.map { $0._commandName }
            var text = "\(path.joined(separator: " ")): '\(word)' is not a \(path.joined(separator: " ")) command. The commands: \(known.joined(separator: ", ")).\n"
            if let hint = suggestion(for: word, path: Array(path.dropFirst()), among: known) {
                text += "Did you mean '\(hint)'?\n"
            }
            text += "See '\(path.joined(separator: " ")) --help'.\n"
            return text
        }
        return nil
    }

    static func names(of c: ParsableCommand.Type) -> [String] { [c._commandName] + c.configuration.aliases }

    /// The nearest command: a classic tool's netlab name (`injector` -> `netlab inject`), else the
    /// name within two edits (or a third of the word), else a name the word begins or is the start of.
    static func suggestion(for word: String, path: [String], among known: [String]) -> String? {
        let prefix = (["netlab"] + path).joined(separator: " ")
        let w = word.lowercased()
        if path.isEmpty, let c = classic.first(where: { $0.name == w }) {
            return "netlab " + c.words.joined(separator: " ")
        }
        let scored = known.map { (name: $0, d: editDistance(w, $0)) }.sorted { $0.d < $1.d }
        if let best = scored.first, best.d <= max(2, w.count / 3) { return "\(prefix) \(best.name)" }
        if let p = known.first(where: { w.hasPrefix($0) || ($0.hasPrefix(w) && w.count >= 2) }) {
            return "\(prefix) \(p)"
        }
        return nil
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
    /// neighbours each count one ("srever" is one swap from "server").
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    // MARK: - The running executable and the installed data

    /// The running executable, from /proc/self/exe: never the current folder or argv[0].
    static func executable() throws -> String {
        let path: String
        do {
            path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw LabError(message: "cannot find the running executable through /proc/self/exe: \(error.localizedDescription)")
        }
        if path.hasSuffix(" (deleted)") {
            throw LabError(message: "\(path.dropLast(10)) was removed or replaced while it ran (a rebuild or an upgrade): run it again")
        }
        return path
    }

    /// The argument vector that runs a classic tool through the running executable:
    /// "echoserver" -> [/usr/bin/netlab, "echo", "server"]. One binary holds every command, so the
    /// lab's tools are always the lab's own version.
    static func tool(_ name: String) throws -> [String] {
        guard let c = classic.first(where: { $0.name == name }) else {
            throw LabError(message: "no netlab tool named \(name)")
        }
        let exe = try executable()
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw LabError(message: "\(exe) is missing or not executable: reinstall netlab (apt-get install --reinstall netlab, or make install)")
        }
        return [exe] + c.words
    }

    /// The source checkout this binary was built from (Sources/NetlabCLI/Front.swift is here).
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A file netlab ships (e.g. "samples/in-proj.txt"), found from the running executable: an
    /// installed netlab's PREFIX/share/netlab/FILE (the executable is PREFIX/bin/netlab), or, for a
    /// binary inside the source checkout it was built from (.build/...), the checkout's FILE.
    /// Never through the current folder. Missing, the error names where it should be and what to reinstall.
    public static func dataFile(_ rel: String) throws -> String {
        let exe = (try? executable()) ?? CommandLine.arguments[0]
        let prefix = URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent()
        let installed = prefix.appendingPathComponent("share/netlab").appendingPathComponent(rel).path
        if FileManager.default.fileExists(atPath: installed) { return installed }
        if exe.hasPrefix(sourceRoot + "/") {
            let p = URL(fileURLWithPath: sourceRoot).appendingPathComponent(rel).path
            if FileManager.default.fileExists(atPath: p) { return p }
            throw LabError(message: "\(p) is missing from the source checkout \(sourceRoot) (git checkout -- \(rel))")
        }
        throw LabError(message: "\(installed) is missing: reinstall netlab (apt-get install --reinstall netlab, or make install)")
    }
}
