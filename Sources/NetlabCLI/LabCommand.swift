// netlab lab: the exercise on one machine. Two network namespaces joined by a
// veth pair; the echo server and client on one host and on two; hand-built
// packets delivered to the real echo server; the chat server with three clients;
// every capture written to the output folder; the report at the end. Whatever
// happens, everything it created is removed.
import ArgumentParser
import Foundation
import Netlab

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run the whole exercise in two network namespaces and write the captures and the report (root).",
        discussion: """
        Creates two hosts (network namespaces nllab-PID-0-c and -s, 10.99.0.1 and 10.99.0.2 on a veth pair), then:
        part 1, echo server and client on one host (loopback); part 2, on two hosts; the delivery proof, \
        `injector --deliver` opening a TCP connection of hand-built packets to the real echo server; part 3, the \
        chat server with three clients. Each is captured on "any" into OUT/part*.pcap. The assignment exactly: \
        `--greeting "Welcome to CS 352!" --port N --input in-proj.txt` (the server's greeting, its port, the lines \
        the client sends); runs from any folder, its tools found next to the running executable. Ctrl-C, a failure or a \
        crash never leaves a namespace or process behind (the next run removes what a crash left).

        --scenario cluster: the chat cluster instead. A third host (namespace -t, 10.99.2.2) hangs off the \
        client one (10.99.2.1); redis-server runs in the client namespace on 10.99.0.1 and 10.99.2.1 port 6379, \
        chat server "a" in the server namespace (10.99.0.2) and "b" in the third (10.99.2.2), both with \
        --cluster; users in the client namespace talk across the two servers. Captured on "any" in the client \
        namespace into OUT/cluster.pcap, which every packet crosses once; `analyze` on it names each \
        conversation "client <-> chat server" or "chat server <-> Redis" (OUT/cluster-analyze.txt, .json).
        """)

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case exercise, cluster
    }

    @Option(help: "What to run: exercise (echo, delivery, chat: the default) or cluster (two chat servers and Redis).")
    var scenario: Scenario = .exercise

    @Option(name: .customLong("out"), help: "Folder for the captures, logs and the report.")
    var out = "lab-out"

    @Option(name: .customLong("csv"), help: "Messages for the delivery part, and the echo parts' lines unless --input (default: the bundled sample).")
    var csv: String?

    @Option(name: .customLong("input"), help: "Your own lines for the echo parts (the assignment's in-proj.txt); default: the CSV's messages.")
    var input: String?

    @Flag(name: .customLong("no-color"), help: "Never colour the output (NO_COLOR is honoured too).")
    var noColor = false

    @Option(help: "TCP port of the echo server.")
    var port: UInt16 = 12345

    @Option(help: "The echo server's greeting, the first line every client receives (the assignment's: \"Welcome to CS 352!\"); empty: none.")
    var greeting = EchoServerOptions().greeting

    @Option(name: .customLong("chat-port"), help: "TCP port of the chat server.")
    var chatPort: UInt16 = 7000

    @Flag(inversion: .prefixedNo, help: "Write report.html and report.md at the end.")
    var report = true

    @Flag(name: .customLong("fail-after"), help: .hidden)
    var failAfterNamespaces = false

    @Option(name: .customLong("impair"),
            help: "Impair the link between the hosts, e.g. loss=2%,rate=8mbit,delay=20ms (any subset); adds a bulk transfer (2 MiB; what the rate carries in 30 s if less). Loss: 0.000001% to 50%, above 10% near 1 in N (50, 33.3, 25, 20, 16.7, 14.3, 12.5, 11.1). netem where the kernel has it, else tbf + nftables (delay needs netem).")
    var impair: String?

    func validate() throws {
        guard port != 0 else { throw ValidationError("--port 0: give the echo server's port, 1-65535") }
        guard port != chatPort else { throw ValidationError("--port \(port) is also --chat-port: give the two servers different ports") }
        guard !greeting.contains("\n") && !greeting.contains("\r") else {
            throw ValidationError("--greeting: must be one line (the echo server sends it with one LF)")
        }
        try validateImpair()
    }

    func run() throws {
        do {
            try Lab(options: self).run()
        } catch let e as NetlabError {
            let text = e.isInterrupted ? "interrupted: everything the lab started has been removed" : e.message
            FileHandle.standardError.write(Data("netlab lab: \(text)\n".utf8))
            throw ExitCode.failure
        } catch let e as LabError {
            FileHandle.standardError.write(Data("netlab lab: \(e.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// One run of the lab: owns the namespaces and every process it starts.
final class Lab {
    let o: LabCommand
    let outDir: URL
    var net: LabNet?
    var pids: [pid_t] = []
    var results: [String] = []
    var failures: [String] = []
    var impairment: ImpairApplied?

    init(options: LabCommand) {
        o = options
        outDir = URL(fileURLWithPath: options.out).standardizedFileURL
    }

    func say(_ s: String) { print(s) ; fflush(stdout) }

    func path(_ name: String) -> String { outDir.appendingPathComponent(name).path }

    /// The argument vector of a tool the lab runs: the running netlab with the tool's command
    /// ("echoserver" -> netlab echo server), found through /proc/self/exe, never the current folder.
    func tool(_ name: String) throws -> [String] { try Front.tool(name) }

    func checkStop() throws {
        if Proc.stopRequested { throw LabError(message: "interrupted: everything the lab started has been removed") }
    }

    func run() throws {
        guard LabNet.permitted else {
            throw LabError(message: "the lab creates network namespaces and captures packets: it needs root (sudo)")
        }
        // What the run reads, and the executable its tools run from, before anything is created.
        _ = try tool("capture")
        let messages = try MessageSet(path: try o.csv ?? LabFiles.sample())
        let inputLines = try o.input.map { try LabFiles.lines(ofFile: $0) }
        try Capture.stopOnSignals()
        Proc.holdRepeatedSignals()  // Ctrl-C twice must not cut the clean-up short (a third still ends it)
        let stale = try LabNet.cleanupStale()
        if stale > 0 { say("removed \(stale) namespaces left by an earlier run that crashed") }
        // A run that stops before its checks are written leaves no folder it created: the output
        // folder and any of its parents it had to make.
        var created: URL?
        var up = outDir
        while !FileManager.default.fileExists(atPath: up.path) && up.path != "/" {
            created = up
            up = up.deletingLastPathComponent()
        }
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        do {
            try run(messages: messages, inputLines: inputLines)
        } catch {
            if let created, !completed { try? FileManager.default.removeItem(at: created) }
            throw error
        }
    }

    /// Set once results.txt is written: from then on the output folder is the run's result, kept
    /// even when a check failed.
    var completed = false

    private func run(messages: MessageSet, inputLines: [String]?) throws {
        defer { cleanup() }
        let net = try LabNet(tag: 0)
        self.net = net
        say("two hosts: \(net.clientNamespace) (\(net.clientIP), \(net.clientInterface)) <-> \(net.serverNamespace) (\(net.serverIP), \(net.serverInterface))")
        if o.failAfterNamespaces { throw LabError(message: "stopping as asked (--fail-after), to show the clean-up") }
        if o.scenario == .cluster {
            try net.addThird()
            say("third host: \(net.thirdNamespace) (\(net.thirdIP)) <-> \(net.clientNamespace) (\(net.clientIP2))")
            try clusterScenario()
            try results.map { $0 + "\n" }.joined().write(toFile: path("results.txt"), atomically: true, encoding: .utf8)
            completed = true
            say("")
            for r in results { say(r) }
            if !failures.isEmpty {
                throw LabError(message: "\(failures.count) check\(failures.count == 1 ? "" : "s") failed: "
                               + failures.joined(separator: "; "))
            }
            return
        }
        try recordInterfaces(net)
        let csvLines = LabFiles.lines(of: messages)
        let lines = inputLines ?? csvLines
        try OutputFile.write(lines.map { $0 + "\n" }.joined(), to: path("in-proj.txt"))

        try checkStop()
        try echoScenario(name: "part1", title: "part 1: echo on one host (loopback)", serverNS: net.clientNamespace,
                         serverIP: "127.0.0.1", lines: lines)
        try checkStop()
        try applyImpairment()
        try echoScenario(name: "part2", title: "part 2: echo across two hosts", serverNS: net.serverNamespace,
                         serverIP: net.serverIP, lines: lines)
        try checkStop()
        try liftImpairment()
        try deliveryProof(messages: messages, lines: csvLines)
        try checkStop()
        try restoreImpairment()
        try chatScenario()
        try checkStop()
        try impairedScenarios()
        try checkStop()
        try OutputFile.write(results.map { $0 + "\n" }.joined(), to: path("results.txt"))
        completed = true
        if o.report {
            var writer = ReportWriter(labDir: outDir, csv: try o.csv ?? LabFiles.sample(), input: path("in-proj.txt"))
            var files = try writer.write()
            do { files.append(try writer.writePDF()) } catch let e as LabError { say("report.pdf: \(e.message)") }
            say("report: \(files.joined(separator: ", "))")
        }
        say("")
        for r in results { say(r) }
        if !failures.isEmpty {
            throw LabError(message: "\(failures.count) check\(failures.count == 1 ? "" : "s") failed: " + failures.joined(separator: "; "))
        }
    }

    /// The client namespace's interface indexes and names: captures on "any" record only the index.
    func recordInterfaces(_ net: LabNet) throws {
        let r = try Proc.run(["ip", "-o", "link"], netns: net.clientNamespace, timeout: 10)
        var out = ""
        for line in r.output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2)
            guard parts.count >= 2, let idx = Int(parts[0].trimmingCharacters(in: .whitespaces)) else { continue }
            let name = parts[1].trimmingCharacters(in: .whitespaces).split(separator: "@")[0]
            out += "\(idx) \(name)\n"
        }
        try OutputFile.write(out, to: path("interfaces.txt"))
    }

    func cleanup() {
        for pid in pids.reversed() { Proc.stop(pid, grace: 2) }
        pids.removeAll()
        if let net {
            do { try net.destroy() } catch { FileHandle.standardError.write(Data("netlab lab: clean-up: \(error)\n".utf8)) }
            let third = net.thirdNamespace
            say("removed the namespaces \(net.clientNamespace) and \(net.serverNamespace)" + (third.isEmpty ? "" : " and \(third)"))
        }
        net = nil
    }

    /// Waits until `text` appears in the log file (a program said it is ready).
    func waitFor(_ text: String, in log: String, pid: pid_t, timeout: Double = 10) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let s = try? String(contentsOfFile: log, encoding: .utf8), s.contains(text) { return }
            if !processAlive(pid) {
                let s = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw LabError(message: "\(log): the program ended before it was ready: \(s.suffix(300))")
            }
            try checkStop()
            usleep(20_000)
        }
        throw LabError(message: "\(log): '\(text)' did not appear within \(Int(timeout)) s")
    }

    /// Alive, or reaped now (and then forgotten, so clean-up never signals a recycled PID).
    func processAlive(_ pid: pid_t) -> Bool {
        var st: Int32 = 0
        if waitpid(pid, &st, WNOHANG) == 0 { return true }
        pids.removeAll { $0 == pid }
        return false
    }

    func startCapture(_ file: String, ns: String, filter: [String]) throws -> pid_t {
        let log = path(file + ".log")
        try? FileManager.default.removeItem(atPath: log)
        let pid = try Proc.spawn(try tool("capture") + ["-i", "any", "-w", path(file)] + filter, netns: ns, log: log)
        pids.append(pid)
        try waitFor("listening on", in: log, pid: pid)
        return pid
    }

    func stopProcess(_ pid: pid_t) {
        Proc.stop(pid, grace: 5)
        pids.removeAll { $0 == pid }
    }

    func startEchoServer(ns: String, ip: String, output: String, log: String) throws -> pid_t {
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: log)
        let pid = try Proc.spawn(try tool("echoserver") + ["--host", ip, "--port", String(o.port), "--output", output,
                                                            "--greeting", o.greeting], netns: ns, log: log)
        pids.append(pid)
        try waitFor("listening", in: log, pid: pid)
        return pid
    }

    func check(_ ok: Bool, _ what: String) {
        if ok { results.append("OK    " + what) } else { results.append("FAIL  " + what); failures.append(what) }
    }

    func echoScenario(name: String, title: String, serverNS: String, serverIP: String, lines: [String]) throws {
        guard let net else { return }
        say("\(title): echo server on \(serverIP):\(o.port), client in \(net.clientNamespace), capture on any")
        let cap = try startCapture("\(name).pcap", ns: net.clientNamespace, filter: ["tcp", "port", String(o.port)])
        let server = try startEchoServer(ns: serverNS, ip: serverIP, output: path("\(name)-out-proj.txt"),
                                         log: path("\(name)-server.log"))
        let client = try Proc.run(try tool("echoclient") + ["--host", serverIP, "--port", String(o.port), "--input",
                                   path("in-proj.txt")], netns: net.clientNamespace, timeout: 60)
        try OutputFile.write(client.output, to: path("\(name)-client.log"))
        usleep(200_000)
        stopProcess(cap)
        stopProcess(server)
        let expected = lines.map { String(decoding: EchoServer.transform(Array($0.utf8)), as: UTF8.self) + "\n" }.joined()
        let got = (try? String(contentsOfFile: path("\(name)-out-proj.txt"), encoding: .utf8)) ?? ""
        check(client.status == 0, "\(name): echoclient got every line back reversed with its case swapped")
        check(o.greeting.isEmpty ? !client.output.contains("greeting: ") : client.output.contains("greeting: \(o.greeting)\n"),
              "\(name): " + (o.greeting.isEmpty ? "the server sent no greeting" : "the client received the greeting \"\(o.greeting)\""))
        check(got == expected, "\(name): the server's output file holds exactly the \(lines.count) transformed lines")
        try tsharkReads("\(name).pcap")
    }

    func tsharkReads(_ file: String) throws {
        let r = try Proc.run(["tshark", "-r", path(file), "-q", "-z", "io,stat,0"], timeout: 60)
        check(r.status == 0 && !r.output.contains("appears to be damaged"), "\(file): tshark reads it without errors")
    }

    func deliveryProof(messages: MessageSet, lines: [String]) throws {
        guard let net else { return }
        say("delivery proof: injector --deliver opens a TCP connection of hand-built packets to the echo server")
        let srcPort = "40001"
        // Only inside the client namespace: its kernel must not reset the connection it does not know.
        for rule in [["add", "table", "ip", "netlab"],
                     ["add", "chain", "ip", "netlab", "out", "{ type filter hook output priority 0; }"],
                     ["add", "rule", "ip", "netlab", "out", "tcp", "sport", srcPort, "tcp", "flags", "rst", "drop"]] {
            let r = try Proc.run(["nft"] + rule, netns: net.clientNamespace, timeout: 10)
            guard r.status == 0 else { throw LabError(message: "nft \(rule.joined(separator: " ")): \(r.output)") }
        }
        let cap = try startCapture("deliver.pcap", ns: net.clientNamespace, filter: ["tcp", "port", String(o.port)])
        let server = try startEchoServer(ns: net.serverNamespace, ip: net.serverIP, output: path("deliver-out-proj.txt"),
                                         log: path("deliver-server.log"))
        // Every message goes from the client here, so the CSV given to --deliver and --expect says so.
        let csvPath = path("deliver-messages.csv")
        try OutputFile.write(LabFiles.clientToServerCSV(messages), to: csvPath)
        let d = try Proc.run(try tool("injector") + [csvPath, "--deliver", "--src-ip", net.clientIP, "--dst-ip", net.serverIP,
                              "--dst-port", String(o.port), "--src-port", srcPort, "--expect-lines",
                              String(lines.count + (o.greeting.isEmpty ? 0 : 1))], netns: net.clientNamespace, timeout: 90)
        try OutputFile.write(d.output, to: path("deliver.log"))
        usleep(300_000)
        stopProcess(cap)
        stopProcess(server)
        // The kernel's resets are its business again from here on.
        _ = try? Proc.run(["nft", "delete", "table", "ip", "netlab"], netns: net.clientNamespace, timeout: 10)
        check(d.status == 0, "delivery: the connection opened, carried every message and closed (deliver.log)")
        let expected = lines.map { String(decoding: EchoServer.transform(Array($0.utf8)), as: UTF8.self) + "\n" }.joined()
        let got = (try? String(contentsOfFile: path("deliver-out-proj.txt"), encoding: .utf8)) ?? ""
        check(got == expected, "delivery: the echo server's output holds exactly the \(lines.count) transformed lines, in order")
        let flags = try Proc.run(["tshark", "-r", path("deliver.pcap"), "-Y", "tcp.analysis.flags", "-T", "fields",
                                  "-e", "frame.number"], timeout: 60)
        let flagged = flags.output.split(separator: "\n").filter { Int($0) != nil }
        check(flags.status == 0 && flagged.isEmpty,
              "delivery: tshark reports no TCP analysis warnings for the stream" +
              (flagged.isEmpty ? "" : " (flagged frames: \(flagged.joined(separator: ", ")))"))
        let exp = try Proc.run(try tool("analyze") + [path("deliver.pcap"), "--expect", csvPath], timeout: 60)
        try OutputFile.write(exp.output, to: path("deliver-expect.txt"))
        check(exp.status == 0, "delivery: analyze --expect finds every message intact, in order (deliver-expect.txt)")
    }

    func chatScenario() throws {
        guard let net else { return }
        say("part 3: chat server on \(net.serverIP):\(o.chatPort) with three clients, capture on any")
        let cap = try startCapture("part3.pcap", ns: net.clientNamespace, filter: ["tcp", "port", String(o.chatPort)])
        let slog = path("part3-server.log")
        try? FileManager.default.removeItem(atPath: slog)
        let server = try Proc.spawn(try tool("chatserver") + ["--host", net.serverIP, "--port", String(o.chatPort)],
                                    netns: net.serverNamespace, log: slog)
        pids.append(server)
        try waitFor("listening", in: slog, pid: server)
        var clients: [String: (pid: pid_t, input: Int32)] = [:]
        for nick in ["alice", "bob", "carol"] {
            let log = path("part3-\(nick).log")
            try? FileManager.default.removeItem(atPath: log)
            let c = try Proc.spawnWithInput(try tool("chatclient") + ["--host", net.serverIP, "--port", String(o.chatPort),
                                             "--nick", nick], netns: net.clientNamespace, log: log)
            pids.append(c.pid)
            clients[nick] = c
        }
        // Each step waits until its effect shows in the client's output (up to 10 s): on a lossy
        // link a segment may arrive a retransmission timeout later, and the next step depends on it.
        // (A stop request ends each wait at once: checkStop.)
        func shows(_ nick: String, _ text: String) throws {
            for _ in 0..<400 {
                if let s = try? String(contentsOfFile: path("part3-\(nick).log"), encoding: .utf8), s.contains(text) { return }
                try checkStop()
                usleep(25_000)
            }
        }
        func send(_ nick: String, _ line: String, until: (String, String)? = nil) throws {
            do {  // a client that went away is the checks' to report; only a stop request ends the part
                try Proc.feed(clients[nick]!.input, Array((line + "\n").utf8), timeout: 10)
            } catch let e as NetlabError where !e.isInterrupted {}
            usleep(250_000)
            if let (who, text) = until { try shows(who, text) }
        }
        usleep(500_000)
        for nick in ["alice", "bob", "carol"] { try shows(nick, "you are \(nick)") }
        try send("alice", "/list", until: ("alice", "online"))
        try send("alice", "/chat bob", until: ("bob", "alice asks to chat"))
        try send("bob", "/accept alice", until: ("alice", "bob accepted"))
        try send("alice", "Hello Bob, this is Alice.", until: ("bob", "Hello Bob, this is Alice."))
        try send("bob", "Hi Alice! Bob here.", until: ("alice", "Hi Alice! Bob here."))
        try send("carol", "/chat alice", until: ("alice", "carol asks to chat"))
        try send("alice", "/accept carol", until: ("carol", "alice accepted"))
        try send("carol", "Hello Alice, it is Carol.", until: ("alice", "Hello Alice, it is Carol."))
        try send("alice", "/msg carol Welcome, Carol!", until: ("carol", "Welcome, Carol!"))
        for nick in ["carol", "bob", "alice"] {
            try send(nick, "/quit")
            close(clients[nick]!.input)
        }
        for nick in ["alice", "bob", "carol"] where (try? Proc.wait(clients[nick]!.pid, timeout: 5)) != nil {
            pids.removeAll { $0 == clients[nick]!.pid }  // still running: the clean-up stops it
        }
        try checkStop()
        usleep(200_000)
        stopProcess(cap)
        stopProcess(server)
        let bob = (try? String(contentsOfFile: path("part3-bob.log"), encoding: .utf8)) ?? ""
        let alice = (try? String(contentsOfFile: path("part3-alice.log"), encoding: .utf8)) ?? ""
        let carol = (try? String(contentsOfFile: path("part3-carol.log"), encoding: .utf8)) ?? ""
        check(bob.contains("Hello Bob, this is Alice."), "part3: bob received alice's message")
        check(alice.contains("Hi Alice! Bob here.") && alice.contains("Hello Alice, it is Carol."),
              "part3: alice received bob's and carol's messages")
        check(carol.contains("Welcome, Carol!"), "part3: carol received alice's message")
        try tsharkReads("part3.pcap")
    }

    /// Two chat servers joined through Redis, users on both, one capture; analyze tells the conversations apart.
    func clusterScenario() throws {
        guard let net else { return }
        let redisPort = "6379"
        say("cluster: redis-server in \(net.clientNamespace) on \(net.clientIP) and \(net.clientIP2):\(redisPort); "
            + "chat server a on \(net.serverIP):\(o.chatPort), b on \(net.thirdIP):\(o.chatPort); capture on any")
        let cap = try startCapture("cluster.pcap", ns: net.clientNamespace,
                                   filter: ["tcp", "port", String(o.chatPort), "or", "tcp", "port", redisPort])
        let rlog = path("cluster-redis.log")
        try? FileManager.default.removeItem(atPath: rlog)
        let redis = try Proc.spawn(["redis-server", "--bind", "\(net.clientIP) \(net.clientIP2)", "--port", redisPort,
                                    "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                                   netns: net.clientNamespace, log: rlog)
        pids.append(redis)
        try waitFor("Ready to accept connections", in: rlog, pid: redis)
        var servers: [pid_t] = []
        for (node, ns, ip, rip) in [("a", net.serverNamespace, net.serverIP, net.clientIP),
                                    ("b", net.thirdNamespace, net.thirdIP, net.clientIP2)] {
            let log = path("cluster-server-\(node).log")
            try? FileManager.default.removeItem(atPath: log)
            let pid = try Proc.spawn(try tool("chatserver") + ["--host", ip, "--port", String(o.chatPort),
                                      "--cluster", "redis://\(rip):\(redisPort)", "--node", node], netns: ns, log: log)
            pids.append(pid)
            servers.append(pid)
            try waitFor("listening", in: log, pid: pid)
        }
        usleep(300_000)
        var clients: [String: (pid: pid_t, input: Int32)] = [:]
        for (nick, ip) in [("alice", net.serverIP), ("bob", net.thirdIP), ("carol", net.thirdIP)] {
            let log = path("cluster-\(nick).log")
            try? FileManager.default.removeItem(atPath: log)
            let c = try Proc.spawnWithInput(try tool("chatclient") + ["--host", ip, "--port", String(o.chatPort),
                                             "--nick", nick], netns: net.clientNamespace, log: log)
            pids.append(c.pid)
            clients[nick] = c
            usleep(200_000)
        }
        func send(_ nick: String, _ line: String) {
            let data = Array((line + "\n").utf8)
            _ = data.withUnsafeBytes { write(clients[nick]!.input, $0.baseAddress, $0.count) }
            usleep(300_000)
        }
        usleep(500_000)
        send("alice", "/list")
        send("alice", "/chat bob")
        send("bob", "/accept alice")
        send("alice", "Hello Bob, this is Alice on server a.")
        send("bob", "Hi Alice! Bob here, on server b.")
        send("carol", "/chat alice")
        send("alice", "/accept carol")
        send("carol", "Hello Alice, it is Carol on server b.")
        send("alice", "/msg carol Welcome, Carol!")
        for nick in ["carol", "bob", "alice"] {
            send(nick, "/quit")
            close(clients[nick]!.input)
        }
        for nick in ["alice", "bob", "carol"] where (try? Proc.wait(clients[nick]!.pid, timeout: 5)) != nil {
            pids.removeAll { $0 == clients[nick]!.pid }  // still running: the clean-up stops it
        }
        try checkStop()
        usleep(300_000)
        for s in servers { stopProcess(s) }
        usleep(200_000)
        stopProcess(redis)
        usleep(200_000)
        stopProcess(cap)
        let read = { (n: String) in (try? String(contentsOfFile: self.path("cluster-\(n).log"), encoding: .utf8)) ?? "" }
        let alice = read("alice"), bob = read("bob"), carol = read("carol")
        check(alice.contains("alice") && alice.contains("bob") && alice.contains("carol"),
              "cluster: alice on server a lists bob and carol on server b")
        check(bob.contains("Hello Bob, this is Alice on server a."), "cluster: bob (server b) received alice's message (server a)")
        check(alice.contains("Hi Alice! Bob here, on server b.") && alice.contains("Hello Alice, it is Carol on server b."),
              "cluster: alice (server a) received bob's and carol's messages (server b)")
        check(carol.contains("Welcome, Carol!"), "cluster: carol (server b) received alice's message (server a)")
        try tsharkReads("cluster.pcap")
        let text = try Proc.run(try tool("analyze") + [path("cluster.pcap")], timeout: 60)
        try text.output.write(toFile: path("cluster-analyze.txt"), atomically: true, encoding: .utf8)
        let json = try Proc.run(try tool("analyze") + [path("cluster.pcap"), "--json"], timeout: 60)
        try json.output.write(toFile: path("cluster-analyze.json"), atomically: true, encoding: .utf8)
        // Each conversation's role against the ports the lab chose: users reach port chatPort, servers port 6379.
        var users = 0, toRedis = 0, wrong: [String] = []
        if let obj = try? JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any],
           let convs = obj["conversations"] as? [[String: Any]] {
            for c in convs where (c["protocol"] as? String) == "tcp" {
                let server = c["server"] as? String ?? "", role = c["role"] as? String ?? ""
                if server.hasSuffix(":\(o.chatPort)") && role == "client <-> chat server" { users += 1 }
                else if server.hasSuffix(":\(redisPort)") && role == "chat server <-> Redis" { toRedis += 1 }
                else { wrong.append("\(c["id"] ?? "?") \(server) '\(role)'") }
            }
        }
        check(json.status == 0 && users == 3 && toRedis >= 2 && wrong.isEmpty,
              "cluster: analyze names \(users) conversations client <-> chat server and \(toRedis) chat server <-> Redis"
              + (wrong.isEmpty ? "" : " (wrong: \(wrong.joined(separator: ", ")))") + " (cluster-analyze.txt)")
    }
}
