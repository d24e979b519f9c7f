// The classic tools under their netlab names: `netlab inject` is `injector`, `netlab chat
// server` is `chatserver`, and so on. Each is the same command (options, help, behaviour)
// under another name; nothing here parses or decides anything of its own.
import ArgumentParser

/// A classic tool registered under another name: its options are the tool's own.
protocol Renamed: ParsableCommand {
    associatedtype Tool: ParsableCommand
    var tool: Tool { get set }
}

extension Renamed {
    mutating func run() throws { try tool.run() }
}

extension CommandConfiguration {
    /// The same command under another name.
    func named(_ name: String) -> CommandConfiguration {
        var c = self
        c.commandName = name
        return c
    }
}

struct InjectCommand: Renamed {
    static let configuration = InjectorCommand.configuration.named("inject")
    @OptionGroup var tool: InjectorCommand
}

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "The chat server and its client (netlab's text protocol, docs/PROTOCOL.md).",
        subcommands: [Server.self, Client.self])

    struct Server: Renamed {
        static let configuration = ChatServerCommand.configuration.named("server")
        @OptionGroup var tool: ChatServerCommand
    }

    struct Client: Renamed {
        static let configuration = ChatClientCommand.configuration.named("client")
        @OptionGroup var tool: ChatClientCommand
    }
}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "The echo assignment's server (greets, answers each line reversed, case swapped) and client.",
        subcommands: [Server.self, Client.self])

    struct Server: Renamed {
        static let configuration = EchoServerCommand.configuration.named("server")
        @OptionGroup var tool: EchoServerCommand
    }

    struct Client: Renamed {
        static let configuration = EchoClientCommand.configuration.named("client")
        @OptionGroup var tool: EchoClientCommand
    }
}
