// Output paths (nl_outfile, issue 8 item 1): a regular file appears whole or not at
// all; a character device, FIFO or "-" is written in place and never replaced.
// Devices are our own mknod nodes in a temporary directory, never /dev/null.
import CNetlab
import Foundation
import XCTest

final class OutputFileTests: XCTestCase {
    func fileType(_ path: String) -> String {
        var sb = stat()
        guard lstat(path, &sb) == 0 else { return "missing" }
        switch sb.st_mode & S_IFMT {
        case S_IFREG: return "regular"
        case S_IFCHR: return "char"
        case S_IFIFO: return "fifo"
        case S_IFDIR: return "dir"
        default: return "other"
        }
    }

    func entries(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    /// A reader waiting on a FIFO gets a whole capture that capinfos reads; the FIFO stays a FIFO.
    func testInjectorWritesIntoAFifoReader() throws {
        let capinfos = try TestSupport.requireTool("capinfos")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/cap.fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let r = try TestSupport.run("/bin/bash", ["-c", """
            timeout 30 \(capinfos) -c -M "$1" > "$2/capinfos.txt" 2>&1 & reader=$!
            timeout 30 "$3" --write "$1" --no-inject "$4" > "$2/report.txt" || exit 10
            wait $reader || exit 11
            """, "x", fifo, dir, TestSupport.product("injector"), TestSupport.sampleCSV])
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try String(contentsOfFile: dir + "/capinfos.txt", encoding: .utf8)
        XCTAssertTrue(info.contains("Number of packets:   11"), info)
        XCTAssertEqual(fileType(fifo), "fifo")
        XCTAssertEqual(try entries(dir), ["cap.fifo", "capinfos.txt", "report.txt"])
    }

    /// `injector --write - | tshark -r -`: the pcap on standard output, the report on standard error.
    func testInjectorWriteDashPipesIntoTshark() throws {
        let tshark = try TestSupport.requireTool("tshark")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try TestSupport.run("/bin/bash", ["-c", """
            set -o pipefail
            "$1" --write - --no-inject "$2" 2> report.txt | \(tshark) -r - -T fields -e frame.number -e tcp.len 2>/dev/null
            """, "x", TestSupport.product("injector"), TestSupport.sampleCSV], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 11, r.stdout)
        XCTAssertEqual(rows.first.map(String.init), "1\t23")
        let report = try String(contentsOfFile: dir + "/report.txt", encoding: .utf8)
        XCTAssertTrue(report.contains("wrote the pcap to standard output: 11 packets"), report)
        XCTAssertEqual(try entries(dir), ["report.txt"], "no file named '-'")
    }

    /// `capture -w - | tshark -r -` on loopback with a packet count.
    func testCaptureWriteDashPipesIntoTshark() throws {
        try TestSupport.requireRoot("capturing on lo")
        let tshark = try TestSupport.requireTool("tshark")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = 40_000 + Int(getpid() % 20_000)
        let r = try TestSupport.run("/bin/bash", ["-c", """
            set -o pipefail
            ( timeout 30 "$1" -i lo -c 3 -w - udp port \(port) 2> cap.err | \(tshark) -r - -T fields -e udp.dstport -e data.len > got.txt 2>/dev/null ) &
            pipeline=$!
            for _ in $(seq 200); do grep -q listening cap.err 2>/dev/null && break; sleep 0.05; done
            for _ in 1 2 3; do echo hello > /dev/udp/127.0.0.1/\(port); done
            wait $pipeline
            """, "x", TestSupport.product("capture")], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr + ((try? String(contentsOfFile: dir + "/cap.err", encoding: .utf8)) ?? ""))
        let got = try String(contentsOfFile: dir + "/got.txt", encoding: .utf8)
        XCTAssertEqual(got, String(repeating: "\(port)\t6\n", count: 3))
        XCTAssertEqual(try entries(dir), ["cap.err", "got.txt"], "no file named '-'")
    }

    /// Writing to a character device (our own null node) leaves it a character device.
    func testCharacterDeviceIsWrittenInPlace() throws {
        try TestSupport.requireRoot("mknod of a character device")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let node = dir + "/nulldev"
        XCTAssertEqual(try TestSupport.run("/bin/mknod", ["-m", "666", node, "c", "1", "3"]).status, 0)
        let r = try TestSupport.run(TestSupport.product("injector"), ["--write", node, "--no-inject", TestSupport.sampleCSV])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(fileType(node), "char")
        // The lab's and report's text files go through the same C call.
        var err = [CChar](repeating: 0, count: Int(NL_ERRBUF_SIZE))
        XCTAssertEqual(nl_outfile_write_all(node, "text", 4, &err), 0)
        XCTAssertEqual(fileType(node), "char")
        XCTAssertEqual(try entries(dir), ["nulldev"])
    }

    /// capture killed with SIGKILL leaves nothing visible (an unnamed O_TMPFILE dies with it).
    func testKilledCaptureLeavesNothing() throws {
        try TestSupport.requireRoot("capturing on lo")
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.product("capture"))
        p.arguments = ["-i", "lo", "-w", dir + "/killed.pcap"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        // Wait for "listening": the file is open by then.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("listening") {
            let d = err.fileHandleForReading.availableData
            if d.isEmpty { break }
            seen += d
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertEqual(try entries(dir), [], "SIGKILL left a file behind")
    }

    /// Both ways of writing a regular file: nothing visible before commit, the whole file after,
    /// nothing after abort; an existing file is replaced whole.
    func testRegularFileIsAllOrNothingWithAndWithoutOTmpfile() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.txt"
        var err = [CChar](repeating: 0, count: Int(NL_ERRBUF_SIZE))
        for (flags, kind) in [(Int32(0), Int32(NL_OUTFILE_TMPFILE.rawValue)),
                              (Int32(NL_OUTFILE_NO_TMPFILE), Int32(NL_OUTFILE_RENAME.rawValue))] {
            try "old".write(toFile: path, atomically: false, encoding: .utf8)
            var o: OpaquePointer?
            XCTAssertEqual(nl_outfile_open(&o, path, flags, &err), 0, String(cString: err))
            XCTAssertEqual(nl_outfile_kind(o), kind)
            XCTAssertEqual(nl_outfile_write(o, "new contents", 12, &err), 0)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old", "visible before commit")
            XCTAssertEqual(nl_outfile_commit(o, &err), 0, String(cString: err))
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new contents")
            XCTAssertEqual(try entries(dir), ["out.txt"])

            XCTAssertEqual(nl_outfile_open(&o, dir + "/gone.txt", flags, &err), 0)
            XCTAssertEqual(nl_outfile_write(o, "x", 1, &err), 0)
            nl_outfile_abort(o)
            XCTAssertEqual(try entries(dir), ["out.txt"], "abort left something")
        }
        // A FIFO and "-" stream in place.
        let fifo = dir + "/f"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let rd = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(rd) }
        var o: OpaquePointer?
        XCTAssertEqual(nl_outfile_open(&o, fifo, 0, &err), 0, String(cString: err))
        XCTAssertEqual(nl_outfile_kind(o), Int32(NL_OUTFILE_STREAM.rawValue))
        XCTAssertEqual(nl_outfile_write(o, "abc", 3, &err), 0)
        XCTAssertEqual(nl_outfile_commit(o, &err), 0)
        var buf = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(read(rd, &buf, 8), 3)
        XCTAssertEqual(fileType(fifo), "fifo")
        XCTAssertEqual(nl_outfile_open(&o, "-", 0, &err), 0)
        XCTAssertEqual(nl_outfile_kind(o), Int32(NL_OUTFILE_STDOUT.rawValue))
        nl_outfile_abort(o)
        XCTAssertGreaterThanOrEqual(fcntl(STDOUT_FILENO, F_GETFD), 0, "standard output still open")
    }
}
