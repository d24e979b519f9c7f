// Answers: libnetlab's answer sheet of a capture (nl_answers.h), copied into
// Swift values for rendering. The rules (greeting, exchanges, bytes, ties) are
// the C library's; this file only converts.
import CNetlab

public struct AnswerText {
    /// Captured bytes (up to NL_ANSWERS_TEXT_CAP).
    public let bytes: [UInt8]
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// For one line of a report: control bytes escaped (\n, \r, \t, \xNN), bidirectional
    /// controls masked, the rest as UTF-8 (C's nl_text_escape, through safePreview).
    public func visible(limit: Int = 120) -> String { safePreview(bytes, limit: limit) }
    init(_ p: UnsafePointer<UInt8>?, _ n: Int) { bytes = p.map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? [] }
}

public struct Greeting {
    public let packet: UInt64
    public let payloadBytes: UInt32
    public let text: AnswerText
}

public struct Exchange {
    public let requestPacket, requestLastPacket: UInt64
    public let requestBytes: UInt32
    public let request: AnswerText
    /// 0 when no reply was captured (or, for chat MSG/SAY, none is sent).
    public let replyPacket, replyLastPacket: UInt64
    public let replyBytes: UInt32
    public let reply: AnswerText
    public let replyExpected: Bool
    /// How many requests' replies the reply packet carries (its lines in order; `reply` is this one's line).
    public let replyShared: Int
    /// Where the data travels in the packet: "tcp.payload".
    public let field: String
}

public struct AnswerInterface {
    public enum Kind: String { case file, ifindex }
    public let kind: Kind
    public let index: UInt32
    public let name: String?
    public let description: String?
    public let packets: UInt64
    public let loopback: Bool

    /// How the answer sheet names it: the capture's name, else the index (named from `names`, e.g. the lab's
    /// interfaces.txt, when given). Names from outside go through the text path (safeLine): one inert line.
    public func label(names: [UInt32: String] = [:]) -> String {
        if let n = name { return safeLine(n, limit: 256) }
        switch kind {
        case .ifindex:
            if let n = names[index] { return "\(safeLine(n, limit: 256)) (ifindex \(index)\(loopback ? ", loopback" : ""))" }
            return "ifindex \(index)\(loopback ? " (loopback)" : "")"
        case .file:
            return "interface \(index) of the file (no name recorded)\(loopback ? ", loopback" : "")"
        }
    }
}

public struct ConversationAnswers {
    public let conversation: Int
    public let transport: String
    public let server, client: String
    public let serverPort, clientPort: Int
    public let serverBasis: String
    public let firstPacket, lastPacket: UInt64
    public let framesC2S, framesS2C: UInt64
    public let frameBytesC2S, frameBytesS2C: UInt64
    public let payloadC2S, payloadS2C: UInt64
    public let greeting: Greeting?
    public let largestBytes: UInt32
    /// Every packet tied for the largest payload (listed up to NL_ANSWERS_TIE_CAP).
    public let largestPackets: [UInt64]
    public let largestCount: Int
    public let exchanges: [Exchange]
    public let exchangeCount: Int
    public let interfaces: [AnswerInterface]
    public let chat: Bool
    public let user: String?
}

public struct ChatUser {
    public let name: String
    public let conversation: Int
    public let client: String
    public let clientPort: Int
    public let packet: UInt64
}

public struct CaptureAnswers {
    public let file: String
    public let packets: UInt64
    public let conversations: [ConversationAnswers]
    public let largestBytes: UInt32
    public let largestPackets: [UInt64]
    public let largestCount: Int
    public let users: [ChatUser]
    public let readError: NetlabError?
    private let handle: Handle

    final class Handle {
        let h: OpaquePointer?
        let owner: AnyObject?  // answers borrowed from what owns them (a class's grades): not ours to free
        init(_ h: OpaquePointer?, owner: AnyObject? = nil) {
            self.h = h
            self.owner = owner
        }
        deinit { if owner == nil { nl_answers_free(h) } }
    }

    /// Packet `number` of the capture, with what explaining it needs.
    public func packet(_ number: UInt64) throws -> CapturedPacket {
        var p = nl_packet_copy()
        try nlCheck { nl_answers_packet(handle.h, number, &p, $0) }
        defer { nl_packet_copy_free(&p) }
        let frame = Array(UnsafeBufferPointer(start: p.frame, count: p.frame_len))
        return CapturedPacket(number: number, frame: frame, wireLength: Int(p.wire_len), linkType: Int(p.linktype),
                              l3Offset: Int(p.l3_offset), l3Length: Int(p.l3_len), ipVersion: Int(p.ipver),
                              checksumIP: Int(p.ck_ip), checksumTCP: Int(p.ck_l4), offloadTCP: Int(p.offload_l4),
                              context: p.ctx, fromClient: p.from_client != 0, conversation: Int(p.conversation))
    }

    /// Reads the capture (two passes) and answers its questions.
    public init(path: String) throws {
        var h: OpaquePointer?
        try nlCheck { nl_answers_file(path, &h, $0) }
        self.init(handle: Handle(h), file: path)
    }

