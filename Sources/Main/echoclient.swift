// `echoclient`: the design card's name for one netlab command (swift run echoclient).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "echoclient") }
}
