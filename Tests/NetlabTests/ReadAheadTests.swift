// analyze reads and decodes packets on a second thread (nl_readahead.c) when two CPUs
// and a capture of 4 MiB or more are there, and looks ahead to prefetch each packet's
// conversation state. Neither may change a single answer: every output, with the
// thread forced on (NETLAB_ANALYZE_THREADS=2) and off (=1), is byte for byte the same,
// on the seed captures, on generated captures of many interleaved conversations
// (clean and lossy), and on a capture cut short in the middle of a record.
import Foundation
import XCTest

final class ReadAheadTests: XCTestCase {
    private func analyze(_ args: [String], threads: Int) throws -> TestSupport.Result {
        try TestSupport.run(TestSupport.product("analyze"), args, env: ["NETLAB_ANALYZE_THREADS": String(threads)])
    }

    private func assertSame(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let one = try analyze(args, threads: 1), two = try analyze(args, threads: 2)
        XCTAssertEqual(one.status, two.status, "exit status of analyze \(args)", file: file, line: line)
        XCTAssertEqual(one.stderr, two.stderr, "stderr of analyze \(args)", file: file, line: line)
        XCTAssertTrue(one.stdoutData == two.stdoutData, "output of analyze \(args) differs between one and two threads",
                      file: file, line: line)
        XCTAssertFalse(one.stdoutData.isEmpty, file: file, line: line)
    }

    /// bench/gen_capture.c, built here: PACKETS packets of many interleaved conversations.
    private func generate(_ dir: String, packets: Int, loss: Int) throws -> String {
        let gen = dir + "/gen_capture", out = dir + "/gen-\(packets)-\(loss).pcap"
        if !FileManager.default.fileExists(atPath: gen) {
            let cc = try TestSupport.run("/usr/bin/cc", ["-O2", "-o", gen,
                                                          TestSupport.root.appendingPathComponent("bench/gen_capture.c").path])
            XCTAssertEqual(cc.status, 0, cc.stderr)
        }
        let r = try TestSupport.run(gen, [String(packets), out, "7", "1", String(loss)])
        XCTAssertEqual(r.status, 0, r.stderr)
        return out
    }

    func testSeedCapturesGiveTheSameAnswersOnOneAndTwoThreads() throws {
        let dirs = ["fuzz/corpus/pcap", "Tests/Fixtures"].map { TestSupport.root.appendingPathComponent($0).path }
        var files = [String]()
        for d in dirs {
            for f in try FileManager.default.contentsOfDirectory(atPath: d).sorted()
            where f.hasSuffix(".pcap") || f.hasSuffix(".pcapng") { files.append(d + "/" + f) }
        }
        XCTAssertGreaterThan(files.count, 5)
        try assertSame(["--json", "--packets"] + files)
        try assertSame(["--answers", "--json"] + files)
        try assertSame(["--find", "HELLO", "--follow", "1", "--expect", TestSupport.sampleCSV] + files)
    }

    func testGeneratedCapturesGiveTheSameAnswersOnOneAndTwoThreads() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 40,000 packets: about 30 MB, thousands of conversations open at once; one in 50 response
        // segments lost (retransmissions, duplicate ACKs, SACK) in the second.
        for loss in [0, 20] {
            let f = try generate(dir, packets: 40_000, loss: loss)
            try assertSame(["--json", "--packets", "--max-listed", "1000000", f])
            try assertSame([f])
            // The auto choice (two threads here when the machine has two CPUs) answers the same too.
            let auto = try TestSupport.run(TestSupport.product("analyze"), ["--json", f])
            XCTAssertTrue(auto.stdoutData == (try analyze(["--json", f], threads: 1)).stdoutData)
        }
    }

    /// Frames of 64 KiB (a sender-side capture with segmentation offload): the packets read ahead
    /// hold a few MiB of the file, not blocks of 512 such frames (a review found 72-101 MB here).
    func testLargeFramesKeepTheReadAheadSmall() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = dir + "/large-frames.pcap"
        let gen = """
        import struct, sys
        out = open(sys.argv[1], 'wb'); out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        pl = bytes(range(256)) * 255
        for i in range(2000):
            c = i % 50
            tcp = struct.pack('!HHIIBBHHH', 1024 + c, 80, i * 65280, 0, 5 << 4, 0x18, 65535, 0, 0) + pl
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 0, i & 0xffff, 0, 64, 6, 0, bytes([10, 0, 0, c]), bytes([10, 1, 0, 1]))
            fr = b'\\x02' * 6 + b'\\x04' * 6 + b'\\x08\\x00' + ip + tcp
            out.write(struct.pack('<IIII', 1000 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)) + fr)
        """
        XCTAssertEqual(try TestSupport.run("/usr/bin/python3", ["-c", gen, f]).status, 0)
        let size = (try FileManager.default.attributesOfItem(atPath: f)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 130_000_000)
        let peak = """
        import resource, subprocess, sys
        r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """
        for threads in ["1", "2"] {
            let r = try TestSupport.run("/usr/bin/python3", ["-c", peak, TestSupport.product("analyze"), "--json", f],
                                        env: ["NETLAB_ANALYZE_THREADS": threads])
            let v = r.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            XCTAssertEqual(v.first, 0, r.stderr)
            // The Swift runtime alone is ~21 MB; the file is 131 MB (512 of its frames are 33 MB).
            XCTAssertLessThan(v.last ?? .max, 45_000, "peak RSS \(v.last ?? -1) KB with \(threads) thread(s)")
        }
    }

    func testACaptureCutShortReportsTheSameDamageOnOneAndTwoThreads() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try generate(dir, packets: 20_000, loss: 20)
        let data = try Data(contentsOf: URL(fileURLWithPath: f))
        let cut = dir + "/cut.pcap"
        try data.prefix(data.count * 2 / 3 + 5).write(to: URL(fileURLWithPath: cut))
        try assertSame(["--json", cut])
        let r = try analyze(["--json", cut], threads: 2)
        XCTAssertEqual(r.status, 2, "a capture damaged part-way: exit 2")
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        XCTAssertNotNil(j["read_error"] as? String, "the damage is reported")
        XCTAssertGreaterThan(j["packets"] as? Int ?? 0, 10_000, "the packets before the damage are analysed")
    }
}
