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
    /// The whole greeting's payload bytes (over every segment it spans).
    public let payloadBytes: UInt32
    public let text: AnswerText
    public var lastPacket: UInt64 = 0
    public var segments: Int = 1
    /// tcp.len of `packet` alone.
    public var packetBytes: UInt32 = 0

    /// "packet 4, 19 bytes of payload: "..."", or for a greeting in several segments
    /// "packets 4-6 (3 segments), 3000 bytes of payload: "..."".
    public var sentence: String {
        let at = segments > 1 ? "packets \(packet)-\(lastPacket) (\(segments) segments; packet \(packet) holds \(packetBytes))"
            : "packet \(packet)"
        return "\(at), \(payloadBytes) bytes of payload: \"\(text.visible())\""
    }
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
    /// A request (or reply) is one line; it may span segments (`*Segments` > 1, `*Bytes` its whole length)
    /// or share its packet with other lines (`requestLines` > 1): `*PacketBytes` is the first packet's tcp.len.
    public var requestSegments = 1, requestLine = 1, requestLines = 1
    public var requestPacketBytes: UInt32 = 0
    public var replySegments = 1
    public var replyPacketBytes: UInt32 = 0
    /// Why the reply is this request's ("echo (reversed, case swapped)", "chat reply"), nil when none.
    public var replyMatch: String?
    /// Why there is no reply (nil when there is one), and the server line that came next (0: none).
    public var noReply: String?
    public var nextServerPacket: UInt64 = 0

    /// Where a message is, with its own bytes and its packet's: "packet 8 (26 B)", "packet 21 (line 2 of 3,
    /// 4 B; the packet holds 12 B)", "packets 25-27 (2 segments, 14 B in all)".
    static func place(_ first: UInt64, _ last: UInt64, segments: Int, bytes: UInt32, packetBytes: UInt32,
                      line: Int, lines: Int) -> String {
        if segments > 1 { return "packets \(first)-\(last) (\(segments) segments, \(bytes) B in all)" }
        if lines > 1 || bytes != packetBytes {
            let which = lines > 1 ? "line \(line) of \(lines), " : ""
            return "packet \(first) (\(which)\(bytes) B; the packet holds \(packetBytes) B)"
        }
        return "packet \(first) (\(bytes) B)"
    }

    public var requestPlace: String {
        Self.place(requestPacket, requestLastPacket, segments: requestSegments, bytes: requestBytes,
                   packetBytes: requestPacketBytes, line: requestLine, lines: requestLines)
    }

    /// The reply in words: "packet 23 (...) "CBA\n", echo (reversed, case swapped)", or "no reply: why".
    public var replySentence: String {
        guard replyPacket != 0 else {
            return "no reply: " + (noReply ?? "none captured") + (nextServerPacket != 0 ? " (the server's next line: packet \(nextServerPacket))" : "")
        }
        let shared = replySegments == 1 && replyShared > 1
        let at = Self.place(replyPacket, replyLastPacket, segments: replySegments, bytes: replyBytes,
                            packetBytes: replyPacketBytes, line: 0, lines: 1)
        let place = shared ? "packet \(replyPacket) (\(replyBytes) B, one of the \(replyShared) reply lines of its \(replyPacketBytes) B)"
            : at
        return place + " \"\(reply.visible(limit: 60))\"" + (replyMatch.map { ", \($0)" } ?? "")
    }
}

public struct AnswerInterface {
    public enum Kind: String { case file, ifindex }
    public let kind: Kind
    public let index: UInt32
    /// Its name when the file proves it (pcapng if_name of a capture on it; lo for Linux's loopback).
    public let name: String?
    public let description: String?
    public let packets: UInt64
    public let loopback: Bool
    /// What it is ("loopback", "Ethernet", ...) and how the file shows it (C's words).
    public var what = ""
    public var how = ""
    public var linkType = 0
    public var hatype = 0
    /// The capture file's interface name ("any"), when recorded.
    public var captureName: String?

    /// Its name, and where the name comes from: the file, else `names` (the lab's interfaces.txt).
    public func named(_ names: [UInt32: String]) -> (String, String)? {
        if let n = name { return (n, "capture") }
        if kind == .ifindex, let n = names[index] { return (n, "interfaces.txt") }
        return nil
    }

