// `chatclient`: the design card's name for one netlab command (swift run chatclient).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "chatclient") }
}
