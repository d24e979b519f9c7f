// Analysis: libnetlab's one-pass answers about a capture file, copied into Swift
// values for rendering. Every decision (conversations, servers, checksum
// verdicts, notes) is made in C; this file only converts.
import CNetlab
#if canImport(Glibc)
import Glibc
#endif

public struct AnalyzeOptions {
    /// Texts to find in payloads (and across segment boundaries).
    public var find: [String] = []
    /// CaptureConversation id to reassemble (Follow TCP Stream); 0 for none.
    public var follow: Int = 0
    /// A messages CSV whose messages must be found in one conversation.
    public var expect: String?
    /// Echo grading: a text file of lines (in-proj.txt); each line and its echo must be in one conversation.
    public var expectEcho: String?
    /// Cap on payload bytes kept for follow/expect; 0 for the library default.
    public var maxStreamBytes: UInt64 = 0
    /// Cap on listed items of each kind; 0 for the library default.
    public var maxListed: Int = 0
    /// Keep one record per TCP segment for Analysis.tcpPacket(at:) (memory grows with packets).
    public var packets = false
    public init() {}
}

public struct ChecksumCounts {
    public let good, bad, offload, unverified, none: UInt64
    init(_ c: nl_ck_counts) {
        good = c.good; bad = c.bad; offload = c.offload; unverified = c.unverified; none = c.none
    }
}

public struct CaptureSummary {
    public let file: String
    public let format: String
    public let swapped: Bool
    public let nanosecond: Bool
    /// LINKTYPE_* of every packet, -1 when mixed.
    public let linkType: Int
    public let packets, bytes, capturedBytes: UInt64
    public let firstNs, lastNs: Int64
    public let ipv4, ipv6, nonIP: UInt64
    public let tcp, udp, icmp, icmpv6, otherIP: UInt64
    public let truncated, malformed, snapped, fragments, duplicates, unsupportedLink: UInt64
    public let tcpConversations, udpFlows, retransmissions: UInt64
    public let largestPacket: UInt64
    public let largestBytes: UInt32
    public let largestConversation: UInt32
    public let ckIPv4, ckTCP, ckUDP: ChecksumCounts
    public let badPackets: UInt64
    public let matchCount: UInt64
    public let readError: NetlabError?
}

public struct InterfaceSeen {
    public enum Kind: String { case file, ifindex }
    public let kind: Kind
    public let index: UInt32
    public let name: String?
    public let description: String?
    public let linkType: Int
    public let packets: UInt64
    public let loopback: Bool
}

/// One TCP conversation or UDP flow. Numbers are read from the C record; the
/// endpoint strings are made on demand (withEndpoints reads them without copying).
public struct CaptureConversation {
    let raw: nl_conversation

