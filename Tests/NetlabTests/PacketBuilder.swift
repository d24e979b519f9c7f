// Frames built byte by byte for the decoder and analysis tests: link headers
// (Ethernet with VLAN tags, SLL, SLL2, NULL), IPv4/IPv6 (with options and
// extension headers), TCP/UDP/ICMP, checksums from libnetlab's engine.
import CNetlab

enum Pkt {
    static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static let lo4: [UInt8] = [127, 0, 0, 1]
    static let lo6: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]
    static func v6(_ last: UInt8) -> [UInt8] { [0xfd, 0x00] + [UInt8](repeating: 0, count: 13) + [last] }

    // ---- transport ----

    static func tcp(sport: Int, dport: Int, seq: UInt32, ack: UInt32 = 0, flags: UInt8, window: Int = 65535,
                    options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        let doff = (20 + options.count) / 4
        return be16(sport) + be16(dport) + be32(seq) + be32(ack) + [UInt8(doff << 4), flags] + be16(window)
            + [0, 0] + [0, 0] + options + payload
    }

    static func udp(sport: Int, dport: Int, payload: [UInt8]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(8 + payload.count) + [0, 0] + payload
    }

    static func icmpEcho(id: Int, seq: Int, payload: [UInt8]) -> [UInt8] {
        var b = [8, 0, 0, 0] + be16(id) + be16(seq) + payload
        let c = b.withUnsafeBytes { nl_cksum($0.baseAddress, $0.count) }
        b[2] = UInt8(c >> 8); b[3] = UInt8(c & 0xff)
        return b
    }

    /// Fill the TCP (offset 16) or UDP (offset 6) checksum for the given addresses.
    static func withChecksum(_ seg: [UInt8], proto: UInt8, src: [UInt8], dst: [UInt8], value: UInt16? = nil) -> [UInt8] {
        var s = seg
        let off = proto == 6 ? 16 : 6
        var c: UInt16
        if let value {
            c = value
        } else {
            c = s.withUnsafeBytes { b in
                src.count == 4 ? nl_cksum_l4_ipv4(src, dst, proto, b.baseAddress!.assumingMemoryBound(to: UInt8.self), b.count, off)
                    : nl_cksum_l4_ipv6(src, dst, proto, b.baseAddress!.assumingMemoryBound(to: UInt8.self), b.count, off)
            }
            if proto == 17 && c == 0 { c = 0xffff }
        }
        s[off] = UInt8(c >> 8); s[off + 1] = UInt8(c & 0xff)
        return s
    }

    /// The folded pseudo-header sum a stack leaves for checksum offload.
    static func partialChecksum(proto: UInt8, src: [UInt8], dst: [UInt8], length: Int) -> UInt16 {
        src.count == 4 ? nl_cksum_fold(nl_cksum_pseudo4(src, dst, proto, UInt16(length)))
            : nl_cksum_fold(nl_cksum_pseudo6(src, dst, proto, UInt32(length)))
    }

    // ---- network ----

    static func ipv4(src: [UInt8] = lo4, dst: [UInt8] = lo4, proto: UInt8, payload: [UInt8], id: Int = 1,
                     ttl: UInt8 = 64, options: [UInt8] = [], flagsFragment: Int = 0x4000,
                     checksum: UInt16? = nil, totalLength: Int? = nil) -> [UInt8] {
        let ihl = (20 + options.count) / 4
        var h: [UInt8] = [UInt8(0x40 | ihl), 0] + be16(totalLength ?? (20 + options.count + payload.count)) + be16(id)
            + be16(flagsFragment) + [ttl, proto, 0, 0] + src + dst + options
        let c = checksum ?? h.withUnsafeBytes { nl_ipv4_header_checksum($0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count) }
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xff)
        return h + payload
    }

    /// IPv6 with extension headers given as (type, body after the 2-byte next/length prefix).
    static func ipv6(src: [UInt8] = lo6, dst: [UInt8] = lo6, next: UInt8, payload: [UInt8],
                     ext: [(type: UInt8, body: [UInt8])] = [], hopLimit: UInt8 = 64, payloadLength: Int? = nil) -> [UInt8] {
        var chain = [UInt8]()
        var types = ext.map(\.type) + [next]
        for (i, e) in ext.enumerated() {
            let nh = types[i + 1]
            if e.type == 44 {
                chain += [nh, 0] + e.body               // fragment header: 8 bytes in all
            } else {
                let len = (2 + e.body.count) / 8 - 1   // in 8-byte units, not counting the first 8
                chain += [nh, UInt8(len)] + e.body
            }
        }
        types.removeLast()
        let first = ext.first?.type ?? next
        let body = chain + payload
        return [0x60, 0, 0, 0] + be16(payloadLength ?? body.count) + [first, hopLimit] + src + dst + body
    }

    static func tcp4(src: [UInt8] = lo4, dst: [UInt8] = lo4, sport: Int, dport: Int, seq: UInt32, ack: UInt32 = 0,
                     flags: UInt8, window: Int = 65535, options: [UInt8] = [], payload: [UInt8] = [], id: Int = 1,
                     checksum: UInt16? = nil) -> [UInt8] {
        let t = withChecksum(tcp(sport: sport, dport: dport, seq: seq, ack: ack, flags: flags, window: window,
                                 options: options, payload: payload), proto: 6, src: src, dst: dst, value: checksum)
        return ipv4(src: src, dst: dst, proto: 6, payload: t, id: id)
    }

    static func udp4(src: [UInt8] = lo4, dst: [UInt8] = lo4, sport: Int, dport: Int, payload: [UInt8],
                     checksum: UInt16? = nil) -> [UInt8] {
        let u = withChecksum(udp(sport: sport, dport: dport, payload: payload), proto: 17, src: src, dst: dst,
                             value: checksum)
        return ipv4(src: src, dst: dst, proto: 17, payload: u)
    }

    // ---- link ----

    static func ether(_ l3: [UInt8], type: Int = 0x0800, vlans: [Int] = [], zeroMACs: Bool = false) -> [UInt8] {
        let dst: [UInt8] = zeroMACs ? [0, 0, 0, 0, 0, 0] : [0x02, 0, 0, 0, 0, 2]
        let src: [UInt8] = zeroMACs ? [0, 0, 0, 0, 0, 0] : [0x02, 0, 0, 0, 0, 1]
        var b = dst + src
        for v in vlans { b += be16(0x8100) + be16(v) }
        return b + be16(type) + l3
    }

    static func sll(_ l3: [UInt8], pkttype: Int = 0, hatype: Int = 772, proto: Int = 0x0800) -> [UInt8] {
        be16(pkttype) + be16(hatype) + be16(6) + [UInt8](repeating: 0, count: 8) + be16(proto) + l3
    }

    static func sll2(_ l3: [UInt8], ifindex: UInt32 = 1, pkttype: UInt8 = 0, hatype: Int = 772, proto: Int = 0x0800) -> [UInt8] {
        be16(proto) + [0, 0] + be32(ifindex) + be16(hatype) + [pkttype, 6] + [UInt8](repeating: 0, count: 8) + l3
    }

    static func null(_ l3: [UInt8], family: UInt32, bigEndian: Bool = false) -> [UInt8] {
        let le: [UInt8] = [UInt8(family & 0xff), UInt8((family >> 8) & 0xff), 0, 0]
        return (bigEndian ? le.reversed() : le) + l3
    }

    static let SYN: UInt8 = 0x02, ACK: UInt8 = 0x10, FIN: UInt8 = 0x01, RST: UInt8 = 0x04, PSH: UInt8 = 0x08
}
