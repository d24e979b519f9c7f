// echoserver: greets each client and answers every line reversed with its
// case swapped, appending each answer to a file. Argument parsing only; the
// server is libnetlab's nl_echo_server_run.
import ArgumentParser
import Foundation
import Netlab

struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echoserver",
        abstract: "Answer every line reversed with its case swapped (HELLO -> olleh).",
        discussion: """
        Prints its host name and addresses, then each client's address and port. Try it with:
          echoserver --port 7007
          printf 'Hello World\\n' | nc -N localhost 7007
        Each answer is appended to the output file with its own write(2), before it is sent, so \
        nothing a client has seen can be missing from the file after a crash.
        """)

    @Option(help: "Address to listen on (default: every address, IPv4 and IPv6).")
    var host: String?

    @Option(help: "TCP port to listen on; 0 picks a free one and prints it.")
    var port = 7007

    @Option(help: "First line sent to every client (empty: none).")
    var greeting = "Welcome to netlab!"

    @Option(help: "File each answer is appended to.")
    var output = "out-proj.txt"

    @Flag(name: .customLong("no-output"), help: "Keep no output file.")
    var noOutput = false

    @Flag(name: .customLong("line-output"),
          help: "One write(2) per answer instead of one per loop pass (either way each answer is in the file before it is sent).")
    var lineOutput = false

    @Option(name: .customLong("max-line"), help: "Longest line answered, in bytes.")
    var maxLine = 1 << 20

    @Option(name: .customLong("max-input"),
            help: "Bytes of unfinished lines (no LF yet) held across all clients; past it the largest is dropped with an ERR reply (default 128 MiB).")
    var maxInput: Int?

    @Option(name: .customLong("max-clients"), help: "Most clients at once (default: as many as the open-file limit allows).")
    var maxClients = 0

    @Option(name: .customLong("idle-timeout"), help: "Seconds a client may send and receive nothing (0: no limit).")
    var idleTimeout = 300.0

    @Flag(help: "Print only the start (with the port) and the end, nothing per client.")
    var quiet = false

    mutating func validate() throws {
        if let maxInput, maxInput < 65536 || maxInput > 1 << 40 {
            throw ValidationError("--max-input \(maxInput): give 65536 to 1099511627776 bytes")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): give 0-65535") }
        guard !greeting.contains("\n") && !greeting.contains("\r") else {
            throw ValidationError("--greeting: must be one line")
        }
        guard (1...(1 << 30)).contains(maxLine) else { throw ValidationError("--max-line \(maxLine): give 1-1073741824") }
        guard maxClients >= 0 && maxClients <= 10_000_000 else { throw ValidationError("--max-clients \(maxClients): give 0 or more") }
        guard idleTimeout >= 0 && idleTimeout <= 86400 * 7 else { throw ValidationError("--idle-timeout \(idleTimeout): give 0-604800") }
        guard noOutput || !output.isEmpty else { throw ValidationError("--output: give a file name, or --no-output") }
    }

    func run() throws {
        var o = EchoServerOptions()
        o.host = host
        o.port = UInt16(port)
        o.greeting = greeting
        o.outputPath = noOutput ? nil : output
        o.batchOutput = !lineOutput
        o.maxLine = maxLine
        o.maxClients = UInt32(maxClients)
        o.maxInput = maxInput
        o.idleTimeout = idleTimeout
        o.log = !quiet
        guard try reportingFailure("echoserver", {
            try EchoServer.run(o)
        }) else { throw ExitCode.failure }
    }
}
