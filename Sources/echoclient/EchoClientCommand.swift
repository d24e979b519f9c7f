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

        A server that greets (speaks first) is waited for --greeting-wait seconds (2) before the first \
        line is sent; a server that does not is then sent to, and the client says so. --no-greeting sends \
        at once. A greeting that arrives after the first line went is still told from the first answer.
        """)

    @Option(help: "Server host name or address.")
    var host = "localhost"

    @Option(help: "Server TCP port.")
    var port = 7007

    @Option(help: "File whose lines are sent.")
    var input = "in-proj.txt"

    @Option(help: "Seconds to wait for each answer.")
    var timeout = 10.0

    @Option(name: .customLong("greeting-wait"), help: "Seconds to wait for the server's greeting before sending without one.")
    var greetingWait = 2.0

    @Flag(name: .customLong("no-greeting"), help: "The server sends no greeting: send the first line at once.")
    var noGreeting = false

    mutating func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port): give 1-65535") }
        guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout \(timeout): give 0.001-3600 seconds") }
        guard !input.isEmpty else { throw ValidationError("--input: give a file name") }
        guard greetingWait > 0 && greetingWait <= 3600 else {
            throw ValidationError("--greeting-wait \(greetingWait): give 0.001-3600 seconds (--no-greeting sends at once)")
        }
    }

    func run() throws {
        var o = EchoClientOptions()
        o.host = host
        o.port = UInt16(port)
        o.inputPath = input
        o.timeout = timeout
        o.greetingWait = noGreeting ? 0 : greetingWait
        guard try reportingFailure("echoclient", {
            try EchoClient.run(o)
        }) else { throw ExitCode.failure }
    }
}