    /// Answers that `owner` holds (a graded capture's, nl_class_capture): kept alive by it, never freed here.
    init(borrowing h: OpaquePointer, file: String, owner: AnyObject) {
        self.init(handle: Handle(h, owner: owner), file: file)
    }

    private init(handle: Handle, file path: String) {
        let h = handle.h
        self.handle = handle
        var cap = nl_answers_capture()
        nl_answers_capture(h, &cap)
        file = path
        packets = cap.packets
        largestBytes = cap.largest_bytes
        largestCount = Int(cap.largest_count)
        largestPackets = (0..<min(largestCount, Int(NL_ANSWERS_TIE_CAP))).map { nl_answers_capture_largest(h, $0) }
        readError = cap.read_error != 0
            ? NetlabError(code: Int32(cap.read_error), message: cString(cap.read_error_text)) : nil
        users = (0..<Int(cap.users)).compactMap { k in
            var u = nl_chat_user()
            guard nl_answers_user(h, k, &u) == 0 else { return nil }
            return ChatUser(name: cString(u.name), conversation: Int(u.conversation), client: tupleString(u.client),
                            clientPort: Int(u.client_port), packet: u.packet)
        }
        conversations = (0..<nl_answers_count(h)).compactMap { i in
            var r = nl_answer()
            guard nl_answers_get(h, i, &r) == 0 else { return nil }
            let g = r.greeting_packet == 0 ? nil
                : Greeting(packet: r.greeting_packet, payloadBytes: r.greeting_bytes,
                           text: AnswerText(r.greeting_text, r.greeting_text_len))
            let ties = (0..<min(Int(r.largest_count), Int(NL_ANSWERS_TIE_CAP))).map { nl_answers_largest(h, i, $0) }
            let xs: [Exchange] = (0..<min(Int(r.exchanges), Int(NL_ANSWERS_EXCHANGE_CAP))).compactMap { k in
                var x = nl_exchange()
                guard nl_answers_exchange(h, i, k, &x) == 0 else { return nil }
                return Exchange(requestPacket: x.request_packet, requestLastPacket: x.request_last_packet,
                                requestBytes: x.request_bytes, request: AnswerText(x.request_text, x.request_text_len),
                                replyPacket: x.reply_packet, replyLastPacket: x.reply_last_packet,
                                replyBytes: x.reply_bytes, reply: AnswerText(x.reply_text, x.reply_text_len),
                                replyExpected: x.reply_expected != 0, replyShared: Int(x.reply_shared),
                                field: cString(x.field))
            }
            let ifs: [AnswerInterface] = (0..<Int(r.interfaces)).compactMap { k in
                var f = nl_answer_iface()
                guard nl_answers_iface(h, i, k, &f) == 0 else { return nil }
                return AnswerInterface(kind: f.kind == Int32(NL_ANSWER_IFACE_INDEX.rawValue) ? .ifindex : .file,
                                       index: f.index, name: f.name.map { String(cString: $0) },
                                       description: f.description.map { String(cString: $0) },
                                       packets: f.packets, loopback: f.loopback != 0)
            }
            return ConversationAnswers(
                conversation: Int(r.conversation), transport: cString(r.transport),
                server: tupleString(r.server), client: tupleString(r.client),
                serverPort: Int(r.server_port), clientPort: Int(r.client_port), serverBasis: cString(r.server_basis),
                firstPacket: r.first_packet, lastPacket: r.last_packet,
                framesC2S: r.frames_c2s, framesS2C: r.frames_s2c,
                frameBytesC2S: r.frame_bytes_c2s, frameBytesS2C: r.frame_bytes_s2c,
                payloadC2S: r.payload_c2s, payloadS2C: r.payload_s2c, greeting: g,
                largestBytes: r.largest_bytes, largestPackets: ties, largestCount: Int(r.largest_count),
                exchanges: xs, exchangeCount: Int(r.exchanges), interfaces: ifs, chat: r.chat != 0,
                user: r.user.map { String(cString: $0) })
        }
    }
}

/// One captured packet, copied for explaining.
public struct CapturedPacket {
    public let number: UInt64
    public let frame: [UInt8]
    public let wireLength: Int
    public let linkType: Int
    public let l3Offset, l3Length: Int
    public let ipVersion: Int
    /// nl_decode's verdicts: 1 good, 2 bad, 3 offload, 4 unverified.
    public let checksumIP, checksumTCP: Int
    /// 1: the field holds only the pseudo-header sum, 2: zero (the NIC was to fill it in).
    public let offloadTCP: Int
    public let context: nl_explain_ctx?
    public let fromClient: Bool
    public let conversation: Int
    public var ipBytes: [UInt8] { Array(frame[l3Offset..<min(frame.count, l3Offset + l3Length)]) }

    /// Every field and both checksums of its IPv4/TCP headers.
    public func explain() throws -> Explanation {
        let b = ipBytes
        return try b.withUnsafeBufferPointer { try Explanation(bytes: $0, context: context) }
    }
}
