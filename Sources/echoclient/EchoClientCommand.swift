// echoclient: sends a file line by line to an echoserver and shows each line
// with its answer. Argument parsing only; the client is libnetlab's
// nl_echo_client_run, which also checks every answer.
import ArgumentParser
import Foundation
import Netlab

struct EchoClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echoclient",
        abstract: "Send each line of a file to an echoserver; print the line sent and the answer.",
        discussion: """
        Lines end with LF or CRLF; any length, any character (spaces at either end, empty lines) \
        round-trips exactly. Exits 1 if an answer is not the line reversed with its case swapped.
        """)

    @Option(help: "Server host name or address.")
    var host = "localhost"

    @Option(help: "Server TCP port.")
    var port = 7007

    @Option(help: "File whose lines are sent.")
    var input = "in-proj.txt"

    @Option(help: "Seconds to wait for each answer.")
    var timeout = 10.0

    mutating func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port): give 1-65535") }
        guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout \(timeout): give 0.001-3600 seconds") }
        guard !input.isEmpty else { throw ValidationError("--input: give a file name") }
    }

    func run() throws {
        var o = EchoClientOptions()
        o.host = host
        o.port = UInt16(port)
        o.inputPath = input
        o.timeout = timeout
        guard try reportingFailure("echoclient", {
            try EchoClient.run(o)
        }) else { throw ExitCode.failure }
    }
}
