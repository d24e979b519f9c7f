// Prove: netlab prove's runs (libnetlab's nl_prove.h): one script in its own namespaces, its
// verdict and report as the C core words them. Owns the C result; decides nothing.
import CNetlab
import Foundation

public final class ProveRun {
    private let handle: OpaquePointer
    public let script: String

    /// Runs one script. Throws NetlabError: NL_EMALFORMED (a syntax error, file:line:col),
    /// NL_EPERM (privileges missing), NL_EINTR (stopped), others when the run could not be made.
    /// defines: packetdrill's -D, "NAME=VALUE" each.
    public init(script: String, explain: Bool, toleranceMs: Double, outDir: String?, defines: [String] = []) throws {
        self.script = script
        try nlCheck { nl_signals_install($0) }
        var out: OpaquePointer?
        let run: (UnsafePointer<CChar>?) throws -> Void = { dir in
            try ProveRun.withDefines(defines) { defs, n in
                var o = nl_prove_opts(explain: explain ? 1 : 0, tolerance_ms: toleranceMs, out_dir: dir,
                                      defines: defs, ndefines: n)
                try nlCheck { nl_prove_run(script, &o, &out, $0) }
            }
        }
        if let outDir {
            try outDir.withCString { try run($0) }
        } else {
            try run(nil)
        }
        handle = out!
    }

    deinit { nl_prove_result_free(handle) }

    public var passed: Bool { nl_prove_result_passed(handle) != 0 }
    /// The script line that did not hold, or 0.
    public var failedLine: Int { Int(nl_prove_result_line(handle)) }
    public var text: String { String(cString: nl_prove_result_text(handle)) }
    public var json: String { String(cString: nl_prove_result_json(handle)) }
    public var seconds: Double { nl_prove_result_seconds(handle) }

    /// The scripts a path names: the file, or a folder's *.pkt files in order.
    public static func scripts(in path: String) throws -> [String] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var n = 0
        try nlCheck { nl_prove_list(path, &list, &n, $0) }
        defer { nl_prove_list_free(list, n) }
        return (0..<n).map { String(cString: list![$0]!) }
    }

    /// Throws NL_EPERM naming the missing capabilities.
    public static func checkPrivileges() throws { try nlCheck { nl_prove_privileged($0) } }

    /// Parse only (NL_EMALFORMED with file:line:col), with -D definitions.
    public static func checkSyntax(_ path: String, defines: [String] = []) throws {
        try withDefines(defines) { defs, n in
            var o = nl_prove_opts(explain: 0, tolerance_ms: 0, out_dir: nil, defines: defs, ndefines: n)
            try nlCheck { nl_prove_check_syntax_opts(path, &o, $0) }
        }
    }

    /// The strings as a C array of C strings for the call's duration.
    private static func withDefines(_ defines: [String],
                                    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) throws -> Void) throws {
        let cs = defines.map { strdup($0) }
        defer { cs.forEach { free($0) } }
        let ptrs: [UnsafePointer<CChar>?] = cs.map { UnsafePointer($0) }
        try ptrs.withUnsafeBufferPointer { try body($0.baseAddress, Int32(defines.count)) }
    }
}
