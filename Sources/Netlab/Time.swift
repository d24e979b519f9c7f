// NanoTime: libnetlab's overflow-free nanosecond arithmetic and formatting
// (nl_time.h). Every time shown by a tool goes through here, so a capture with
// timestamps anywhere in the int64 range never traps.
import CNetlab

public enum NanoTime {
    /// (last - first) in seconds, for every pair of Int64 nanosecond times.
    public static func span(_ first: Int64, _ last: Int64) -> Double { nl_time_span_s(first, last) }

    /// a - b in nanoseconds, saturated.
    public static func difference(_ a: Int64, _ b: Int64) -> Int64 { nl_time_sub(a, b) }

    /// ISO 8601 UTC ("2025-03-01T10:00:00.000300Z"; nine digits when nano).
    public static func iso8601(_ ns: Int64, nano: Bool) -> String {
        var buf = [CChar](repeating: 0, count: 48)
        _ = nl_time_iso8601(ns, nano ? 1 : 0, &buf, buf.count)
        return String(cString: buf)
    }
}