    public var id: Int { Int(raw.id) }
    public var proto: Int { Int(raw.protocol) }          // 6 TCP, 17 UDP
    public var protocolName: String { proto == 6 ? "tcp" : "udp" }
    public var ipVersion: Int { Int(raw.ipver) }
    public var client: String { tupleString(raw.client) }
    public var server: String { tupleString(raw.server) }
    public var clientAddress: String { tupleString(raw.client_addr) }
    public var serverAddress: String { tupleString(raw.server_addr) }
    public var clientPort: Int { Int(raw.client_port) }
    public var serverPort: Int { Int(raw.server_port) }
    public var serverGuessed: Bool { raw.server_guessed != 0 }
    public var serverBasis: String { cString(raw.server_basis) }
    /// "chat", "redis" or "" (TCP: from the first payload bytes, nl_appid.c).
    public var app: String { cString(raw.app_name) }
    /// "payload", "port 6379" or "".
    public var appBasis: String { cString(raw.app_basis) }
    /// "client <-> chat server", "chat server <-> Redis", "client <-> Redis" or "".
    public var role: String { cString(raw.role) }
    public var packetsC2S: UInt64 { raw.packets_c2s }
    public var packetsS2C: UInt64 { raw.packets_s2c }
    public var payloadC2S: UInt64 { raw.payload_c2s }
    public var payloadS2C: UInt64 { raw.payload_s2c }
    public var bytesC2S: UInt64 { raw.bytes_c2s }
    public var bytesS2C: UInt64 { raw.bytes_s2c }
    public var firstPacket: UInt64 { raw.first_packet }
    public var lastPacket: UInt64 { raw.last_packet }
    public var firstNs: Int64 { raw.first_ns }
    public var lastNs: Int64 { raw.last_ns }
    public var handshake: Bool { raw.handshake != 0 }
    public var synSeen: Bool { raw.syn_seen != 0 }
    public var synAckSeen: Bool { raw.synack_seen != 0 }
    /// "fin", "rst" or "open".
    public var end: String {
        raw.end == UInt8(NL_END_RST.rawValue) ? "rst" : raw.end == UInt8(NL_END_FIN.rawValue) ? "fin" : "open"
    }
    public var finC2S: Bool { raw.fin_c2s != 0 }
    public var finS2C: Bool { raw.fin_s2c != 0 }
    public var rstC2S: Bool { raw.rst_c2s != 0 }
    public var rstS2C: Bool { raw.rst_s2c != 0 }
    public var startedBeforeCapture: Bool { raw.started_before_capture != 0 }
    public var refused: Bool { raw.refused != 0 }
    public var kernelReset: Bool { raw.kernel_reset != 0 }
    public var resetPacket: UInt64 { raw.reset_packet }
    public var retransmissions: UInt32 { raw.retransmissions }
    public var duplicates: UInt32 { raw.duplicates }
    public var largestPacket: UInt64 { raw.largest_packet }
    public var largestBytes: UInt32 { raw.largest_bytes }
    public var checksumBad: UInt32 { raw.checksum_bad }
    public var checksumOffload: UInt32 { raw.checksum_offload }

    /// The "ip:port" texts of both ends as UTF-8, without making Strings.
    public func withEndpoints<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: raw.client) { c in
            try withUnsafeBytes(of: raw.server) { s in
                let cb = c.bindMemory(to: UInt8.self), sb = s.bindMemory(to: UInt8.self)
                return try body(UnsafeBufferPointer(rebasing: cb[..<(cb.firstIndex(of: 0) ?? cb.count)]),
                                UnsafeBufferPointer(rebasing: sb[..<(sb.firstIndex(of: 0) ?? sb.count)]))
            }
        }
    }
}

public struct BadChecksum {
    public let packet: UInt64
    public let layer: String         // "ipv4", "tcp", "udp"
    public let found, expected: UInt16
    public let conversation: Int
}

public struct PacketProblem {
    public let packet: UInt64
    public let status, layer, reason: String
}

public struct DuplicateCopy {
    public let packet, original: UInt64
    public let conversation: Int
    public let deltaNs: Int64
}

public struct Note {
    public let kind: String
    public let packet: UInt64
    public let conversation: Int
    public let text: String
}

public struct Match {
    public let textIndex: Int
    public let packet, lastPacket: UInt64
    public let conversation: Int
    public let proto: Int
    public let fromClient: Bool
    public let acrossSegments: Bool
    public let payloadBytes: UInt32
    public let offset: UInt32
}

public struct StreamChunk {
    public let fromClient: Bool
    public let packet: UInt64
    /// nil when these bytes are missing from the capture.
    public let bytes: [UInt8]?
    public let length: Int
}

public struct Expectation {
    public let msgID: String
    public let line: Int
    public let status: String        // "found", "out-of-order", "altered", "missing"
    public let conversation: Int
    public let fromClient: Bool
    public let packet, lastPacket: UInt64
    public let streamOffset: UInt64
    public let length: Int
    public let differing, firstDifference: Int
    public let detail: String
    public var ok: Bool { status == "found" }
}

public final class Analysis {
    let handle: OpaquePointer
    /// What owns the handle when this analysis is borrowed (a ReportedCapture's): not ours to free.
    private let keeper: AnyObject?
    /// At most how many conversations, bad packets, problems, matches and duplicates to list (--max-listed).
    public var listedCap: Int { nl_analysis_listed_cap(handle) }

