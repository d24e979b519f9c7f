// Text made safe for a terminal line or a report: control characters escaped,
// cut to a number of characters. Shared by the executables.

/// The bytes as UTF-8 text with \n, \r, \t, \\ and other control characters escaped,
/// at most `limit` characters (then "…").
public func safePreview<C: Collection>(_ bytes: C, limit: Int) -> String where C.Element == UInt8 {
    var out = ""
    var count = 0
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
        if count >= limit {
            out += "…"
            break
        }
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\\": out += "\\\\"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        count += 1
    }
    return out
}
