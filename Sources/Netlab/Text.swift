// Text made safe for a terminal line or a report: control characters escaped,
// cut to a number of characters. Shared by the executables.

/// The bytes as UTF-8 text with \n, \r, \t, \\ and other control characters escaped,
/// at most `limit` characters (then "…").
public func safePreview<C: Collection>(_ bytes: C, limit: Int) -> String where C.Element == UInt8 {
    var out = ""
    var count = 0
    // Decode only what can be shown: limit + 1 scalars take at most 4 * (limit + 1) bytes,
    // so a 16 MiB message costs no more than a short one.
    for scalar in String(decoding: bytes.prefix(4 * (limit + 1)), as: UTF8.self).unicodeScalars {
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

#if canImport(Glibc)
import Glibc
#endif

/// Colour only on a terminal, never when NO_COLOR is set (https://no-color.org) or the user said no.
public func terminalWantsColor(fd: Int32 = 1, disabled: Bool = false) -> Bool {
    !disabled && isatty(fd) == 1 && getenv("NO_COLOR") == nil
}

/// ANSI styling for renderers that decide once whether to colour.
public protocol TerminalStyled {
    var color: Bool { get }
}

extension TerminalStyled {
    public func style(_ s: String, _ code: String) -> String { color ? "\u{1b}[\(code)m\(s)\u{1b}[0m" : s }
    public func bold(_ s: String) -> String { style(s, "1") }
    public func dim(_ s: String) -> String { style(s, "2") }
    public func good(_ s: String) -> String { style(s, "32") }
    public func bad(_ s: String) -> String { style(s, "1;31") }
    public func warn(_ s: String) -> String { style(s, "33") }
}
