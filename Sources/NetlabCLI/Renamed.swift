// The classic tools under their netlab names: `netlab inject` is `injector`, `netlab chat
// server` is `chatserver`, and so on. Each is the same command (options, help, behaviour)
// under another name; nothing here parses or decides anything of its own.
import ArgumentParser

/// A name a classic tool takes under netlab.
protocol CommandWord { static var word: String { get } }
enum InjectWord: CommandWord { static let word = "inject" }
enum ServerWord: CommandWord { static let word = "server" }
enum ClientWord: CommandWord { static let word = "client" }

/// A classic tool registered under another name: its options are the tool's own.
struct Renamed<Tool: ParsableCommand, Name: CommandWord>: ParsableCommand {
    static var configuration: CommandConfiguration {
        var c = Tool.configuration
        c.commandName = Name.word
        return c
    }

    @OptionGroup var tool: Tool

    mutating func run() throws { try tool.run() }
}

typealias InjectCommand = Renamed<InjectorCommand, InjectWord>

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "The chat server and its client (netlab's text protocol, docs/PROTOCOL.md).",
        subcommands: [Renamed<ChatServerCommand, ServerWord>.self, Renamed<ChatClientCommand, ClientWord>.self])
}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "The echo assignment's server (greets, answers each line reversed, case swapped) and client.",
        subcommands: [Renamed<EchoServerCommand, ServerWord>.self, Renamed<EchoClientCommand, ClientWord>.self])
}
