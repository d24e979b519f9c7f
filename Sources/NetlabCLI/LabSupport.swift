// Pieces the lab and the report share: the bundled sample, the echo exercise's
// lines, and the error type of both commands.
import Foundation
import Netlab

struct LabError: Error {
    let message: String
}

enum LabFiles {
    /// samples/group01_chat_input.csv as netlab ships it, found from the running executable
    /// (never the current folder).
    static func sample() throws -> String { try Front.dataFile("samples/group01_chat_input.csv") }

    /// The lines the echo exercise sends: each message, split at its line breaks.
    static func lines(of ms: MessageSet) -> [String] {
        (0..<ms.count).flatMap { i in
            ms[i].text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
            }
        }
    }

    /// Lines split at LF, a CR before it dropped (by scalars: Swift keeps CRLF as one Character).
    static func splitLines(_ text: String) -> [String] {
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if u == "\n" {
                if cur.last == "\r" { cur.removeLast() }
                out.append(String(cur))
                cur = String.UnicodeScalarView()
            } else {
                cur.append(u)
            }
        }
        out.append(String(cur))
        return out
    }

    /// The lines of a text file as the echo client sends them (LF or CRLF ends a line; a last line without
    /// its LF still counts).
    static func lines(ofFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabError(message: "--input \(path): cannot read it")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LabError(message: "--input \(path): not UTF-8 text")
        }
        var ls = splitLines(text)
        if ls.last == "" { ls.removeLast() }
        guard !ls.isEmpty else { throw LabError(message: "--input \(path): no line to send") }
        return ls
    }

    /// The messages as a CSV in which every one travels from "client" to "server" (RFC 4180 quoting).
    static func clientToServerCSV(_ ms: MessageSet) -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var out = "msg_id,app_protocol,src_app,dst_app,message,timestamp\r\n"
        for i in 0..<ms.count {
            let m = ms[i]
            out += [m.id, m.appProtocol, "client", "server", m.text, m.timestamp].map(q).joined(separator: ",") + "\r\n"
        }
        return out
    }
}
