// nl_decode_packet and the link/IPv6/UDP/ICMP decoders: known vectors (one a
// real frame captured by tcpdump on lo), every link type, checksum verdicts,
// clipping to the IP length, malformed headers, and truncation at every prefix.
import CNetlab
import XCTest

final class DecodeTests: XCTestCase {
    struct Decoded {
        var d: nl_decoded
        var payload: [UInt8]
        var status: Int32 { Int32(d.status) }
    }

    func decode(_ frame: [UInt8], _ linktype: Int32, caplen: Int? = nil, wire: Int? = nil,
                direction: UInt8 = 0) -> Decoded {
        let cap = caplen ?? frame.count
        return frame.withUnsafeBufferPointer { buf in
            var f = nl_frame()
            f.data = buf.baseAddress
            f.caplen = UInt32(cap)
            f.len = UInt32(wire ?? frame.count)
            f.linktype = linktype
            f.number = 1
            f.direction = direction
            var d = nl_decoded()
            nl_decode_packet(&f, NL_DECODE_CHECKSUMS, &d)
            let p = d.payload.map { Array(UnsafeBufferPointer(start: $0, count: Int(d.payload_caplen))) } ?? []
            return Decoded(d: d, payload: p)
        }
    }

    let ETH = Int32(NL_LINKTYPE_ETHERNET), SLL = Int32(NL_LINKTYPE_LINUX_SLL), SLL2 = Int32(NL_LINKTYPE_LINUX_SLL2)
    let RAW = Int32(NL_LINKTYPE_RAW), NULLT = Int32(NL_LINKTYPE_NULL), LOOP = Int32(NL_LINKTYPE_LOOP)

