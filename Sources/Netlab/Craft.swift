// CraftOptions and Plan: the conversation libnetlab builds from a MessageSet.
// Every option is parsed and checked in C so C programs behave the same.
import CNetlab

public struct CraftOptions {
    public var raw = nl_craft_opts()

    public init() { nl_craft_opts_init(&raw) }

    public mutating func setSourceIP(_ text: String) throws {
        _ = try withUnsafeMutableBytes(of: &raw.src_ip) { b in
            try nlCheck { nl_ipv4_parse_addr(text, b.baseAddress!.assumingMemoryBound(to: UInt8.self), $0) }
        }
    }

    public mutating func setDestinationIP(_ text: String) throws {
        _ = try withUnsafeMutableBytes(of: &raw.dst_ip) { b in
            try nlCheck { nl_ipv4_parse_addr(text, b.baseAddress!.assumingMemoryBound(to: UInt8.self), $0) }
        }
    }

    public mutating func setSourcePort(_ text: String) throws {
        try nlCheck { nl_parse_port(text, 0, "--src-port", &raw.src_port, $0) }
    }

    public mutating func setDestinationPort(_ text: String) throws {
        try nlCheck { nl_parse_port(text, 0, "--dst-port", &raw.dst_port, $0) }
    }

    public mutating func addPortMap(_ spec: String) throws {
        try nlCheck { nl_craft_opts_add_port_map(&raw, spec, $0) }
    }

    public mutating func addAppAddress(_ spec: String) throws {
        try nlCheck { nl_craft_opts_add_app_addr(&raw, spec, $0) }
    }

    public mutating func addServer(_ app: String) throws {
        try nlCheck { nl_craft_opts_add_server(&raw, app, $0) }
    }

    public func validate() throws {
        var copy = raw
        try nlCheck { nl_craft_opts_validate(&copy, $0) }
    }
}

public struct Conversation {
    public let index: Int
    public let clientApp, serverApp, appProtocol: String
    public let client, server: String   // "ip:port"
    public let clientISN, serverISN: UInt32
    public let messagesC2S, messagesS2C: Int
    public let bytesC2S, bytesS2C: UInt64
    public let packets: Int
}

public struct Packet {
    public let number: Int              // 1-based, as Wireshark numbers frames
    public let bytes: [UInt8]
    public let timeNs: Int64
    public let message: Int?            // index into the MessageSet
    public let segment, segments: Int
    public let conversation: Int
    public let fromClient: Bool
    public let kind: String
    public let flags: String            // "PSH, ACK"
    public let payloadOffset, payloadLength: Int
    public let relativeSeq, relativeAck: UInt32
    public let ipChecksumLibnet, ipChecksumNetlab: UInt16
    public let tcpChecksumLibnet, tcpChecksumNetlab: UInt16
    public var checksumsAgree: Bool {
        ipChecksumLibnet == ipChecksumNetlab && tcpChecksumLibnet == tcpChecksumNetlab
    }
}

/// TCP control bits as Wireshark writes them ("SYN, ACK").
public func tcpFlags(_ flags: UInt8) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    nl_tcp_flags_str(flags, &buf, buf.count)
    return String(cString: buf)
}

func formatIPv4<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { "\($0[0]).\($0[1]).\($0[2]).\($0[3])" }
}

public final class Plan {
    let handle: OpaquePointer
    public let messages: MessageSet   // the C plan points into it: keep it alive

    public init(messages: MessageSet, options: CraftOptions) throws {
        var out: OpaquePointer?
        var o = options.raw
        try nlCheck { nl_plan_build(messages.handle, &o, &out, $0) }
        handle = out!
        self.messages = messages
    }

    deinit { nl_plan_free(handle) }

    public var packetCount: Int { nl_plan_packet_count(handle) }
    public var conversationCount: Int { nl_plan_conv_count(handle) }
    public var totalBytes: UInt64 { nl_plan_bytes(handle) }

    public func packet(_ i: Int) -> Packet {
        let k = nl_plan_packet(handle, i)!.pointee
        return Packet(number: i + 1, bytes: Array(UnsafeBufferPointer(start: k.bytes, count: Int(k.len))),
                      timeNs: k.time_ns, message: k.msg >= 0 ? Int(k.msg) : nil, segment: Int(k.segment),
                      segments: Int(k.segments), conversation: Int(k.conv), fromClient: k.from_client != 0,
                      kind: cString(nl_pkt_kind_name(Int32(k.kind))), flags: tcpFlags(k.tcp_flags),
                      payloadOffset: Int(k.payload_offset),
                      payloadLength: Int(k.payload_len), relativeSeq: k.rel_seq, relativeAck: k.rel_ack,
                      ipChecksumLibnet: k.ip_cksum_libnet, ipChecksumNetlab: k.ip_cksum_netlab,
                      tcpChecksumLibnet: k.tcp_cksum_libnet, tcpChecksumNetlab: k.tcp_cksum_netlab)
    }

    public var packets: [Packet] { (0..<packetCount).map(packet) }

    public func conversation(_ i: Int) -> Conversation {
        let c = nl_plan_conv(handle, i)!.pointee
        return Conversation(index: i, clientApp: cString(c.client_app), serverApp: cString(c.server_app),
                            appProtocol: cString(c.app_protocol),
                            client: "\(formatIPv4(c.client_ip)):\(c.client_port)",
                            server: "\(formatIPv4(c.server_ip)):\(c.server_port)",
                            clientISN: c.client_isn, serverISN: c.server_isn,
                            messagesC2S: Int(c.messages_c2s), messagesS2C: Int(c.messages_s2c),
                            bytesC2S: c.bytes_c2s, bytesS2C: c.bytes_s2c, packets: Int(c.packets))
    }

    public var conversations: [Conversation] { (0..<conversationCount).map(conversation) }

    /// Write every packet to a pcap (LINKTYPE_RAW) through a temporary file and rename.
    public func writePcap(to path: String) throws {
        try nlCheck { nl_pcap_write_plan(handle, path, $0) }
    }

    /// Explain packet i, with what the rest of the plan tells (ISNs, window scale: nl_plan_explain_ctx).
    public func explain(_ i: Int) throws -> Explanation {
        let k = nl_plan_packet(handle, i)!.pointee
        var ctx = nl_explain_ctx()
        _ = nl_plan_explain_ctx(handle, i, &ctx)
        return try Explanation(bytes: UnsafeBufferPointer(start: k.bytes, count: Int(k.len)), context: ctx)
    }
}
