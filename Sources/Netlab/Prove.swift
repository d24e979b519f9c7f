// Prove: netlab prove's runs (libnetlab's nl_prove.h): one script in its own namespaces, its
// verdict and report as the C core words them. Owns the C result; decides nothing.
import CNetlab
import Foundation

public final class ProveRun {
    private let handle: OpaquePointer
    public let script: String

    /// Runs one script. Throws NetlabError: NL_EMALFORMED (a syntax error, file:line:col),
    /// NL_EPERM (privileges missing), NL_EINTR (stopped), others when the run could not be made.
    /// defines: packetdrill's -D definitions, "NAME=VALUE" lines; mtu: tun0's MTU (0: 1500);
    /// ipVersion: NL_PROVE_IPV4/_IPV4_MAPPED/_IPV6 over the script's --ip_version (0: the script's).
    public init(script: String, explain: Bool, toleranceMs: Double, outDir: String?, defines: String? = nil,
                mtu: Int = 0, ipVersion: Int32 = 0) throws {
        self.script = script
        try nlCheck { nl_signals_install($0) }
        var out: OpaquePointer?
        let run: (UnsafePointer<CChar>?, UnsafePointer<CChar>?) throws -> Void = { dir, defs in
            var o = nl_prove_opts(explain: explain ? 1 : 0, tolerance_ms: toleranceMs, out_dir: dir, defines: defs,
                                  mtu: Int32(mtu), ip_version: ipVersion)
            try nlCheck { nl_prove_run(script, &o, &out, $0) }
        }
        try ProveRun.withOptionalCString(outDir) { dir in
            try ProveRun.withOptionalCString(defines) { defs in try run(dir, defs) }
        }
        handle = out!
    }

    private static func withOptionalCString(_ s: String?, _ body: (UnsafePointer<CChar>?) throws -> Void) rethrows {
        if let s { try s.withCString { try body($0) } } else { try body(nil) }
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
    /// packetdrill's --ip_version words to the C core's numbers (nil: not one of them).
    public static func ipVersion(_ word: String) -> Int32? {
        switch word {
        case "ipv4": return NL_PROVE_IPV4
        case "ipv4-mapped-ipv6": return NL_PROVE_IPV4_MAPPED
        case "ipv6": return NL_PROVE_IPV6
        default: return nil
        }
    }

    public static func checkPrivileges() throws { try nlCheck { nl_prove_privileged($0) } }

    /// Parse only (NL_EMALFORMED with file:line:col).
    public static func checkSyntax(_ path: String, defines: String? = nil) throws {
        try withOptionalCString(defines) { defs in try nlCheck { nl_prove_check_syntax_defs(path, defs, $0) } }
    }
}
