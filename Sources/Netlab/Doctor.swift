// Doctor: libnetlab's preflight checks as Swift values.
import CNetlab
#if canImport(Glibc)
import Glibc
#endif

public struct Check {
    public let topic: String
    public let status: String   // OK, INFO, WARN, FAIL
    public let detail: String
    public let fix: String
}

public enum Doctor {
    /// Every check; `program` is named in setcap advice.
    public static func run(program: String) throws -> [Check] {
        var list: UnsafeMutablePointer<nl_check>?
        var n = 0
        try nlCheck { nl_doctor_run(program, &list, &n, $0) }
        defer { free(list) }
        return UnsafeBufferPointer(start: list, count: n).map {
            Check(topic: tupleString($0.topic), status: cString(nl_check_status_name($0.status)),
                  detail: tupleString($0.detail), fix: tupleString($0.fix))
        }
    }
}