    /// Analyse one capture file; throws NetlabError when nothing could be read.
    public init(path: String, options: AnalyzeOptions = AnalyzeOptions()) throws {
        let cFind = options.find.map { strdup($0) }
        defer { cFind.forEach { free($0) } }
        var out: OpaquePointer?
        try cFind.withUnsafeBufferPointer { finds in
            try finds.withMemoryRebound(to: UnsafePointer<CChar>?.self) { texts in
                try withOptionalCString(options.expect) { expect in
                  try withOptionalCString(options.expectEcho) { echo in
                    var o = nl_analyze_opts()
                    o.expect_echo = echo
                    o.find = texts.baseAddress
                    o.nfind = texts.count
                    o.follow = UInt32(clamping: options.follow)
                    o.expect = expect
                    o.max_stream_bytes = options.maxStreamBytes
                    o.max_listed = UInt32(clamping: options.maxListed)
                    o.packets = options.packets ? 1 : 0
                    try nlCheck { nl_analyze_file(path, &o, &out, $0) }
                  }
                }
            }
        }
        handle = out!
        keeper = nil
    }

    /// An analysis that `keeper` owns and frees.
    init(borrowing h: OpaquePointer, keeper: AnyObject) {
        handle = h
        self.keeper = keeper
    }

    deinit { if keeper == nil { nl_analysis_free(handle) } }

    /// Checks an echo-grading input file (--expect-echo) without reading a capture.
    public static func validateEchoInput(_ path: String) throws {
        var ms: OpaquePointer?
        try nlCheck { nl_expect_echo_load(path, &ms, $0) }
        nl_messages_free(ms)
    }

    public lazy var summary: CaptureSummary = {
        var s = nl_summary()
        nl_analysis_summary(handle, &s)
        let err: NetlabError? = s.read_error == 0 ? nil
            : NetlabError(code: s.read_error, message: cString(s.read_error_text))
        return CaptureSummary(
            file: cString(s.file), format: cString(s.format), swapped: s.swapped != 0, nanosecond: s.nanosecond != 0,
            linkType: Int(s.linktype), packets: s.packets, bytes: s.bytes, capturedBytes: s.captured_bytes,
            firstNs: s.first_ns, lastNs: s.last_ns, ipv4: s.ipv4, ipv6: s.ipv6, nonIP: s.non_ip, tcp: s.tcp,
            udp: s.udp, icmp: s.icmp, icmpv6: s.icmpv6, otherIP: s.other_ip, truncated: s.truncated,
            malformed: s.malformed, snapped: s.snapped, fragments: s.fragments, duplicates: s.duplicates,
            unsupportedLink: s.unsupported_link, tcpConversations: s.tcp_conversations, udpFlows: s.udp_flows,
            retransmissions: s.retransmissions, largestPacket: s.largest_packet, largestBytes: s.largest_bytes,
            largestConversation: s.largest_conversation, ckIPv4: ChecksumCounts(s.ck_ipv4),
            ckTCP: ChecksumCounts(s.ck_tcp), ckUDP: ChecksumCounts(s.ck_udp), badPackets: s.bad_packets,
            matchCount: s.matches, readError: err)
    }()

    public lazy var interfaces: [InterfaceSeen] = (0..<nl_analysis_iface_count(handle)).map { i in
        var f = nl_iface_seen()
        nl_analysis_iface(handle, i, &f)
        return InterfaceSeen(kind: f.kind == Int32(NL_IFACE_INDEX.rawValue) ? .ifindex : .file, index: f.index,
                             name: f.name.map { String(cString: $0) },
                             description: f.description.map { String(cString: $0) },
                             linkType: Int(f.linktype), packets: f.packets, loopback: f.loopback != 0)
    }

    public var conversationCount: Int { nl_analysis_conv_count(handle) }

    /// 6 (TCP) or 17 (UDP) for the conversation at position i, without copying it.
    public func conversationProtocol(at i: Int) -> Int { Int(nl_analysis_conv_protocol(handle, i)) }
    /// Its application role ("client <-> chat server", ... or "") without making its record.
    public func conversationRole(at i: Int) -> String {
        String(cString: nl_app_role_name(Int32(nl_analysis_conv_app_role(handle, i))))
    }

    /// Conversation at position i (its id is i + 1).
    public func conversation(at i: Int) -> CaptureConversation {
        var c = nl_conversation()
        nl_analysis_conv(handle, i, &c)
        return CaptureConversation(raw: c)
    }