    /// A SYN captured by `tcpdump -i any` on this kind of machine (SLL2, lo): the
    /// kernel left the checksum to the (loopback) device: 0xfe30 is the folded
    /// pseudo-header sum of 127.0.0.1 -> 127.0.0.1, TCP, 40 bytes.
    let realSYN: [UInt8] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x3c, 0xd8, 0x19, 0x40, 0x00, 0x40, 0x06, 0x64, 0xa0,
        0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xc9, 0x0c, 0x64, 0xd2, 0x83, 0xa2, 0x85, 0x8b,
        0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7,
        0x04, 0x02, 0x08, 0x0a, 0x92, 0x74, 0xb7, 0xeb, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
    ]

    func testRealLoopbackSYNCapturedByTcpdump() {
        let r = decode(realSYN, SLL2)
        XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue))
        XCTAssertEqual(r.d.link.ifindex, 1)
        XCTAssertEqual(r.d.link.hatype, UInt16(NL_ARPHRD_LOOPBACK))
        XCTAssertEqual(r.d.link.pkttype, UInt8(NL_PKTTYPE_HOST))
        XCTAssertEqual(r.d.ipver, 4)
        XCTAssertEqual(r.d.sport, 51468)
        XCTAssertEqual(r.d.dport, 25810)
        XCTAssertEqual(r.d.seq, 2_208_466_315)
        XCTAssertEqual(r.d.tcp_flags, Pkt.SYN)
        XCTAssertEqual(r.d.tcp_hlen, 40)
        XCTAssertEqual(r.d.window, 65495)
        XCTAssertEqual(r.d.payload_len, 0)
        XCTAssertEqual(r.d.ck_ip, UInt8(NL_CK_GOOD.rawValue))
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_OFFLOAD.rawValue))
        XCTAssertEqual(r.d.offload_l4, UInt8(NL_OFFLOAD_PARTIAL.rawValue))
        XCTAssertEqual(r.d.ck_l4_found, 0xfe30)
        XCTAssertEqual(r.d.ck_l4_expected, 0xce91, "tcpdump -vv printed: cksum 0xfe30 (incorrect -> 0xce91)")
        XCTAssertEqual(r.d.vantage, UInt8(NL_VANTAGE_LOOPBACK.rawValue))
    }

    func testEthernetWithTwoVLANTagsIPv4OptionsTCPOptions() {
        let opts: [UInt8] = [2, 4, 0x05, 0xb4, 1, 1, 4, 2] // MSS 1460, NOP NOP, SACK permitted
        let payload = Array("Welcome".utf8)
        let src: [UInt8] = [10, 0, 0, 1], dst: [UInt8] = [10, 0, 0, 2]
        let seg = Pkt.withChecksum(Pkt.tcp(sport: 40000, dport: 80, seq: 7, ack: 9, flags: Pkt.PSH | Pkt.ACK,
                                           options: opts, payload: payload), proto: 6, src: src, dst: dst)
        let ip = Pkt.ipv4(src: src, dst: dst, proto: 6, payload: seg, options: [1, 1, 1, 0]) // NOPs + EOL
        let r = decode(Pkt.ether(ip, vlans: [100, 200]), ETH)
        XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue))
        XCTAssertEqual(r.d.link.nvlan, 2)
        XCTAssertEqual(r.d.link.vlan.0, 100)
        XCTAssertEqual(r.d.link.vlan.1, 200)
        XCTAssertEqual(r.d.link.l3_off, 22)
        XCTAssertEqual(r.d.tcp_hlen, 28)
        XCTAssertEqual(r.payload, payload)
        XCTAssertEqual(r.d.payload_len, 7)
        XCTAssertEqual(r.d.ck_ip, UInt8(NL_CK_GOOD.rawValue))
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_GOOD.rawValue))
        XCTAssertEqual(r.d.vantage, UInt8(NL_VANTAGE_UNKNOWN.rawValue))
    }

    func testEthernetPaddingIsClippedToTheIPLength() {
        // A 40-byte ACK padded to Ethernet's 60-byte minimum: the 6 padding bytes are not payload.
        let ip = Pkt.tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1, dport: 2, seq: 1, ack: 1, flags: Pkt.ACK)
        let frame = Pkt.ether(ip) + [0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe]
        let r = decode(frame, ETH)
        XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue))
        XCTAssertEqual(r.d.payload_len, 0)
        XCTAssertEqual(r.payload, [])
        XCTAssertEqual(r.d.l3_caplen, 40)
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_GOOD.rawValue), "padding must not enter the checksum")
    }

    func testLinuxCookedV1AndV2() {
        let ip = Pkt.udp4(sport: 5000, dport: 53, payload: [1, 2, 3])
        let a = decode(Pkt.sll(ip, pkttype: 4, hatype: 1), SLL)
        XCTAssertEqual(a.d.link.pkttype, 4)
        XCTAssertEqual(a.d.link.hatype, 1)
        XCTAssertEqual(a.d.link.has_ifindex, 0)
        XCTAssertEqual(a.d.link.l3_off, 16)
        XCTAssertEqual(a.d.proto, 17)
        XCTAssertEqual(a.payload, [1, 2, 3])
        let b = decode(Pkt.sll2(ip, ifindex: 7, pkttype: 0, hatype: 1), SLL2)
        XCTAssertEqual(b.d.link.ifindex, 7)
        XCTAssertEqual(b.d.link.has_ifindex, 1)
        XCTAssertEqual(b.d.link.l3_off, 20)
        XCTAssertEqual(b.d.ck_l4, UInt8(NL_CK_GOOD.rawValue))
    }

    func testBSDNullInBothByteOrdersAndLoop() {
        let ip6 = Pkt.ipv6(next: 17, payload: Pkt.withChecksum(Pkt.udp(sport: 1, dport: 2, payload: [9]), proto: 17,
                                                               src: Pkt.lo6, dst: Pkt.lo6))
        for (family, be) in [(UInt32(24), false), (UInt32(30), true), (UInt32(28), false), (UInt32(10), true)] {
            let r = decode(Pkt.null(ip6, family: family, bigEndian: be), NULLT)
            XCTAssertEqual(r.d.ipver, 6, "AF \(family)")
            XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_GOOD.rawValue))
            XCTAssertEqual(r.d.link.loopback, 1)
        }
        let ip4 = Pkt.udp4(sport: 1, dport: 2, payload: [])
        XCTAssertEqual(decode(Pkt.null(ip4, family: 2), NULLT).d.ipver, 4)
        XCTAssertEqual(decode(Pkt.be32(2) + ip4, LOOP).d.ipver, 4)
        XCTAssertEqual(decode(ip4, RAW).d.ipver, 4)
        XCTAssertEqual(decode(ip6, RAW).d.ipver, 6)
    }

    func testIPv6ExtensionHeadersAreWalked() {
        let src = Pkt.v6(1), dst = Pkt.v6(2)
        let udp = Pkt.withChecksum(Pkt.udp(sport: 5353, dport: 9, payload: Array("six".utf8)), proto: 17, src: src, dst: dst)
        let hbh: [UInt8] = [1, 4, 0, 0, 0, 0]            // PadN
        let dest: [UInt8] = [1, 4, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        let ip = Pkt.ipv6(src: src, dst: dst, next: 17, payload: udp, ext: [(0, hbh), (60, dest)])
        let r = decode(Pkt.ether(ip, type: 0x86dd), ETH)
        XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue))
        XCTAssertEqual(r.d.proto, 17)
        XCTAssertEqual(r.d.sport, 5353)
        XCTAssertEqual(r.payload, Array("six".utf8))
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_GOOD.rawValue))
        var out = [CChar](repeating: 0, count: 64)
        _ = withUnsafeBytes(of: r.d.src) { nl_endpoint_format(6, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 5353, &out) }
        XCTAssertEqual(String(cString: out), "[fd00::1]:5353")
    }

    func testFragmentsAreNotedNotDecoded() {
        let later = Pkt.ipv4(proto: 6, payload: [UInt8](repeating: 0, count: 16), flagsFragment: 0x0002) // offset 16
        let r = decode(later, RAW)
        XCTAssertEqual(r.d.fragment, 1)
        XCTAssertEqual(r.d.has_l4, 0)
        let frag6 = Pkt.ipv6(next: 6, payload: [UInt8](repeating: 0, count: 8), ext: [(44, [0x00, 0x09, 0, 0, 0, 1])])
        let r6 = decode(frag6, RAW)
        XCTAssertEqual(r6.d.fragment, 1)
        XCTAssertEqual(r6.d.has_l4, 0)
    }

    func testChecksumVerdicts() {
        let payload = Array("data".utf8)
        // Bad: the expected value is reported.
        let good = Pkt.tcp4(sport: 1000, dport: 2000, seq: 1, flags: Pkt.ACK, payload: payload)
        let right = UInt16(good[36]) << 8 | UInt16(good[37])
        let bad = Pkt.tcp4(sport: 1000, dport: 2000, seq: 1, flags: Pkt.ACK, payload: payload, checksum: 0xdead)
        var r = decode(Pkt.sll2(bad, hatype: 1), SLL2)
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_BAD.rawValue))
        XCTAssertEqual(r.d.ck_l4_found, 0xdead)
        XCTAssertEqual(r.d.ck_l4_expected, right)
        // Partial (pseudo-header only): offload, even on an incoming packet of a virtual link.
        let partial = Pkt.partialChecksum(proto: 6, src: Pkt.lo4, dst: Pkt.lo4, length: 24)
        let off = Pkt.tcp4(src: [10, 1, 1, 1], dst: [10, 1, 1, 2], sport: 1000, dport: 2000, seq: 1, flags: Pkt.ACK,
                           payload: payload, checksum: Pkt.partialChecksum(proto: 6, src: [10, 1, 1, 1], dst: [10, 1, 1, 2], length: 24))
        r = decode(Pkt.sll2(off, pkttype: 4, hatype: 1), SLL2)
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_OFFLOAD.rawValue))
        XCTAssertEqual(r.d.offload_l4, UInt8(NL_OFFLOAD_PARTIAL.rawValue))
        XCTAssertEqual(r.d.vantage, UInt8(NL_VANTAGE_SENDER.rawValue))
        XCTAssertNotEqual(partial, 0)
        // Zero: offload when sent (outgoing), corruption when received on a real interface.
        let zero = Pkt.tcp4(src: [10, 1, 1, 1], dst: [10, 1, 1, 2], sport: 1000, dport: 2000, seq: 1, flags: Pkt.ACK,
                            payload: payload, checksum: 0)
        XCTAssertEqual(decode(Pkt.sll2(zero, pkttype: 4, hatype: 1), SLL2).d.ck_l4, UInt8(NL_CK_OFFLOAD.rawValue))
        XCTAssertEqual(decode(Pkt.sll2(zero, pkttype: 0, hatype: 1), SLL2).d.ck_l4, UInt8(NL_CK_BAD.rawValue))
        XCTAssertEqual(decode(Pkt.ether(zero), ETH, direction: UInt8(NL_DIR_OUT.rawValue)).d.ck_l4,
                       UInt8(NL_CK_OFFLOAD.rawValue))
        // Cut by the snap length: unverified.
        let full = Pkt.ether(good)
        r = decode(full, ETH, caplen: full.count - 2, wire: full.count)
        XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue))
        XCTAssertEqual(r.d.ck_l4, UInt8(NL_CK_UNVERIFIED.rawValue))
        XCTAssertEqual(r.d.payload_len, 4)
        XCTAssertEqual(r.payload, Array("da".utf8))
        // UDP over IPv4 with checksum 0: none; over IPv6 zero is wrong (RFC 8200 8.1).
        XCTAssertEqual(decode(Pkt.udp4(sport: 1, dport: 2, payload: [1], checksum: 0), RAW).d.ck_l4,
                       UInt8(NL_CK_ABSENT.rawValue))
        let u6 = Pkt.ipv6(src: Pkt.v6(1), dst: Pkt.v6(2), next: 17, payload: Pkt.udp(sport: 1, dport: 2, payload: [1]))
        XCTAssertEqual(decode(Pkt.sll2(u6, hatype: 1, proto: 0x86dd), SLL2).d.ck_l4, UInt8(NL_CK_BAD.rawValue))
        // IPv4 header checksum.
        let ipbad = Pkt.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 99, payload: [1, 2], checksum: 0x1234)
        r = decode(ipbad, RAW)
        XCTAssertEqual(r.d.ck_ip, UInt8(NL_CK_BAD.rawValue))
        XCTAssertEqual(r.d.ck_ip_found, 0x1234)
        let fixed = Pkt.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 99, payload: [1, 2])
        XCTAssertEqual(r.d.ck_ip_expected, UInt16(fixed[10]) << 8 | UInt16(fixed[11]))
    }

    func testMalformedHeadersAreReportedNotDecoded() {
        func status(_ b: [UInt8], _ lt: Int32) -> (Int32, Int32, String) {
            let r = decode(b, lt)
            return (r.status, Int32(r.d.status_at), r.d.reason.map { String(cString: $0) } ?? "")
        }
        var ip = Pkt.udp4(sport: 1, dport: 2, payload: [1, 2, 3])
        ip[0] = 0x44 // IHL 4
        XCTAssertEqual(status(ip, RAW).0, Int32(NL_DS_MALFORMED.rawValue))
        var v = Pkt.udp4(sport: 1, dport: 2, payload: [])
        v[0] = 0x65 // version 6 inside an Ethernet IPv4 frame
        XCTAssertEqual(status(Pkt.ether(v), ETH).0, Int32(NL_DS_MALFORMED.rawValue))
        let short = Pkt.ipv4(proto: 17, payload: Pkt.udp(sport: 1, dport: 2, payload: []), totalLength: 12)
        XCTAssertEqual(status(short, RAW).2, "IPv4 total length shorter than its header")
        var tcp = Pkt.tcp4(sport: 1, dport: 2, seq: 1, flags: Pkt.ACK)
        tcp[32] = 0x40 // data offset 4
        XCTAssertEqual(status(tcp, RAW).2, "TCP data offset below 5 words")
        var udp = Pkt.udp4(sport: 1, dport: 2, payload: [1])
        udp[24] = 0; udp[25] = 4 // UDP length 4
        XCTAssertEqual(status(udp, RAW).2, "UDP length below 8")
        let long = Pkt.ipv4(proto: 17, payload: Pkt.udp(sport: 1, dport: 2, payload: []), totalLength: 400)
        let r = status(long, RAW)
        XCTAssertEqual(r.0, Int32(NL_DS_MALFORMED.rawValue))
        XCTAssertEqual(r.2, "IPv4 total length exceeds the frame")
    }

    /// Every prefix of a frame: truncated while a header is cut, OK after the
    /// headers (payload cut: checksum unverified), never a read past the end.
    func testTruncationAtEveryPrefixLength() {
        let payload = Array("across every prefix".utf8)
        let cases: [(String, [UInt8], Int32, Int)] = [
            ("Ethernet+VLAN+IPv4 options+TCP options",
             Pkt.ether(Pkt.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 6,
                                payload: Pkt.withChecksum(Pkt.tcp(sport: 1, dport: 2, seq: 3, flags: Pkt.ACK,
                                                                  options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], payload: payload),
                                                          proto: 6, src: [10, 0, 0, 1], dst: [10, 0, 0, 2]),
                                options: [1, 1, 1, 1]), vlans: [5]), ETH, 18 + 24 + 32),
            ("SLL2+IPv6 with a hop-by-hop header+UDP",
             Pkt.sll2(Pkt.ipv6(next: 17, payload: Pkt.withChecksum(Pkt.udp(sport: 1, dport: 2, payload: payload), proto: 17,
                                                                  src: Pkt.lo6, dst: Pkt.lo6), ext: [(0, [1, 4, 0, 0, 0, 0])]),
                      proto: 0x86dd), SLL2, 20 + 48 + 8),
            ("SLL+IPv4+ICMP echo", Pkt.sll(Pkt.ipv4(proto: 1, payload: Pkt.icmpEcho(id: 1, seq: 1, payload: payload))), SLL,
             16 + 20 + 8),
        ]
        for (name, frame, lt, headers) in cases {
            let full = decode(frame, lt)
            XCTAssertEqual(full.status, Int32(NL_DS_OK.rawValue), name)
            for k in 0...frame.count {
                let r = decode(Array(frame[0..<k]), lt, wire: frame.count)
                if k < headers {
                    XCTAssertEqual(r.status, Int32(NL_DS_TRUNCATED.rawValue), "\(name) cut at \(k)")
                } else {
                    XCTAssertEqual(r.status, Int32(NL_DS_OK.rawValue), "\(name) cut at \(k)")
                    XCTAssertEqual(r.payload, Array(frame[headers..<k]), "\(name) cut at \(k)")
                    XCTAssertEqual(r.d.payload_len, full.d.payload_len, "\(name): payload length from the headers")
                    if lt != SLL {
                        XCTAssertEqual(r.d.ck_l4, UInt8(k == frame.count ? NL_CK_GOOD.rawValue : NL_CK_UNVERIFIED.rawValue),
                                       "\(name) cut at \(k)")
                    }
                }
            }
        }
    }

    func testLinkTypeNames() {
        XCTAssertEqual(String(cString: nl_linktype_name(1)), "EN10MB")
        XCTAssertEqual(String(cString: nl_linktype_name(113)), "LINUX_SLL")
        XCTAssertEqual(String(cString: nl_linktype_name(276)), "LINUX_SLL2")
        XCTAssertEqual(String(cString: nl_linktype_name(101)), "RAW")
        XCTAssertNil(nl_linktype_name(4242))
        XCTAssertEqual(nl_linktype_supported(4242), 0)
    }
}
