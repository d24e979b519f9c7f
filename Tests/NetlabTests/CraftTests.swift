// The conversation planner and libnet construction (craft/nl_plan.c, craft/nl_build.c):
// every packet decoded back with netlab's own decoder, sequence and
// acknowledgement numbers coherent in both directions, MSS segmentation,
// handshake and close, options, and truncation of built packets.
import CNetlab
import Foundation
import Netlab
import XCTest

struct Decoded {
    let ip: nl_ipv4
    let tcp: nl_tcp
    let payload: [UInt8]
}

func decode(_ bytes: [UInt8]) throws -> Decoded {
    var c = nl_cursor()
    var ip = nl_ipv4()
    var tcp = nl_tcp()
    return try bytes.withUnsafeBufferPointer { b in
        nl_cur_init(&c, b.baseAddress, b.count)
        guard nl_ipv4_decode(&c, &ip) == 0, nl_tcp_decode(&c, &tcp) == 0 else {
            throw NetlabError(code: -3, message: "undecodable packet")
        }
        let start = b.count - nl_cur_left(&c)
        return Decoded(ip: ip, tcp: tcp, payload: Array(b[start..<Int(ip.total_len)]))
    }
}

func ipString<T>(_ t: T) -> String { withUnsafeBytes(of: t) { "\($0[0]).\($0[1]).\($0[2]).\($0[3])" } }

final class CraftTests: XCTestCase {
    func plan(_ csv: String, _ configure: (inout CraftOptions) throws -> Void = { _ in }) throws -> Plan {
        let ms = try MessageSet(bytes: Array(csv.utf8), name: "t.csv")
        var o = CraftOptions()
        o.raw.start_ns = 1_700_000_000_000_000_000
        try configure(&o)
        return try Plan(messages: ms, options: o)
    }

    let header = "msg_id,app_protocol,src_app,dst_app,message,timestamp\n"

    func testSampleRoundTripsThroughOwnDecoder() throws {
        let ms = try MessageSet(path: TestSupport.sampleCSV)
        for handshake in [false, true] {
            var o = CraftOptions()
            o.raw.handshake = handshake ? 1 : 0
            let p = try Plan(messages: ms, options: o)
            var delivered: [Int: [UInt8]] = [:]
            var lastTime = Int64.min
            for k in p.packets {
                let d = try decode(k.bytes)
                XCTAssertEqual(d.ip.version, 4)
                XCTAssertEqual(d.ip.ihl, 5)
                XCTAssertEqual(d.ip.ttl, 64)
                XCTAssertEqual(d.ip.protocol, 6)
                XCTAssertEqual(d.ip.flags, UInt8(NL_IPV4_DF))
                XCTAssertEqual(Int(d.ip.total_len), k.bytes.count)
                XCTAssertEqual(ipString(d.ip.src), "127.0.0.1")
                XCTAssertEqual(d.tcp.window, 65535)
                XCTAssertEqual(k.bytes.withUnsafeBufferPointer { nl_cksum($0.baseAddress, 20) }, 0, "IPv4 header sums to 0xffff")
                // The TCP checksum in the bytes, recomputed over pseudo-header, header and payload.
                let tcpSum = k.bytes.withUnsafeBufferPointer { b in
                    nl_cksum_l4_ipv4(b.baseAddress! + 12, b.baseAddress! + 16, 6, b.baseAddress! + 20, b.count - 20, 16)
                }
                XCTAssertEqual(tcpSum, d.tcp.checksum, "packet \(k.number)")
                XCTAssertGreaterThan(k.timeNs, lastTime, "packet times strictly increase")
                lastTime = k.timeNs
                if let m = k.message {
                    XCTAssertEqual(d.payload.count, k.payloadLength)
                    XCTAssertLessThanOrEqual(d.payload.count, 1460)
                    delivered[m, default: []] += d.payload
                    let last = k.segment == k.segments
                    XCTAssertEqual(d.tcp.flags, UInt8(NL_TCP_ACK) | (last ? UInt8(NL_TCP_PSH) : 0),
                                   "PSH|ACK on a message's last segment, ACK before it")
                }
            }
            for i in 0..<ms.count {
                XCTAssertEqual(delivered[i], ms[i].bytes, "message \(ms[i].id) arrives whole")
            }
            XCTAssertEqual(p.packets.filter { $0.message == 7 }.count, 2, "the 2024-byte message is split at MSS 1460")
        }
    }