    /// Every conversation, in order of first packet (an array: prefer conversation(at:) for big captures).
    public lazy var conversations: [CaptureConversation] = (0..<conversationCount).map { conversation(at: $0) }

    public lazy var badChecksums: [BadChecksum] = (0..<nl_analysis_bad_count(handle)).map { i in
        var b = nl_badck()
        nl_analysis_bad(handle, i, &b)
        return BadChecksum(packet: b.packet, layer: b.layer == 4 ? "ipv4" : b.layer == 6 ? "tcp" : "udp",
                           found: b.found, expected: b.expected, conversation: Int(b.conversation))
    }

    public lazy var problems: [PacketProblem] = (0..<nl_analysis_problem_count(handle)).map { i in
        var p = nl_problem()
        nl_analysis_problem(handle, i, &p)
        return PacketProblem(packet: p.packet, status: cString(p.status), layer: cString(p.layer),
                             reason: cString(p.reason))
    }

    public lazy var duplicates: [DuplicateCopy] = (0..<nl_analysis_dup_count(handle)).map { i in
        var d = nl_dup()
        nl_analysis_dup(handle, i, &d)
        return DuplicateCopy(packet: d.packet, original: d.original, conversation: Int(d.conversation),
                             deltaNs: d.delta_ns)
    }

    public lazy var notes: [Note] = (0..<nl_analysis_note_count(handle)).map { i in
        var n = nl_note()
        nl_analysis_note(handle, i, &n)
        return Note(kind: cString(n.kind), packet: n.packet, conversation: Int(n.conversation), text: cString(n.text))
    }

    public lazy var matches: [Match] = (0..<nl_analysis_match_count(handle)).map { i in
        var m = nl_match()
        nl_analysis_match(handle, i, &m)
        return Match(textIndex: Int(m.text), packet: m.packet, lastPacket: m.last_packet,
                     conversation: Int(m.conversation), proto: Int(m.protocol), fromClient: m.from_client != 0,
                     acrossSegments: m.across != 0, payloadBytes: m.payload_bytes, offset: m.offset)
    }

    /// The followed conversation's id, 0 when none was asked for or it does not exist.
    public var followedConversation: Int { Int(nl_analysis_follow_conv(handle)) }

    public lazy var chunks: [StreamChunk] = (0..<nl_analysis_chunk_count(handle)).map { i in
        var c = nl_chunk()
        nl_analysis_chunk(handle, i, &c)
        let bytes = c.data.map { Array(UnsafeBufferPointer(start: $0, count: c.len)) }
        return StreamChunk(fromClient: c.from_client != 0, packet: c.packet, bytes: bytes, length: c.len)
    }

    public lazy var expectations: [Expectation] = (0..<nl_analysis_expect_count(handle)).map { i in
        var e = nl_expect_result()
        nl_analysis_expect(handle, i, &e)
        return Expectation(msgID: cString(e.msg_id), line: Int(e.line), status: cString(e.status_name),
                           conversation: Int(e.conversation), fromClient: e.from_client != 0, packet: e.packet,
                           lastPacket: e.last_packet, streamOffset: e.stream_offset, length: Int(e.length),
                           differing: Int(e.differing), firstDifference: Int(e.first_difference),
                           detail: cString(e.detail))
    }

    /// Payload of the matched streams that no expected message accounts for (and, grading an echo, the greeting).
    public lazy var unexpected: [UnexpectedPayload] = (0..<nl_analysis_unexpected_count(handle)).map { i in
        var u = nl_unexpected()
        nl_analysis_unexpected(handle, i, &u)
        return UnexpectedPayload(kind: cString(u.kind), conversation: Int(u.conversation), fromClient: u.from_client != 0,
                                 packet: u.packet, lastPacket: u.last_packet, streamOffset: u.stream_offset,
                                 length: Int(u.length), preview: Array(UnsafeBufferPointer(start: u.data, count: u.data_len)))
    }

    /// Every expected message intact and in order, and nothing unexpected beside them.
    public var expectationsMet: Bool { expectations.allSatisfy(\.ok) && !unexpected.contains { $0.kind == "unexpected" } }

