// Helpers for the socket application tests: start the real server executables
// on 127.0.0.1 port 0, talk to them over real TCP sockets or through other
// programs' pipes (nc, ncat, our clients), and read lines with a deadline.
// Deadlines only turn a hang into a failure; no test asserts on speed.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

enum TestError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self { case .failed(let s): return s }
    }
}

/// Where SwiftPM put the executables (the test bundle sits beside them).
var productsDirectory: URL {
    Bundle.main.bundleURL
}

func executable(_ name: String) -> URL {
    productsDirectory.appendingPathComponent(name)
}

func which(_ tool: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(tool)"
        if access(p, X_OK) == 0 { return p }
    }
    return nil
}

func makeTempDir(_ tag: String) throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory())
        .appendingPathComponent("netlab-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A tiny server written in Python (Debian's /usr/bin/python3: an oracle that is not netlab): the script
/// prints the port it listens on as its first line; the server is killed when this goes away.
final class PythonServer {
    let process = Process()
    let port: String

    init(script: String, in dir: URL, args: [String] = []) throws {
        let py = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: py) else { throw XCTSkip("needs \(py)") }
        let file = dir.appendingPathComponent("server-\(UInt32.random(in: 0...UInt32.max)).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: py)
        process.arguments = [file.path] + args
        let portPipe = Pipe()
        process.standardOutput = portPipe
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let d = portPipe.fileHandleForReading.availableData
            if d.isEmpty { break }
            line.append(d)
        }
        port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard UInt16(port) != nil else { throw NSError(domain: "PythonServer", code: 1,
                                                       userInfo: [NSLocalizedDescriptionKey: "no port from \(file.path): \(port)"]) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Reads LF-terminated lines from a descriptor (socket or pipe) with a deadline.
final class LineReader {
    let fd: Int32
    private var buffer = [UInt8]()
    private(set) var eof = false

    init(fd: Int32) { self.fd = fd }

    /// The next line without its terminator (CR removed too), or nil at end of stream.
    func line(timeout: Double = 15) throws -> String? {
        guard let bytes = try lineBytes(timeout: timeout) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    func lineBytes(timeout: Double = 15) throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let i = buffer.firstIndex(of: 0x0A) {
                var l = Array(buffer[..<i])
                buffer.removeFirst(i + 1)
                if l.last == 0x0D { l.removeLast() }
                return l
            }
            if eof {
                if buffer.isEmpty { return nil }
                let l = buffer
                buffer.removeAll()
                return l
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw TestError.failed("no line within \(timeout) s (have: \(String(decoding: buffer.prefix(200), as: UTF8.self)))") }
            try fill(timeout: left)
        }
    }

    /// Lines until end of stream (a reset counts as the end).
    func rest(timeout: Double = 15) throws -> [String] {
        var out = [String]()
        while let l = try line(timeout: timeout) { out.append(l) }
        return out
    }

    /// Skip lines until one starts with prefix; returns it.
    func waitFor(_ prefix: String, timeout: Double = 15) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw TestError.failed("no line starting with '\(prefix)' within \(timeout) s") }
            guard let l = try line(timeout: left) else { throw TestError.failed("stream ended before a line starting with '\(prefix)'") }
            if l.hasPrefix(prefix) { return l }
        }
    }

    private func fill(timeout: Double) throws {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, Int32(min(timeout, 60) * 1000))
        if r < 0 && errno == EINTR { return }
        if r <= 0 { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &chunk, chunk.count)
        if n > 0 {
            buffer.append(contentsOf: chunk[..<n])
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            eof = true
        }
    }
}

/// A TCP client speaking lines: the test's own independent view of the protocol.
final class LineClient {
    let fd: Int32
    let reader: LineReader
    private var closed = false

