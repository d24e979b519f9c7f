// `echoserver`: the design card's name for one netlab command (swift run echoserver).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "echoserver") }
}
