// Where netlab report writes (issue 20 item 12, issue 18 item 5): --out onto a file, a
// device or a folder it cannot write is refused in plain words before anything is read;
// a FIFO named report.pdf is refused and left alone; --out NAME.pdf writes that file.
// The PDF's Chromium (a stand-in script here, first on PATH) leaves nothing behind: the
// profile folders of killed runs are removed, and a Chromium whose child ignores SIGTERM
// is stopped with its whole process group at --pdf-timeout.
import Foundation
import XCTest

final class ReportOutputTests: XCTestCase {
    var dir = ""
    var cap = ""

    override func setUpWithError() throws {
        dir = try TestSupport.tempDir()
        cap = dir + "/convs.pcap"
        let g = try TestSupport.run("/usr/bin/python3", [ReportOneReadTests.genConvs, "3", cap])
        XCTAssertEqual(g.status, 0, g.stderr)
        // A stand-in for Chromium: writes a PDF, or hangs with a child that ignores SIGTERM.
        let bin = dir + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = """
            #!/bin/bash
            for a in "$@"; do
              case $a in --print-to-pdf=*) out=${a#--print-to-pdf=};; --user-data-dir=*) prof=${a#--user-data-dir=};; esac
            done
            mkdir -p "$prof"; echo "$prof" >> "$FAKE_DIR/profiles"
            if [ "$FAKE_MODE" = hang ]; then
              (trap '' TERM; echo $BASHPID > "$FAKE_DIR/child.pid"; exec sleep 300) &
              sleep 300
            fi
            printf '%%PDF-1.4\\n%%stand-in\\n' > "$out"
            """
        try script.write(toFile: bin + "/chromium", atomically: true, encoding: .utf8)
        chmod(bin + "/chromium", 0o755)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func report(_ args: [String], mode: String = "print", user: Bool = false) throws -> TestSupport.Result {
        let env = ["PATH": dir + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                   "TMPDIR": dir + "/tmp", "FAKE_MODE": mode, "FAKE_DIR": dir]
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        let argv = ["report", cap] + args
        if user {
            return try TestSupport.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                             TestSupport.product("netlab")] + argv, env: env)
        }
        return try TestSupport.run(TestSupport.product("netlab"), argv, env: env)
    }

    func testOutThatCannotBeWrittenIsRefusedInPlainWords() throws {
        let file = dir + "/notes.txt"
        try "mine\n".write(toFile: file, atomically: true, encoding: .utf8)
        var r = try report(["--out", file, "--no-pdf"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("is a file, not a folder"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "mine\n")
        // A device: refused before anything is opened for writing (the test never writes to it).
        r = try report(["--out", "/dev/null", "--no-pdf"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("/dev/null: is a character device, not a folder"), r.stderr)
        // A FIFO named report.pdf: refused, still a FIFO.
        let fifoDir = dir + "/withfifo"
        try FileManager.default.createDirectory(atPath: fifoDir, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(fifoDir + "/report.pdf", 0o644), 0)
        r = try report(["--out", fifoDir])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("report.pdf is a FIFO, not a file netlab may replace"), r.stderr)
        var st = stat()
        XCTAssertEqual(lstat(fifoDir + "/report.pdf", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        for r in [r] { XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr) }
        // A read-only folder, as a user who cannot write it (root writes anywhere).
        guard TestSupport.isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let ro = dir + "/readonly"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        chmod(ro, 0o555)
        chmod(cap, 0o644)
        r = try report(["--out", ro, "--no-pdf"], user: true)
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("cannot write in the folder \(ro): Permission denied"), r.stderr)
        XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        r = try report(["--out", ro + "/sub/deeper", "--no-pdf"], user: true)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot make the folder \(ro)/sub: Permission denied"), r.stderr)
    }

    func testOutNamePdfWritesThatFileAndItsPagesBeside() throws {
        let r = try report(["--out", dir + "/answers.pdf"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/answers.pdf", isDirectory: &isDir))
        XCTAssertFalse(isDir.boolValue, "answers.pdf is a file")
        XCTAssertTrue(try String(contentsOfFile: dir + "/answers.pdf", encoding: .utf8).hasPrefix("%PDF-"))
        for f in ["answers.html", "answers.md", "answers-files"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        XCTAssertTrue(try String(contentsOfFile: dir + "/answers.md", encoding: .utf8).contains("](answers-files/"))
        // Printed under a hidden name, renamed: nothing else is left in the folder, and no profile folder.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        XCTAssertEqual(left, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), [])
    }

    func testProfilesOfKilledRunsGoAndAHungChromiumGroupIsKilled() throws {
        // A profile folder of a run that was killed (its pid is gone), and one of a live run (ours).
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try FileManager.default.createDirectory(atPath: dir + "/tmp/netlab-pdf-\(gone.processIdentifier)/Default",
                                                withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/tmp/netlab-pdf-\(getpid())", withIntermediateDirectories: true)
        var r = try report(["--out", dir + "/out"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), ["netlab-pdf-\(getpid())"],
                       "the killed run's profile is removed, a live one kept, this run's own removed")

        // Chromium hangs; its child ignores SIGTERM. At the deadline both are gone.
        let t0 = Date()
        r = try report(["--out", dir + "/out2", "--pdf-timeout", "2"], mode: "hang")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("did not print") && r.stderr.contains("was stopped"), r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
        let child = Int32(try String(contentsOfFile: dir + "/child.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(child, 0)
        var alive = true
        for _ in 0..<50 where alive {
            let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
            alive = kill(child, 0) == 0 && !stat.contains(") Z ")
            if alive { usleep(100_000) }
        }
        XCTAssertFalse(alive, "the child that ignored SIGTERM was killed with its group")
        if alive { kill(child, SIGKILL) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out2/report.pdf"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), ["netlab-pdf-\(getpid())"])
    }
}