    init(port: UInt16, host: String = "127.0.0.1", receiveBuffer: Int32? = nil) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
            throw TestError.failed("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        let s = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw TestError.failed("socket: \(String(cString: strerror(errno)))") }
        if var rb = receiveBuffer {
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rb, socklen_t(MemoryLayout<Int32>.size))
        }
        guard connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(s)
            throw TestError.failed("connect to \(host) port \(port): \(e)")
        }
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        fd = s
        reader = LineReader(fd: s)
    }

    deinit { close() }

    func send(_ text: String) throws { try sendBytes(Array(text.utf8)) }

    func sendBytes(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestError.failed("send: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    /// Sends what the socket takes right now without blocking; returns the byte count.
    func sendSome(_ bytes: ArraySlice<UInt8>) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        return max(0, n)
    }

    func line(timeout: Double = 15) throws -> String? { try reader.line(timeout: timeout) }

    /// The next line, which must exist.
    func next(timeout: Double = 15) throws -> String {
        guard let l = try reader.line(timeout: timeout) else { throw TestError.failed("connection closed, expected a line") }
        return l
    }

    func waitFor(_ prefix: String, timeout: Double = 15) throws -> String { try reader.waitFor(prefix, timeout: timeout) }

    /// Greeting read and NICK sent; returns the reply.
    @discardableResult
    func register(_ name: String) throws -> String {
        _ = try waitFor("HELLO")
        try send("NICK \(name)\n")
        return try next()
    }

    /// Half-close: no more sending.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Abortive close: the peer gets a TCP RST.
    func reset() {
        guard !closed else { return }
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    func close() {
        if !closed { Glibc.close(fd); closed = true }
    }
}

/// One of our server executables, started on port 0 with its log in a file.
final class ServerProcess {
    let process = Process()
    let logURL: URL
    let dir: URL
    private let ownsDir: Bool
    private(set) var port: UInt16 = 0

    /// Starts `tool` with args (plus --port 0 unless args give one) and waits for its "(port N" log line.
    /// With openFiles, the server runs under that RLIMIT_NOFILE (soft and hard), set by the shell; with netns,
    /// inside that network namespace (`ip netns exec`, which execs it: the pid is the server's).
    init(_ tool: String, _ args: [String], in dir: URL? = nil, openFiles: Int? = nil, netns: String? = nil) throws {
        self.dir = try dir ?? makeTempDir(tool)
        ownsDir = dir == nil
        logURL = self.dir.appendingPathComponent("\(tool).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let fullArgs = args.contains("--port") ? args : args + ["--port", "0"]
        if let openFiles {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$0\" \"$@\"", executable(tool).path] + fullArgs
        } else if let netns, let ip = which("ip") {
            process.executableURL = URL(fileURLWithPath: ip)
            process.arguments = ["netns", "exec", netns, executable(tool).path] + fullArgs
        } else {
            process.executableURL = executable(tool)
            process.arguments = fullArgs
        }
        process.currentDirectoryURL = self.dir
        let out = try FileHandle(forWritingTo: logURL)
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOf: logURL, encoding: .utf8),
               let r = text.range(of: #"\(port (\d+)"#, options: .regularExpression) {
                port = UInt16(text[r].dropFirst(6))!
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        if process.isRunning { process.terminate() }
        throw TestError.failed("\(tool) did not start: \(text)")
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits until the log contains text (the server logs asynchronously to the test).
    func waitForLog(_ text: String, timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return }
            usleep(20_000)
        }
        throw TestError.failed("the log never showed '\(text)':\n\(log)")
    }
    var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then the exit status (0 on a clean shutdown).
    @discardableResult
    func stop(signal sig: Int32 = SIGTERM) -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, sig)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        if ownsDir { try? FileManager.default.removeItem(at: dir) }
    }
}

/// Another program with pipes on stdin and stdout (nc, ncat, chatclient).
final class PipedProcess {
    let process = Process()
    let stdinPipe = Pipe()
    let stdoutPipe = Pipe()
    let stderrPipe = Pipe()
    let reader: LineReader

    init(_ path: String, _ args: [String], cwd: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        if let cwd { process.currentDirectoryURL = cwd }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        reader = LineReader(fd: stdoutPipe.fileHandleForReading.fileDescriptor)
        try process.run()
    }

    func send(_ text: String) { stdinPipe.fileHandleForWriting.write(Data(text.utf8)) }
    func closeInput() { try? stdinPipe.fileHandleForWriting.close() }
    func line(timeout: Double = 15) throws -> String? { try reader.line(timeout: timeout) }
    func waitFor(_ prefix: String, timeout: Double = 15) throws -> String { try reader.waitFor(prefix, timeout: timeout) }

    /// Waits for the exit (killing it after the deadline) and returns the status.
    func wait(timeout: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var stderrText: String {
        String(decoding: stderrPipe.fileHandleForReading.availableData, as: UTF8.self)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}

/// Runs a program to completion; returns status, stdout and stderr.
@discardableResult
func runTool(_ path: String, _ args: [String], stdin: Data? = nil, cwd: URL? = nil, timeout: Double = 300) throws
    -> (status: Int32, out: String, err: String)
{
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let dir = try makeTempDir("run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    let inPipe = Pipe()
    p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
    try p.run()
    if let stdin {
        inPipe.fileHandleForWriting.write(stdin)
        try? inPipe.fileHandleForWriting.close()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return (p.terminationStatus, out, err)
}

/// "key=value" pairs of a chatload result line.
func resultFields(_ text: String) -> [String: String] {
    guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("result ") }) else { return [:] }
    var d = [String: String]()
    for part in line.split(separator: " ").dropFirst() {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
    }
    return d
}
