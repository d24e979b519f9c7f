// Helpers shared by the test cases: running the built executables and the
// independent oracles (tshark, tcpdump, Scapy), temporary directories, privilege checks.
import Foundation
import XCTest

enum TestSupport {
    /// The repository root (this file is Tests/NetlabTests/TestSupport.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let sampleCSV = root.appendingPathComponent("samples/group01_chat_input.csv").path

    /// Where SwiftPM put the executables of this build.
    static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    static func product(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let stdoutData: Data
    }

    /// Runs a program to completion (arguments passed as is, no shell).
    @discardableResult
    static func run(_ path: String, _ args: [String], cwd: String? = nil, env: [String: String]? = nil,
                    stdin: Data? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let env {
            var e = ProcessInfo.processInfo.environment
            for (k, v) in env { e[k] = v }
            p.environment = e
        }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(stdin) }
        try inp.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            errBox.data = errHandle.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// Runs a command line through /bin/sh.
    @discardableResult
    static func sh(_ command: String, cwd: String? = nil) throws -> Result {
        try run("/bin/sh", ["-c", command], cwd: cwd)
    }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
            let p = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func requireTool(_ tool: String) throws -> String {
        guard let p = which(tool) else {
            throw XCTSkip("\(tool) is not installed (scripts/install-deps.sh installs it)")
        }
        return p
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// NETLAB_SKIP_ROOT=1 (make check): the tests that need root skip even as root.
    static var rootTestsSkipped: Bool { ProcessInfo.processInfo.environment["NETLAB_SKIP_ROOT"] == "1" }

    static func requireRoot(_ why: String) throws {
        if rootTestsSkipped { throw XCTSkip("needs root (\(why)); NETLAB_SKIP_ROOT=1 skips it (make check)") }
        if !isRoot { throw XCTSkip("needs root (\(why)); run the tests as root, as CI does") }
    }

    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netlab-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// tshark with checksum validation on, one line per packet with the given fields.
    static func tsharkFields(_ pcap: String, _ fields: [String], filter: String? = nil) throws -> [[String]] {
        let tshark = try requireTool("tshark")
        var args = ["-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-T", "fields",
                    "-E", "separator=\t", "-E", "occurrence=f"]
        for f in fields { args += ["-e", f] }
        if let filter { args += ["-Y", filter] }
        let r = try run(tshark, args)
        XCTAssertEqual(r.status, 0, "tshark failed: \(r.stderr)")
        return r.stdout.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Packet count tshark reports for a display filter.
    static func tsharkCount(_ pcap: String, filter: String) throws -> Int {
        try tsharkFields(pcap, ["frame.number"], filter: filter).count
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.filter { $0.isHexDigit }.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }
}
