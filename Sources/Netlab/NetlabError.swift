// NetlabError: the one Swift error for every failing libnetlab call, built from
// the C status code and the text the library wrote into its errbuf.
import CNetlab
import Foundation

public struct NetlabError: Error, CustomStringConvertible, Equatable {
    /// The negative NL_E* status code returned by the C call.
    public let code: Int32
    /// The library's own message ("file:line:col: what; what to do").
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
    /// The symbolic code, e.g. "NL_EPERM".
    public var name: String { String(cString: nl_errname(code)) }
    public var isPermission: Bool { code == NL_EPERM.rawValue }
    /// Input present but not valid (a script or file syntax error: NL_EMALFORMED).
    public var isMalformed: Bool { code == NL_EMALFORMED.rawValue }
    /// Stopped by SIGINT/SIGTERM (NL_EINTR).
    public var isInterrupted: Bool { code == NL_EINTR.rawValue }

    /// An NL_ENOTFOUND error raised by the Swift shell itself (a missing bundled file).
    public static func notFound(_ message: String) -> NetlabError {
        NetlabError(code: NL_ENOTFOUND.rawValue, message: message)
    }
}

/// Calls `body` with an NL_ERRBUF_SIZE error buffer and throws NetlabError on a negative result.
@discardableResult
func nlCheck(_ body: (UnsafeMutablePointer<CChar>) -> Int32) throws -> Int32 {
    var buf = [CChar](repeating: 0, count: Int(NL_ERRBUF_SIZE))
    let rc = buf.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    if rc < 0 {
        let text = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        throw NetlabError(code: rc, message: text.isEmpty ? String(cString: nl_strerror(rc)) : text)
    }
    return rc
}

/// A NUL-terminated C char array imported as a tuple, as a String.
func tupleString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// An optional C string as a String ("" for NULL).
func cString(_ p: UnsafePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

/// Runs a command-line tool's work. A NetlabError becomes the one line "tool: message" on
/// standard error and the result `false` (the caller exits 1); other errors pass through.
public func reportingFailure(_ tool: String, _ body: () throws -> Void) throws -> Bool {
    do {
        try body()
        return true
    } catch let e as NetlabError {
        FileHandle.standardError.write(Data("\(tool): \(safeLine(e.message))\n".utf8))  // names from outside: the text path
        return false
    }
}

/// Ctrl-C and SIGTERM after `Capture.stopOnSignals()`: libnetlab's stop flag, polled by long Swift loops.
public enum Interruption {
    public static var requested: Bool { nl_stop_flag().pointee != 0 }

    /// Throws NetlabError NL_EINTR once SIGINT or SIGTERM has arrived.
    public static func check() throws {
        if requested { throw NetlabError(code: NL_EINTR.rawValue, message: "interrupted") }
    }

    /// The shell's status for the signal that stopped us: 130 for SIGINT, 143 for SIGTERM.
    public static var exitStatus: Int32 { 128 + (nl_stop_signal() > 0 ? nl_stop_signal() : 2) }

    /// Write text to standard output in chunks, stopping between chunks (or in a write
    /// blocked on a full pipe) as soon as a stop is requested.
    public static func writeStandardOutput(_ text: String) throws {
        var text = text
        try text.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                try check()
                let n = write(STDOUT_FILENO, buf.baseAddress! + off, min(1 << 16, buf.count - off))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw NetlabError(code: NL_ESYS.rawValue, message: "standard output: " + String(cString: strerror(errno)))
                }
                off += n
            }
        }
    }
}
