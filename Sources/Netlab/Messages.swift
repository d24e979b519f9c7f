// MessageSet: the messages of one CSV, loaded and validated by libnetlab (libcsv).
import CNetlab

public struct Message {
    public let id: String
    public let appProtocol: String
    public let srcApp: String
    public let dstApp: String
    public let timestamp: String
    public let line: Int
    /// Payload length in bytes.
    public let length: Int
    // The payload stays in the C message set (kept alive here): looking a message up per
    // segment must not copy a 16 MiB payload each time (issue 8: that made the injector quadratic).
    let owner: MessageSet
    let data: UnsafePointer<UInt8>?

    /// The payload, copied out on each use: prefer `payload` for a slice of a large one.
    public var bytes: [UInt8] { Array(payload) }
    /// The payload without copying, valid while this Message (or its MessageSet) lives.
    public var payload: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: data, count: length) }
    public var text: String { String(decoding: payload, as: UTF8.self) }
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
                       dstApp: cString(m.dst_app), timestamp: cString(m.timestamp), line: Int(m.line),
                       length: m.len, owner: self, data: m.data)
    }

    public var warnings: [String] {
        (0..<nl_messages_warning_count(handle)).map { cString(nl_messages_warning(handle, $0)) }
    }
}