    public lazy var warnings: [String] = (0..<nl_analysis_warning_count(handle)).map {
        cString(nl_analysis_warning(handle, $0))
    }
}

/// libpcap's name for a LINKTYPE_* value ("EN10MB"), or "LINKTYPE_<n>".
public func linkTypeName(_ linkType: Int) -> String {
    if linkType < 0 { return "MIXED" }
    if let p = nl_linktype_name(Int32(linkType)) { return String(cString: p) }
    return "LINKTYPE_\(linkType)"
}

/// A description of a link type ("Linux cooked v2").
public func linkTypeDescription(_ linkType: Int) -> String {
    linkType < 0 ? "several link types" : String(cString: nl_linktype_description(Int32(linkType)))
}

public struct UnexpectedPayload {
    public let kind: String       // "unexpected" or "greeting"
    public let conversation: Int
    public let fromClient: Bool
    public let packet, lastPacket: UInt64
    public let streamOffset: UInt64
    public let length: Int
    public let preview: [UInt8]
}

// MARK: - TCP sequence analysis (nl_tcpanalysis.h)

/// One of Wireshark's tcp.analysis flags, with the frames carrying it.
public struct TCPFlagFrames {
    /// tshark's field name without "tcp.analysis." ("retransmission").
    public let field: String
    /// Wireshark's Info column label ("TCP Retransmission").
    public let label: String
    /// tshark's expert info summary.
    public let summary: String
    /// "Warning", "Note" or "Chat", as tshark's expert info groups it.
    public let severity: String
    /// Frames carrying the flag in the capture.
    public let total: UInt64
    /// The first of them (at most --max-listed), 1-based, in file order.
    public let frames: [UInt64]
}

/// Per TCP conversation: options, RTT, throughput, bytes in flight and each flag's count.
public struct TCPFigures {
    public let conversation: Int
    /// Count per flag, keyed by tshark's field name.
    public let counts: [(field: String, count: UInt64)]
    public let mssC2S, mssS2C: Int          // 0 when absent
    public let wscaleC2S, wscaleS2C: Int    // -1 when absent
    public let sack, timestamps: Bool
    public let rttSamples: UInt64
    public let rttMinMs, rttMedianMs, rttP95Ms, rttMaxMs: Double
    public let handshakeMs: Double?         // nil when the handshake was not captured
    public let throughputBpsC2S, throughputBpsS2C: Double
    public let maxInFlight: UInt64
    public let maxWindowC2S, maxWindowS2C: UInt32
    public let dataSegments: UInt64
    public let retransmissionRate: Double
    public func count(_ field: String) -> UInt64 { counts.first { $0.field == field }?.count ?? 0 }
}

/// One TCP segment as Wireshark's packet list shows it (with AnalyzeOptions.packets).
public struct TCPPacket {
    public let packet: UInt64
    public let tsNs: Int64
    public let conversation: Int
    public let fromClient: Bool
    public let tcpFlags: UInt8
    public let seq, ack, length, window: UInt32
    /// Labels of the analysis flags set, in Wireshark's order ("TCP Dup ACK", ...).
    public let flagBits: UInt32
    public let dupAckNum: UInt32
    public let dupAckFrame: UInt64
    public let ackedFrame: UInt64
    public let ackRttMs: Double
    public let bytesInFlight: UInt32
    /// With lost_segment: this side's bytes before the segment that the capture lacks (relative, inclusive).
    public let missing: ClosedRange<UInt32>?
    /// With ack_lost_segment: the other side's bytes this ACK covers that the capture never held.
    public let unseen: ClosedRange<UInt32>?
    public var fields: [String] {
        flagBits == 0 ? [] : tcpFlagFields.indices.compactMap { flagBits & (1 << UInt32($0)) != 0 ? tcpFlagFields[$0] : nil }
    }
}

/// tshark's field names, in libnetlab's flag order (made once).
public let tcpFlagFields: [String] = (0..<Int32(NL_TA_NKINDS.rawValue)).map { cString(nl_ta_field($0)) }

