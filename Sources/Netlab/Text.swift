// Text made safe for a terminal line or a report. Every escaping decision is C's
// (nl_text.c: nl_text_escape, nl_text_sanitize; nl_chat_name_valid): Swift only carries bytes.
import CNetlab

/// Runs one of nl_text.c's writers (snprintf-like: returns the length it needs) and returns its text.
private func cText(_ bytes: [UInt8], _ write: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<CChar>, Int) -> Int) -> String {
    bytes.withUnsafeBufferPointer { b in
        var cap = b.count * 4 + 64
        while true {
            var out = [CChar](repeating: 0, count: cap)
            let need = out.withUnsafeMutableBufferPointer { write(b.baseAddress, b.count, $0.baseAddress!, cap) }
            if need < cap { return String(decoding: out[..<need].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            cap = need + 1
        }
    }
}

/// The bytes as one line of UTF-8 text with \n, \r, \t, \\ and other control characters escaped
/// and bidirectional controls masked, at most `limit` characters (then "…"): nl_text_escape.
public func safePreview<C: Collection>(_ bytes: C, limit: Int) -> String where C.Element == UInt8 {
    guard limit > 0 else { return bytes.isEmpty ? "" : "…" }
    // Hand C only what can be shown: limit + 1 characters take at most 4 * (limit + 1) bytes
    // (a byte that is not UTF-8 counts as one character), so a 16 MiB message costs no more
    // than a short one, and C still sees that more follows.
    let room = limit < Int.max / 4 - 1 ? 4 * (limit + 1) : Int.max
    return cText(Array(bytes.prefix(room))) { nl_text_escape($0, $1, 0, limit, $2, $3) }
}

/// A string from outside the program (a capture's interface name or description, a chat user's name, a
/// file name) for one line of a terminal report: safePreview's notation, at most `limit` characters.
public func safeLine(_ s: String, limit: Int = 4096) -> String { safePreview(s.utf8, limit: limit) }

/// The bytes as they were sent, lines and tabs kept, every other control character escaped and
/// bidirectional controls masked (analyze --follow): nl_text_escape with NL_TEXT_KEEP_LINES.
public func safeStreamText<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    cText(Array(bytes)) { nl_text_escape($0, $1, UInt32(NL_TEXT_KEEP_LINES), 0, $2, $3) }
}

/// The chat protocol's name rule (1-32 of A-Z a-z 0-9 _ -): nl_chat_name_valid.
public func chatNameValid(_ name: String) -> Bool {
    let b = Array(name.utf8)
    return b.withUnsafeBufferPointer { nl_chat_name_valid($0.baseAddress, $0.count) } == 1
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

/// Text from anywhere (a capture's payload or interface name, a chat name, a file name, an option) as
/// inert Markdown inline text, HTML inside it included: nl_text_markdown (one line; never for code spans).
public func markdownText(_ s: String) -> String {
    cText(Array(s.utf8)) { nl_text_markdown($0, $1, $2, $3) }
}