    /// Sequence and acknowledgement numbers behave as a TCP receiver would check them.
    func testSequenceCoherenceBothDirections() throws {
        var csv = header
        let apps = [("client", "server"), ("server", "client")]
        for i in 0..<60 {
            let (s, d) = apps[(i * 7 / 3) % 2]
            csv += "\(i),CHAT,\(s),\(d),\(String(repeating: "x", count: 1 + (i * 37) % 3000)),\n"
        }
        for handshake in [false, true] {
            let p = try plan(csv) { $0.raw.handshake = handshake ? 1 : 0; $0.raw.mss = 536 }
            let conv = p.conversation(0)
            var next: [Bool: UInt32] = [true: conv.clientISN &+ 1, false: conv.serverISN &+ 1]
            if handshake {
                next = [true: conv.clientISN, false: conv.serverISN]
            }
            var lastId: [Bool: UInt16] = [:]
            for k in p.packets {
                let d = try decode(k.bytes)
                let mine = k.fromClient
                XCTAssertEqual(d.tcp.seq, next[mine]!, "packet \(k.number) (\(k.kind)) starts where the sender's stream is")
                if d.tcp.flags & UInt8(NL_TCP_ACK) != 0 {
                    XCTAssertEqual(d.tcp.ack, next[!mine]!, "packet \(k.number) acknowledges everything the peer sent")
                }
                var advance = UInt32(d.payload.count)
                if d.tcp.flags & UInt8(NL_TCP_SYN | NL_TCP_FIN) != 0 { advance += 1 }
                next[mine] = next[mine]! &+ advance
                if let prev = lastId[mine] { XCTAssertEqual(d.ip.id, prev &+ 1, "IP identification counts up per sender") }
                lastId[mine] = d.ip.id
                XCTAssertEqual(k.relativeSeq, d.tcp.seq &- (mine ? conv.clientISN : conv.serverISN))
            }
            let kinds = p.packets.map(\.kind)
            if handshake {
                XCTAssertEqual(Array(kinds.prefix(3)), ["SYN", "SYN-ACK", "ACK"])
                XCTAssertEqual(Array(kinds.suffix(3)), ["FIN", "FIN", "ACK (close)"])
                let syn = try decode(p.packet(0).bytes)
                XCTAssertEqual(syn.tcp.doff, 6, "SYN carries the MSS option")
                var opts = nl_tcp_opts()
                XCTAssertEqual(withUnsafeBytes(of: syn.tcp.options) { nl_tcp_options_parse($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 4, &opts) }, 0)
                XCTAssertEqual(opts.mss, 536)
            } else {
                XCTAssertTrue(kinds.allSatisfy { $0 == "data" })
            }
        }
    }

