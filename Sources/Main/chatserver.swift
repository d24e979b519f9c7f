// `chatserver`: the design card's name for one netlab command (swift run chatserver).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "chatserver") }
}
