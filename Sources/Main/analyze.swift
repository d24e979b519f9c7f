// `analyze`: the design card's name for one netlab command (swift run analyze).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "analyze") }
}
