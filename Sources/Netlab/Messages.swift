// MessageSet: the messages of one CSV, loaded and validated by libnetlab (libcsv).
import CNetlab

public struct Message {
    public let id: String
    public let appProtocol: String
    public let srcApp: String
    public let dstApp: String
    public let bytes: [UInt8]
    public let timestamp: String
    public let line: Int
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

public final class MessageSet {
    let handle: OpaquePointer

    /// Load a CSV file; throws NetlabError naming file, line and column.
    public init(path: String) throws {
        var out: OpaquePointer?
        try nlCheck { nl_messages_load(path, &out, $0) }
        handle = out!
    }

    /// Parse CSV bytes held in memory; `name` appears in error messages.
    public init(bytes: [UInt8], name: String) throws {
        var out: OpaquePointer?
        _ = try bytes.withUnsafeBytes { raw in
            try nlCheck { nl_messages_parse(raw.baseAddress, raw.count, name, &out, $0) }
        }
        handle = out!
    }

    deinit { nl_messages_free(handle) }

    public var count: Int { nl_messages_count(handle) }
    public var name: String { cString(nl_messages_name(handle)) }

    public subscript(i: Int) -> Message {
        let m = nl_messages_at(handle, i)!.pointee
        return Message(id: cString(m.id), appProtocol: cString(m.app_protocol), srcApp: cString(m.src_app),
                       dstApp: cString(m.dst_app), bytes: Array(UnsafeBufferPointer(start: m.data, count: m.len)),
                       timestamp: cString(m.timestamp), line: Int(m.line))
    }

    public var warnings: [String] {
        (0..<nl_messages_warning_count(handle)).map { cString(nl_messages_warning(handle, $0)) }
    }
}