    func testConversationsPortsAndServerChoice() throws {
        let csv = header + """
            1,HTTP,browser,web,GET /,
            2,HTTP,web,browser,200 OK,
            3,SMTP,mailer,mx,HELO,
            4,CHAT,server,alice,Welcome,
            5,CHAT,alice,server,hi,
            6,HTTP,browser,web,GET /2,

            """
        let p = try plan(csv) { o in
            try o.addPortMap("HTTP=8080,smtp=2525")
            try o.setSourcePort("40000")
            try o.addAppAddress("web=10.0.0.80")
            try o.addServer("mx")
        }
        XCTAssertEqual(p.conversationCount, 3)
        let c = p.conversations
        XCTAssertEqual(c[0].client, "127.0.0.1:40000")
        XCTAssertEqual(c[0].server, "10.0.0.80:8080")
        XCTAssertEqual(c[0].messagesC2S, 2)
        XCTAssertEqual(c[0].messagesS2C, 1)
        XCTAssertEqual(c[1].server, "127.0.0.1:2525", "port map is case-insensitive")
        XCTAssertEqual(c[1].clientApp, "mailer")
        XCTAssertEqual(c[2].serverApp, "server", "the app named 'server' is the server even when it speaks first")
        XCTAssertEqual(c[2].client, "127.0.0.1:40002")
        XCTAssertEqual(c[2].server, "127.0.0.1:12345", "no port-map entry: --dst-port")
        XCTAssertFalse(p.packet(3).fromClient, "Welcome flows server -> client")
    }

    func testDefaultsAreReproducibleAndSeeded() throws {
        let a = try plan(header + "1,CHAT,a,b,hello,\n")
        let b = try plan(header + "1,CHAT,a,b,hello,\n")
        let c = try plan(header + "1,CHAT,a,b,hello,\n") { $0.raw.seed = 99 }
        XCTAssertEqual(a.packet(0).bytes, b.packet(0).bytes, "same seed, same packets")
        XCTAssertNotEqual(a.packet(0).bytes, c.packet(0).bytes)
        let port = try decode(a.packet(0).bytes).tcp.sport
        XCTAssertTrue((32768...60999).contains(Int(port)), "ephemeral source port \(port)")
        XCTAssertEqual(try decode(a.packet(0).bytes).tcp.dport, 12345)
    }

