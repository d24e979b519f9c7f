// chatclient: the interactive client of the netlab chat server. Argument
// parsing only; the client (poll on the terminal and the socket, commands,
// safe display) is libnetlab's nl_chat_client_run.
import ArgumentParser
import Foundation
import Netlab

struct ChatClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatclient",
        abstract: "Chat with other users of a chatserver: /chat bob, /accept bob, then type.",
        discussion: """
        Commands: /nick NAME, /list, /who NAME, /chat NAME, /accept NAME, /decline NAME, /to NAME, \
        /msg NAME TEXT, /leave [NAME], /sessions, /join, /part, /say TEXT, /ping, /raw LINE, /quit, \
        /help. Any other line goes to the current session. Messages arrive while you type. Input \
        from a pipe works too: each line is a command or a message, and QUIT is sent at its end. \
        Exits non-zero if the server goes away.
        """)

    @Option(help: "Server host name or address.")
    var host = "localhost"

    @Option(help: "Server TCP port.")
    var port = 7000

    @Option(help: "Register with this name at once.")
    var nick: String?

    @Flag(help: "Show the server's protocol lines as they are (still made safe for the terminal).")
    var raw = false

    @Option(help: "Servers of a cluster, host:port,host:port,... (instead of --host/--port): when the one in use goes, the client connects to the next, registers the same name again and says so.")
    var server: String?

    mutating func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port): give 1-65535") }
        if let server {
            for item in server.split(separator: ",", omittingEmptySubsequences: false) {
                guard let colon = item.lastIndex(of: ":"), colon != item.startIndex,
                      let p = Int(item[item.index(after: colon)...]), (1...65535).contains(p) else {
                    throw ValidationError("--server \(server): give host:port[,host:port...]")
                }
            }
        }
        if let nick {
            guard chatNameValid(nick) else { throw ValidationError("--nick \(nick): use 1-32 characters from A-Z a-z 0-9 _ -") }
        }
    }

    func run() throws {
        var o = ChatClientOptions()
        o.host = host
        o.port = UInt16(port)
        o.nick = nick
        o.raw = raw
        o.servers = server
        guard try reportingFailure("chatclient", {
            try ChatClient.run(o)
        }) else { throw ExitCode.failure }
    }
}
