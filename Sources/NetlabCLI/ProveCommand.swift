// netlab prove: TCP experiments on the running kernel in packetdrill's script language, with a
// verdict a person can read, a capture and TCP_INFO timeline per run, and --explain. Arguments and
// printing only: the runs, verdicts and words are libnetlab's (CSources/netlab/prove/).
import ArgumentParser
import Foundation
import Netlab

struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Run TCP experiments (packetdrill scripts) against this kernel and explain them (docs/prove.md).",
        discussion: """
        netlab prove experiments/handshake.pkt
        netlab prove --explain --out runs experiments/
        Each script runs in a network and PID namespace of its own with a tun device tun0 (local 192.168.0.2, \
        remote 192.0.2.1); '<' lines are injected, '>' lines are what the kernel must send. \
        Exit status: 0 every line held; 1 a line did not (or a run failed); 2 privileges missing \
        (root: CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN); 64 a usage error; 65 a script syntax error.
        """)

    @Argument(help: "Scripts (.pkt files) or folders of them.")
    var scripts: [String] = []

    @Flag(help: "Print the whole run as JSON (one object per script, in an array).")
    var json = false

    @Flag(help: "Say what each line does and why the kernel answered so, with the RFC clause.")
    var explain = false

    @Option(help: "Timing tolerance in milliseconds (default: measured from this machine's scheduling jitter).")
    var tolerance: Double?

    @Option(help: "Folder for each run's capture (NAME.pcapng) and TCP_INFO timeline (NAME.timeline.csv).")
    var out: String = "prove-out"

    @Option(name: .customShort("D"), help: ArgumentHelp(
        "A definition as packetdrill's -D: the word NAME in the scripts reads as VALUE, a Fast Open cookie too (FO TFO_COOKIE) (repeatable).",
        valueName: "NAME=VALUE"))
    var define: [String] = []

    @Option(help: "tun0's MTU, as packetdrill's --mtu (the MSS the kernel announces follows it; default 1500).")
    var mtu: Int?

    @Option(name: [.customLong("ip-version"), .customLong("ip_version")],
            help: "The address mode as packetdrill's --ip_version: ipv4, ipv4-mapped-ipv6 or ipv6 (default: the script's).")
    var ipVersion: String?

    var defines: String? { define.isEmpty ? nil : define.joined(separator: "\n") }

    func validate() throws {
        for d in define where d.firstIndex(of: "=") == nil || d.hasPrefix("=") || d.contains("\n") {
            throw ValidationError("-D \(d): give NAME=VALUE (e.g. -D CMSG_LEVEL_IP=SOL_IP)")
        }
        if let ipVersion, ProveRun.ipVersion(ipVersion) == nil {
            throw ValidationError("--ip-version \(ipVersion): give ipv4, ipv4-mapped-ipv6 or ipv6")
        }
        if let mtu, !(mtu >= 1280 && mtu <= 65535) {
            throw ValidationError("--mtu \(mtu): give an MTU from 1280 to 65535 (e.g. 1520)")
        }
        if scripts.isEmpty { throw ValidationError("give a script (.pkt) or a folder of scripts") }
        for d in define where !(d.contains("=") && d.first != "=") {
            throw ValidationError("-D \(d): give NAME=VALUE (e.g. -D TFO_COOKIE=3021b9d889017eeb)")
        }
        if let tolerance, !(tolerance > 0 && tolerance <= 10000) {
            throw ValidationError("--tolerance \(tolerance): give milliseconds from 0 to 10000 (e.g. 10)")
        }
    }

    func run() throws {
        var paths: [String] = []
        for s in scripts {
            do { paths += try ProveRun.scripts(in: s) } catch let e as NetlabError {
                complain(e.message)
                throw ExitCode(64)
            }
        }
        // Every script's syntax first: a typo in the fifth script stops nothing half-run.
        for p in paths {
            do { try ProveRun.checkSyntax(p, defines: defines) } catch let e as NetlabError {
                complain(e.message)
                throw ExitCode(e.isMalformed ? 65 : 1)
            }
        }
        do { try ProveRun.checkPrivileges() } catch let e as NetlabError {
            complain(e.message)
            throw ExitCode(2)
        }
        var failed = 0
        var jsonItems: [String] = []
        for p in paths {
            do {
                let r = try ProveRun(script: p, explain: explain, toleranceMs: tolerance ?? 0, outDir: out,
                                     defines: defines, mtu: mtu ?? 0,
                                     ipVersion: ipVersion.flatMap(ProveRun.ipVersion) ?? 0)
                if json { jsonItems.append(r.json) } else { print(r.text, terminator: paths.count > 1 ? "\n" : "") }
                if !r.passed { failed += 1 }
            } catch let e as NetlabError {
                complain(e.message)
                if e.isInterrupted { throw ExitCode(130) }
                if e.isPermission { throw ExitCode(2) }
                failed += 1
            }
            fflush(stdout)
        }
        if json { print("[" + jsonItems.joined(separator: ",\n") + "]") }
        if !json && paths.count > 1 {
            print("\(paths.count - failed) of \(paths.count) scripts held")
        }
        if failed > 0 { throw ExitCode.failure }
    }

    func complain(_ message: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data("netlab prove: \(message)\n".utf8))
    }
}
