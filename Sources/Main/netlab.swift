// `netlab <command>`: every tool behind one front door (Sources/NetlabCLI/Front.swift).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main() }
}
