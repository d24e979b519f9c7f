// `injector`: the design card's name for one netlab command (swift run injector).
import NetlabCLI

@main
enum Main {
    static func main() { Front.main(classic: "injector") }
}
