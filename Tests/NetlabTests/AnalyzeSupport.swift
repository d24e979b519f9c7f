// Support for the analyze tests: running commands with a timeout, background
// capturers started and stopped by PID, the built products, random port bases,
// and little-endian capture files built byte by byte.
import Foundation
import XCTest

enum Lab {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var labDir: URL { repoRoot.appendingPathComponent("Tests/analyze-lab") }

    /// A product built beside the test bundle (analyze, injector).
    static func product(_ name: String) -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), repoRoot.appendingPathComponent(".build/debug")] {
            let p = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return repoRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    static func which(_ cmd: String) -> String? {
        if cmd.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: cmd) ? cmd : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(cmd)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        for dir in ["/usr/sbin", "/sbin", "/usr/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(cmd)") {
            return "\(dir)/\(cmd)"
        }
        return nil
    }

    static var isRoot: Bool { getuid() == 0 }

    /// Skip (with the reason) unless root; fail when a required tool is missing.
    static func requireRoot(_ what: String) throws {
        if TestSupport.rootTestsSkipped { throw XCTSkip("\(what) needs root; NETLAB_SKIP_ROOT=1 skips it (make check)") }
        if !isRoot { throw XCTSkip("\(what) needs root (live capture, raw sockets, network namespaces); run as root") }
    }

    static func requireTools(_ tools: [String]) {
        for t in tools where which(t) == nil {
            XCTFail("\(t) is not installed; `make deps` installs it")
        }
    }

    static func tempDir(_ name: String) -> URL {
        let d = FileManager.default.temporaryDirectory
            .appendingPathComponent("netlab-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// Ten consecutive ports below Linux's ephemeral range, picked at random so
    /// that tests of several engineers on one machine do not collide.
    static func randomPortBase() -> Int { 20000 + Int.random(in: 0..<990) * 10 }

    struct Output {
        let status: Int32
        let signaled: Bool
        let stdout: Data
        let stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Run a command to completion (killed after timeout seconds), output captured in files.
    @discardableResult
    static func run(_ exe: String, _ args: [String], timeout: TimeInterval = 120, cwd: URL? = nil) throws -> Output {
        let dir = tempDir("run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which(exe) ?? exe)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(5000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            try? out.close(); try? err.close()
            throw NSError(domain: "Lab", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "\(exe) \(args.joined(separator: " ")) did not finish within \(Int(timeout)) s"])
        }
        p.waitUntilExit()
        try? out.close(); try? err.close()
        return Output(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                      stdout: (try? Data(contentsOf: outURL)) ?? Data(),
                      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// A command left running (a capturer or a server), stopped by its PID.
    final class Background {
        let process = Process()
        let errURL: URL
        let outURL: URL
        let label: String

        init(_ exe: String, _ args: [String], label: String, dir: URL) throws {
            self.label = label
            errURL = dir.appendingPathComponent("\(label).stderr")
            outURL = dir.appendingPathComponent("\(label).stdout")
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: Lab.which(exe) ?? exe)
            process.arguments = args
            process.standardError = try FileHandle(forWritingTo: errURL)
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }

        /// Wait until stderr or stdout shows text (the capturer is listening).
        func waitFor(_ text: String, timeout: TimeInterval = 15) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if stderr.contains(text) || stdout.contains(text) { return }
                if !process.isRunning {
                    throw NSError(domain: "Lab", code: 2, userInfo: [NSLocalizedDescriptionKey:
                        "\(label) exited (\(process.terminationStatus)) before it was ready: \(stderr)"])
                }
                usleep(20000)
            }
            throw NSError(domain: "Lab", code: 3, userInfo: [NSLocalizedDescriptionKey:
                "\(label) not ready after \(Int(timeout)) s: \(stderr)"])
        }

        /// Stop with a signal (SIGINT lets capturers flush) and wait for the exit.
        func stop(_ sig: Int32 = SIGINT, timeout: TimeInterval = 15) {
            guard process.isRunning else { return }
            kill(process.processIdentifier, sig)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }

        deinit { stop(SIGKILL, timeout: 2) }
    }
}

/// Capture files assembled byte by byte (little-endian pcap, pcapng blocks),
/// for the reader's known-answer tests.
enum CaptureBytes {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
    static func be16(_ v: Int) -> [UInt8] { le16(v).reversed() }
    static func be32(_ v: Int) -> [UInt8] { le32(v).reversed() }

    struct Frame {
        var seconds: Int
        var fraction: Int     // microseconds or nanoseconds
        var data: [UInt8]
        var wireLength: Int? = nil
    }

    /// A classic pcap; bigEndian writes every header field in network order.
    static func pcap(linkType: Int, frames: [Frame], nano: Bool = false, bigEndian: Bool = false,
                     snaplen: Int = 262144) -> [UInt8] {
        let w16 = bigEndian ? be16 : le16, w32 = bigEndian ? be32 : le32
        var b = w32(nano ? 0xa1b23c4d : 0xa1b2c3d4) + w16(2) + w16(4) + w32(0) + w32(0) + w32(snaplen) + w32(linkType)
        for f in frames {
            b += w32(f.seconds) + w32(f.fraction) + w32(f.data.count) + w32(f.wireLength ?? f.data.count) + f.data
        }
        return b
    }

    static func pad4(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (4 - b.count % 4) % 4) }

    static func option(_ code: Int, _ value: [UInt8], bigEndian: Bool = false) -> [UInt8] {
        (bigEndian ? be16 : le16)(code) + (bigEndian ? be16 : le16)(value.count) + pad4(value)
    }

    static func block(_ type: Int, _ body: [UInt8], bigEndian: Bool = false) -> [UInt8] {
        let w32 = bigEndian ? be32 : le32
        let len = 12 + body.count
        return w32(type) + w32(len) + body + w32(len)
    }

    static func shb(bigEndian: Bool = false) -> [UInt8] {
        let w16 = bigEndian ? be16 : le16, w32 = bigEndian ? be32 : le32
        return block(0x0a0d0d0a, w32(0x1a2b3c4d) + w16(1) + w16(0) + [UInt8](repeating: 0xff, count: 8),
                     bigEndian: bigEndian)
    }

    static func idb(linkType: Int, name: String?, tsresol: UInt8? = nil, snaplen: Int = 0,
                    bigEndian: Bool = false) -> [UInt8] {
        let w16 = bigEndian ? be16 : le16, w32 = bigEndian ? be32 : le32
        var body = w16(linkType) + w16(0) + w32(snaplen)
        if let name { body += option(2, Array(name.utf8), bigEndian: bigEndian) }
        if let tsresol { body += option(9, [tsresol], bigEndian: bigEndian) }
        if name != nil || tsresol != nil { body += w32(0) }
        return block(1, body, bigEndian: bigEndian)
    }

    static func epb(interface: Int, timestamp: UInt64, data: [UInt8], wireLength: Int? = nil, flags: Int? = nil,
                    bigEndian: Bool = false) -> [UInt8] {
        let w32 = bigEndian ? be32 : le32
        var body = w32(interface) + w32(Int(timestamp >> 32)) + w32(Int(timestamp & 0xffff_ffff))
            + w32(data.count) + w32(wireLength ?? data.count) + pad4(data)
        if let flags { body += option(2, w32(flags), bigEndian: bigEndian) + w32(0) }
        return block(6, body, bigEndian: bigEndian)
    }

    static func spb(data: [UInt8], wireLength: Int? = nil) -> [UInt8] {
        block(3, le32(wireLength ?? data.count) + pad4(data))
    }
}