    func testOptionErrors() {
        var o = CraftOptions()
        for (bad, action) in [("999.1.1.1", { try o.setSourceIP("999.1.1.1") }),
                              ("10.0.0", { try o.setDestinationIP("10.0.0") }),
                              ("010.0.0.1", { try o.setDestinationIP("010.0.0.1") }),
                              ("70000", { try o.setDestinationPort("70000") }),
                              ("http", { try o.setSourcePort("http") }),
                              ("HTTP", { try o.addPortMap("HTTP") }),
                              ("=80", { try o.addPortMap("=80") }),
                              ("web=x", { try o.addAppAddress("web=x") })] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try action(), bad) { e in
                XCTAssertEqual((e as! NetlabError).code, NL_EINVAL.rawValue)
                XCTAssertTrue((e as! NetlabError).message.contains(bad) || bad == "=80" || bad == "web=x",
                              (e as! NetlabError).message)
            }
        }
        o = CraftOptions()
        o.raw.mss = 0
        XCTAssertThrowsError(try o.validate())
        o.raw.mss = 65495
        o.raw.ttl = 0
        XCTAssertThrowsError(try o.validate())
    }

    func testOptionsReachTheHeaders() throws {
        let p = try plan(header + "1,CHAT,a,b,\(String(repeating: "y", count: 1001)),\n") { o in
            try o.setSourceIP("10.1.2.3")
            try o.setDestinationIP("192.0.2.9")
            try o.setDestinationPort("80")
            o.raw.mss = 1000
            o.raw.ttl = 7
            o.raw.dscp = 46
            o.raw.window = 1234
        }
        XCTAssertEqual(p.packetCount, 2)
        let d = try decode(p.packet(1).bytes)
        XCTAssertEqual(ipString(d.ip.src), "10.1.2.3")
        XCTAssertEqual(ipString(d.ip.dst), "192.0.2.9")
        XCTAssertEqual(d.ip.ttl, 7)
        XCTAssertEqual(d.ip.dscp, 46)
        XCTAssertEqual(d.tcp.dport, 80)
        XCTAssertEqual(d.tcp.window, 1234)
        XCTAssertEqual(d.payload.count, 1)
    }

    /// Every prefix of every built packet: explaining it reports truncation, never crashes.
    func testTruncationAtEveryPrefixLength() throws {
        let p = try plan(header + "1,CHAT,a,b,hello world,\n") { $0.raw.handshake = 1 }
        for k in p.packets {
            let headers = k.bytes.count - k.payloadLength
            for n in 0..<k.bytes.count {
                let prefix = Array(k.bytes.prefix(n))
                if n < headers {
                    XCTAssertThrowsError(try prefix.withUnsafeBufferPointer { try Explanation(bytes: $0, context: nil) }) { e in
                        XCTAssertEqual((e as! NetlabError).code, NL_ETRUNC.rawValue, "length \(n): \(e)")
                    }
                } else {
                    // Headers complete, payload cut: explained, with the checksum no longer matching.
                    let x = try prefix.withUnsafeBufferPointer { try Explanation(bytes: $0, context: nil) }
                    XCTAssertEqual(x.tcpChecksum.correct, n == k.bytes.count || k.payloadLength == 0)
                }
            }
        }
    }

    func testExplanationFieldsAndChecksumSteps() throws {
        let p = try plan(header + "1,CHAT,a,b,abc,\n")
        let x = try p.explain(0)
        let names = x.fields.map(\.name)
        for f in ["Version", "IHL", "DSCP", "ECN", "Total Length", "Identification", "DF", "MF", "Fragment Offset", "TTL",
                  "Protocol", "Header Checksum", "Source Address", "Destination Address", "Source Port",
                  "Destination Port", "Sequence Number", "Acknowledgment Number", "Data Offset", "ACK", "PSH", "SYN",
                  "FIN", "Window", "Checksum", "Urgent Pointer", "Data"] {
            XCTAssertTrue(names.contains(f), "field \(f)")
        }
        // Bit positions tile the 20-byte headers exactly.
        for layer in ["IPv4", "TCP"] {
            let fs = x.fields.filter { $0.layer == layer }
            XCTAssertEqual(fs.map(\.bitWidth).reduce(0, +), 160, layer)
            var at = 0
            for f in fs {
                XCTAssertEqual(f.bitOffset, at, "\(layer) \(f.name)")
                at += f.bitWidth
            }
        }
        XCTAssertEqual(x.ipChecksum.words.count, 10)
        XCTAssertEqual(x.tcpChecksum.words.filter { $0.part == "pseudo-header" }.count, 6)
        XCTAssertEqual(x.tcpChecksum.words.filter { $0.part == "data" }.count, 2)
        XCTAssertTrue(x.tcpChecksum.words.last!.padded, "3 data bytes: the last word is padded")
        XCTAssertEqual(x.tcpChecksum.checksum, p.packet(0).tcpChecksumNetlab)
        XCTAssertTrue(x.ipChecksum.correct && x.tcpChecksum.correct)
        let total = x.tcpChecksum.words.reduce(UInt32(0)) { $0 + UInt32($1.value) }
        XCTAssertEqual(total, x.tcpChecksum.sum)
        XCTAssertEqual(x.spans.map(\.layer), ["IPv4", "TCP", "Payload"])
    }

    func testRandomMessagesChecksumsAgreeWithLibnet() throws {
        var rng = SystemRandomNumberGenerator()
        var csv = header
        for i in 0..<300 {
            let n = Int.random(in: 1...4000, using: &rng)
            let text = String((0..<n).map { _ in "abcdefghij,\"é€😀 \n".randomElement(using: &rng)! })
            csv += "\(i),P\(i % 3),a,b,\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\",\n"
        }
        let p = try plan(csv) { $0.raw.mss = UInt16.random(in: 1...1460, using: &rng); $0.raw.handshake = 1 }
        // Plan construction throws on any disagreement; recompute both here over the finished bytes too.
        for k in p.packets {
            let x = try k.bytes.withUnsafeBufferPointer { try Explanation(bytes: $0, context: nil) }
            XCTAssertTrue(x.ipChecksum.correct && x.tcpChecksum.correct, "packet \(k.number)")
        }
        XCTAssertEqual(p.conversationCount, 3)
    }
}

