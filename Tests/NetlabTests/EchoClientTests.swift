// The echo client against echo servers that are not netlab's (issue 20 item 12): a tiny Python
// server (the oracle: its own reverse-and-swap-case) that sends no greeting, one whose greeting
// comes late (after the client's wait), and one that answers wrongly. The client waits a short
// while for a greeting and then sends (saying so), sends at once with --no-greeting, tells a
// late greeting from the first answer, and still reports a wrong answer as one.
import Foundation
import XCTest

final class EchoClientTests: XCTestCase {
    /// One connection: after `greetAfter` seconds (negative: never) the greeting line, then for each line
    /// received its echo (reversed, ASCII case swapped; `wrong`: not swapped), as a server that greets
    /// before it answers (a slow greeting holds the answers back). Prints its port first.
    static let server = """
        import socket, sys, time
        greet_after, wrong = float(sys.argv[1]), sys.argv[2] == "wrong"
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
        print(s.getsockname()[1], flush=True)
        s.settimeout(30)
        c, _ = s.accept()
        if greet_after >= 0:
            time.sleep(greet_after)
            c.sendall(b"Welcome, late or not\\n")
        buf = b""
        c.settimeout(30)
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while b"\\n" in buf:
                line, buf = buf.split(b"\\n", 1)
                out = line[::-1] if wrong else line[::-1].swapcase()
                c.sendall(out + b"\\n")
        c.close()
        """

    var dir: URL!

    override func setUpWithError() throws {
        dir = try makeTempDir("echoclient")
        try "first line\nSecond Line\nthird\n".write(to: dir.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Starts the Python server, runs echoclient against it with `args`, returns the client's result.
    func run(greetAfter: Double, wrong: Bool = false, _ args: [String] = []) throws -> TestSupport.Result {
        let server = try PythonServer(script: Self.server, in: dir, args: [String(greetAfter), wrong ? "wrong" : "right"])
        return try withExtendedLifetime(server) {
            try TestSupport.run(TestSupport.product("echoclient"), ["--host", "127.0.0.1", "--port", server.port, "--input",
                                                                    dir.appendingPathComponent("in.txt").path] + args)
        }
    }

    func answers(_ r: TestSupport.Result) -> [String] {
        r.stdout.split(separator: "\n").filter { $0.hasPrefix("received: ") }.map { String($0.dropFirst("received: ".count)) }
    }

    func testAServerWithoutAGreetingIsSentToAfterAShortWait() throws {
        let r = try run(greetAfter: -1)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("no greeting within 2.0 s: sending without one"), r.stdout)
        XCTAssertEqual(answers(r), ["ENIL TSRIF", "ENIl DNOCEs", "DRIHT"], r.stdout)
        XCTAssertTrue(r.stdout.contains("3 lines sent, 3 answers, 0 not as expected"), r.stdout)
    }

    func testNoGreetingSendsAtOnce() throws {
        let r = try run(greetAfter: -1, ["--no-greeting"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("no greeting expected: sending at once"), r.stdout)
        XCTAssertFalse(r.stdout.contains("no greeting within"), r.stdout)
        XCTAssertEqual(answers(r), ["ENIL TSRIF", "ENIl DNOCEs", "DRIHT"], r.stdout)
    }

    /// The greeting comes 3 s after the connection, when the client has already sent its first line: it is
    /// shown as the greeting, not taken for a wrong answer.
    func testALateGreetingIsToldFromTheFirstAnswer() throws {
        let r = try run(greetAfter: 3)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("greeting: Welcome, late or not"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(the greeting came after the first line was sent)"), r.stdout)
        XCTAssertEqual(answers(r), ["ENIL TSRIF", "ENIl DNOCEs", "DRIHT"], r.stdout)
    }

    /// A greeting within the wait is shown as before; with --greeting-wait 5 a greeting 3 s late is on time.
    func testAGreetingWithinTheWaitIsShown() throws {
        let r = try run(greetAfter: 3, ["--greeting-wait", "5"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.dropFirst().first, "greeting: Welcome, late or not", r.stdout)
        XCTAssertFalse(r.stdout.contains("came after"), r.stdout)
    }

    /// No greeting and wrong answers: still exit 1, each wrong answer shown with the one expected.
    func testWrongAnswersWithoutAGreetingAreStillWrong() throws {
        let r = try run(greetAfter: -1, wrong: true)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertEqual(answers(r), ["enil tsrif", "eniL dnoceS", "driht"], r.stdout)
        XCTAssertTrue(r.stdout.contains("expected: ENIL TSRIF"), r.stdout)
        XCTAssertTrue(r.stdout.contains("3 lines sent, 3 answers, 3 not as expected"), r.stdout)
        XCTAssertFalse(r.stdout.contains("greeting: "), r.stdout)
    }

    func testGreetingWaitMustBePositive() throws {
        for v in ["0", "-1", "nan", "4000"] {
            let r = try TestSupport.run(TestSupport.product("echoclient"), ["--greeting-wait", v])
            XCTAssertEqual(r.status, 64, v + ": " + r.stderr)
        }
    }
}
