// Explanation: libnetlab's field-by-field account of one IPv4/TCP packet, copied
// into Swift values for rendering. All meanings and checksum steps come from C.
import CNetlab

public struct Field {
    public let layer: String
    public let name: String
    public let bitOffset, bitWidth: Int
    public let value: UInt64
    public let valueText: String
    public let meaning: String
}

public struct Span {
    public let layer: String
    public let offset, length: Int
}

public struct ChecksumWord {
    public let value: UInt16
    public let part: String      // "pseudo-header", "header", "data"
    public let offset: Int
    public let padded: Bool
}

public struct ChecksumTrace {
    public let words: [ChecksumWord]
    public let sum: UInt32
    public let folds: [UInt32]
    public let folded: UInt16
    public let checksum: UInt16
    public let inPacket: UInt16
    public let fieldOffset: Int
    public var correct: Bool { checksum == inPacket }

    init(_ t: nl_cksum_trace) {
        let parts = ["pseudo-header", "header", "data"]
        words = UnsafeBufferPointer(start: t.words, count: t.nwords).map {
            ChecksumWord(value: $0.value, part: parts[Int($0.part)], offset: Int($0.offset), padded: $0.padded != 0)
        }
        sum = t.sum
        folds = withUnsafeBytes(of: t.folds) { Array($0.bindMemory(to: UInt32.self).prefix(t.nfolds)) }
        folded = t.folded
        checksum = t.checksum
        inPacket = t.in_packet
        fieldOffset = Int(t.field_offset)
    }
}

public struct Explanation {
    public let fields: [Field]
    public let spans: [Span]
    public let ipChecksum: ChecksumTrace
    public let tcpChecksum: ChecksumTrace
    public let pseudoHeader: [UInt8]
    public let summary: String

    public init(bytes: UnsafeBufferPointer<UInt8>, context: nl_explain_ctx?) throws {
        var x = nl_explain()
        if var ctx = context {
            try nlCheck { nl_explain_packet(bytes.baseAddress, bytes.count, &ctx, &x, $0) }
        } else {
            try nlCheck { nl_explain_packet(bytes.baseAddress, bytes.count, nil, &x, $0) }
        }
        defer { nl_explain_free(&x) }
        fields = UnsafeBufferPointer(start: x.fields, count: x.nfields).map { f in
            Field(layer: cString(nl_layer_name(Int32(f.layer))), name: tupleString(f.name),
                  bitOffset: Int(f.bit_offset), bitWidth: Int(f.bit_width), value: f.value,
                  valueText: tupleString(f.value_text), meaning: tupleString(f.meaning))
        }
        spans = withUnsafeBytes(of: x.spans) { raw in
            raw.bindMemory(to: nl_xspan.self).prefix(x.nspans).map {
                Span(layer: cString(nl_layer_name(Int32($0.layer))), offset: Int($0.offset), length: Int($0.len))
            }
        }
        ipChecksum = ChecksumTrace(x.ip)
        tcpChecksum = ChecksumTrace(x.tcp)
        pseudoHeader = withUnsafeBytes(of: x.pseudo) { Array($0) }
        summary = tupleString(x.summary)
    }
}
