// `capture`: the design card's name for one netlab command (swift run capture).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "capture") }
}