    /// The answer in words: "lo, the loopback interface (Linux cooked v2 header: ARPHRD_LOOPBACK (772), ifindex 1;
    /// ...)", "an Ethernet interface, ifindex 2 (...; `ip -o link` on the capturing host names index 2)". Names
    /// from outside go through the text path (safeLine): one inert line.
    public func label(names: [UInt32: String] = [:]) -> String {
        let w = what.isEmpty ? (loopback ? "loopback" : "network") : what
        let idx = kind == .ifindex ? ", ifindex \(index)" : ""
        if let (n, from) = named(names) {
            let src = from == "interfaces.txt" ? "; the name from the lab's interfaces.txt" : ""
            return "\(safeLine(n, limit: 256)), the \(w) interface\(idx) (\(safeLine(how, limit: 300))\(src))"
        }
        let vowel = w.first.map { "aeiouAEIOU8".contains($0) } ?? false
        let phrase = w.hasPrefix("an ") || w.hasPrefix("a ") ? w : "\(vowel ? "an" : "a") \(w) interface"
        let hint = kind == .ifindex ? "; `ip -o link` on the capturing host names index \(index)" : ""
        return "\(phrase)\(idx) (\(safeLine(how, limit: 300))\(hint))"
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
    /// Why there is no greeting ("the client spoke first, in packet 4 ..."), nil when there is one.
    public var noGreeting: String?
    public var clientFirstPacket: UInt64 = 0
    /// The server echoes the client's lines.
    public var echo = false
    /// What this conversation cannot answer and why, nil when everything can be.
    public var cannot: String?

    /// The greeting answer in words.
    public var greetingSentence: String {
        if let g = greeting { return g.sentence }
        return "none: " + (noGreeting ?? "the server did not speak first")
    }
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
    /// What the capture cannot answer and why (no TCP, unknown link type, cut short, not all listed), nil when all.
    public let cannot: String?
    /// TCP conversations in the capture (`conversations` holds the first max-listed of them).
    public let conversationsTotal: Int
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

    /// Reads the capture (one pass of the analysis) and answers its questions; at most `maxListed`
    /// conversations in detail (0: the library's default).
    public init(path: String, maxListed: UInt32 = 0) throws {
        var h: OpaquePointer?
        try nlCheck { nl_answers_file_listed(path, maxListed, &h, $0) }
        self.init(handle: Handle(h), file: path)
    }

    /// The answers of an analysis made with answers asked for (nl_analysis_answers), kept alive by `owner`.
    public init?(analysis: OpaquePointer, file: String, owner: AnyObject) {
        guard let h = nl_analysis_answers(analysis) else { return nil }
        self.init(handle: Handle(h, owner: owner), file: file)
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
        cannot = cap.cannot.map { String(cString: $0) }
        conversationsTotal = Int(cap.conversations_total)
        users = (0..<Int(cap.users)).compactMap { k in
            var u = nl_chat_user()
            guard nl_answers_user(h, k, &u) == 0 else { return nil }
            return ChatUser(name: cString(u.name), conversation: Int(u.conversation), client: tupleString(u.client),
                            clientPort: Int(u.client_port), packet: u.packet)
        }
        conversations = (0..<nl_answers_count(h)).compactMap { i in
            var r = nl_answer()
            guard nl_answers_get(h, i, &r) == 0 else { return nil }
            var g = r.greeting_packet == 0 ? nil
                : Greeting(packet: r.greeting_packet, payloadBytes: r.greeting_bytes,
                           text: AnswerText(r.greeting_text, r.greeting_text_len))
            g?.lastPacket = r.greeting_last_packet
            g?.segments = Int(r.greeting_segments)
            g?.packetBytes = r.greeting_packet_bytes
            let ties = (0..<min(Int(r.largest_count), Int(NL_ANSWERS_TIE_CAP))).map { nl_answers_largest(h, i, $0) }
            let xs: [Exchange] = (0..<min(Int(r.exchanges), Int(NL_ANSWERS_EXCHANGE_CAP))).compactMap { k in
                var x = nl_exchange()
                guard nl_answers_exchange(h, i, k, &x) == 0 else { return nil }
                var e = Exchange(requestPacket: x.request_packet, requestLastPacket: x.request_last_packet,
                                 requestBytes: x.request_bytes, request: AnswerText(x.request_text, x.request_text_len),
                                 replyPacket: x.reply_packet, replyLastPacket: x.reply_last_packet,
                                 replyBytes: x.reply_bytes, reply: AnswerText(x.reply_text, x.reply_text_len),
                                 replyExpected: x.reply_expected != 0, replyShared: Int(x.reply_shared),
                                 field: cString(x.field))
                e.requestSegments = Int(x.request_segments)
                e.requestLine = Int(x.request_line)
                e.requestLines = Int(x.request_lines)
                e.requestPacketBytes = x.request_packet_bytes
                e.replySegments = Int(x.reply_segments)
                e.replyPacketBytes = x.reply_packet_bytes
                e.replyMatch = x.reply_match.map { String(cString: $0) }
                e.noReply = x.no_reply.map { String(cString: $0) }
                e.nextServerPacket = x.next_server_packet
                return e
            }
            let ifs: [AnswerInterface] = (0..<Int(r.interfaces)).compactMap { k in
                var f = nl_answer_iface()
                guard nl_answers_iface(h, i, k, &f) == 0 else { return nil }
                var i = AnswerInterface(kind: f.kind == Int32(NL_ANSWER_IFACE_INDEX.rawValue) ? .ifindex : .file,
                                        index: f.index, name: f.name.map { String(cString: $0) },
                                        description: f.description.map { String(cString: $0) },
                                        packets: f.packets, loopback: f.loopback != 0)
                i.what = tupleString(f.what)
                i.how = tupleString(f.how)
                i.linkType = Int(f.linktype)
                i.hatype = Int(f.hatype)
                i.captureName = f.capture_name.map { String(cString: $0) }
                return i
            }
            var c = ConversationAnswers(
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
            c.noGreeting = r.no_greeting.map { String(cString: $0) }
            c.clientFirstPacket = r.client_first_packet
            c.echo = r.echo != 0
            c.cannot = r.cannot.map { String(cString: $0) }
            return c
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