public extension Analysis {
    /// How much the TCP analysis has to say about conversation i, without building its figures:
    /// flagged frames (0 for UDP) and data segments.
    func tcpFlagWeight(at i: Int) -> (flagged: UInt64, dataSegments: UInt64, rttSamples: UInt64) {
        var f = nl_tcp_figures()
        guard nl_analysis_tcp_figures(handle, i, &f) == 0 else { return (0, 0, 0) }
        let n = withUnsafeBytes(of: f.count) { $0.bindMemory(to: UInt64.self).reduce(0, +) }
        return (n, f.data_segments, f.rtt_samples)
    }

    /// Every flag kind, in tshark's field order, with its frames.
    var tcpFlags: [TCPFlagFrames] {
        (0..<Int32(NL_TA_NKINDS.rawValue)).map { k in
            let n = nl_analysis_ta_listed(handle, k)
            return TCPFlagFrames(field: cString(nl_ta_field(k)), label: cString(nl_ta_label(k)),
                                 summary: cString(nl_ta_summary(k)),
                                 severity: cString(nl_ta_severity_name(nl_ta_severity(k))),
                                 total: nl_analysis_ta_total(handle, k),
                                 frames: (0..<n).map { nl_analysis_ta_frame(handle, k, $0) })
        }
    }

    /// The figures of the TCP conversation at position i; nil for UDP.
    func tcpFigures(at i: Int) -> TCPFigures? {
        var f = nl_tcp_figures()
        guard nl_analysis_tcp_figures(handle, i, &f) == 0 else { return nil }
        let counts: [(String, UInt64)] = withUnsafeBytes(of: f.count) { raw in
            let c = raw.bindMemory(to: UInt64.self)
            return tcpFlagFields.indices.map { (tcpFlagFields[$0], c[$0]) }
        }
        return TCPFigures(
            conversation: Int(f.conversation), counts: counts.map { (field: $0.0, count: $0.1) },
            mssC2S: Int(f.mss_c2s), mssS2C: Int(f.mss_s2c), wscaleC2S: Int(f.wscale_c2s), wscaleS2C: Int(f.wscale_s2c),
            sack: f.sack != 0, timestamps: f.timestamps != 0, rttSamples: f.rtt_samples, rttMinMs: f.rtt_min_ms,
            rttMedianMs: f.rtt_median_ms, rttP95Ms: f.rtt_p95_ms, rttMaxMs: f.rtt_max_ms,
            handshakeMs: f.handshake_ms < 0 ? nil : f.handshake_ms, throughputBpsC2S: f.throughput_bps_c2s,
            throughputBpsS2C: f.throughput_bps_s2c, maxInFlight: f.max_in_flight, maxWindowC2S: f.max_window_c2s,
            maxWindowS2C: f.max_window_s2c, dataSegments: f.data_segments, retransmissionRate: f.retransmission_rate)
    }

    var tcpPacketCount: Int { nl_analysis_tcp_packet_count(handle) }

    func tcpPacket(at i: Int) -> TCPPacket {
        var p = nl_tcp_packet()
        nl_analysis_tcp_packet(handle, i, &p)
        return TCPPacket(packet: p.packet, tsNs: p.ts_ns, conversation: Int(p.conversation),
                         fromClient: p.from_client != 0, tcpFlags: p.tcp_flags, seq: p.seq, ack: p.ack,
                         length: p.len, window: p.window, flagBits: p.flags, dupAckNum: p.dupack_num,
                         dupAckFrame: p.dupack_frame, ackedFrame: p.acked_frame, ackRttMs: p.ack_rtt_ms,
                         bytesInFlight: p.bytes_in_flight,
                         missing: p.missing_last > 0 && p.missing_first <= p.missing_last
                             ? p.missing_first...p.missing_last : nil,
                         unseen: p.unseen_last > 0 && p.unseen_first <= p.unseen_last
                             ? p.unseen_first...p.unseen_last : nil)
    }
}

/// Wireshark's Info column label of a flag given by field name ("TCP Retransmission").
public func tcpFlagLabel(field: String) -> String {
    for k in 0..<Int32(NL_TA_NKINDS.rawValue) where cString(nl_ta_field(k)) == field { return cString(nl_ta_label(k)) }
    return field
}

/// "SYN, ACK" as Wireshark writes TCP flags.
public func tcpFlagsText(_ flags: UInt8) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    return String(cString: nl_tcp_flags_str(flags, &buf, buf.count))
}
