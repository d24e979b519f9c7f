// The checksum engine (nl_checksum.c) against known vectors: RFC 1071's worked
// example, a textbook IPv4 header, TCP segments from a real Linux capture that
// tshark confirms, RFC 1624 updates, and random buffers against a plain
// reference implementation and against libnet's own checksum.
import CNetlab
import Foundation
import XCTest

/// The obvious RFC 1071 loop, kept deliberately plain: the reference.
func referenceChecksum(_ b: [UInt8]) -> UInt16 {
    var sum: UInt64 = 0
    var i = 0
    while i + 1 < b.count {
        sum += UInt64(b[i]) << 8 | UInt64(b[i + 1])
        i += 2
    }
    if i < b.count { sum += UInt64(b[i]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
}

func nlChecksum(_ b: [UInt8]) -> UInt16 { b.withUnsafeBytes { nl_cksum($0.baseAddress, $0.count) } }

final class ChecksumTests: XCTestCase {
    func testRFC1071WorkedExample() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2; the checksum is its complement 220d.
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        XCTAssertEqual(bytes.withUnsafeBytes { nl_cksum_fold(nl_cksum_add(0, $0.baseAddress, $0.count)) }, 0xddf2)
        XCTAssertEqual(nlChecksum(bytes), 0x220d)
        // A correct buffer with its checksum appended sums to 0xffff: nl_cksum gives 0.
        XCTAssertEqual(nlChecksum(bytes + [0x22, 0x0d]), 0)
    }

    /// The header checksum of any length a caller passes: its bytes with the field (10 and 11) as zero.
    func testIPv4HeaderChecksumOfEveryLength() {
        var rng = SystemRandomNumberGenerator()
        for len in 12...64 {
            for _ in 0..<50 {
                let hdr = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var zeroed = hdr
                zeroed[10] = 0
                zeroed[11] = 0
                XCTAssertEqual(hdr.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, len) },
                               referenceChecksum(zeroed), "length \(len)")
            }
        }
        let one = [UInt8](repeating: 0xff, count: 11) // odd: the last byte is byte 10, inside the field
        var zeroed = one
        zeroed[10] = 0
        XCTAssertEqual(one.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, 11) },
                       referenceChecksum(zeroed))
    }

    func testTextbookIPv4Header() {
        // The IPv4 header used in Wikipedia's "Internet checksum" example: checksum b861.
        let hdr = TestSupport.hexBytes("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7")
        XCTAssertEqual(hdr.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, 20) }, 0xb861)
        XCTAssertEqual(nlChecksum(hdr), 0, "a header with a correct checksum sums to 0xffff")
        var zeroed = hdr
        zeroed[10] = 0
        zeroed[11] = 0
        XCTAssertEqual(nlChecksum(zeroed), 0xb861)
    }

    func testEmptyOddAndUnaligned() {
        XCTAssertEqual(nlChecksum([]), 0xffff, "the sum of nothing is 0, its complement 0xffff")
        XCTAssertEqual(nlChecksum([0xab]), ~UInt16(0xab00), "an odd last byte is padded on the right")
        XCTAssertEqual(nlChecksum([0x12, 0x34, 0x56]), referenceChecksum([0x12, 0x34, 0x56]))
        // Every alignment and every length up to 300 bytes, from a buffer with a known pattern.
        let big = (0..<400).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }
        big.withUnsafeBytes { raw in
            for offset in 0..<16 {
                for len in 0..<300 {
                    let slice = Array(big[offset..<offset + len])
                    XCTAssertEqual(nl_cksum(raw.baseAddress! + offset, len), referenceChecksum(slice),
                                   "offset \(offset) length \(len)")
                }
            }
        }
    }

    func testRandomBuffersAgainstReferenceAndLibnet() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let len = Int.random(in: 0...3000, using: &rng)
            let buf = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let ours = nlChecksum(buf)
            XCTAssertEqual(ours, referenceChecksum(buf), "length \(len)")
            XCTAssertEqual(ours, buf.withUnsafeBytes { nl_libnet_cksum($0.baseAddress, $0.count) }, "libnet, length \(len)")
        }
        // Large buffers cross the SIMD drain boundary (4096 steps of 64 bytes).
        for len in [65_535, 262_144 + 3, 1 << 20] {
            let buf = (0..<len).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
            XCTAssertEqual(nlChecksum(buf), referenceChecksum(buf), "length \(len)")
        }
        // All-ones data maximises carries; past 4096 steps of 128 bytes (the AVX2 round) too.
        for len in [300_001, (1 << 20) + 77] {
            let ones = [UInt8](repeating: 0xff, count: len)
            XCTAssertEqual(nlChecksum(ones), referenceChecksum(ones), "all ones, length \(len)")
        }
    }

    func testChunkedSumsEqualOneSum() {
        let buf = (0..<1501).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        buf.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            for cut in stride(from: 0, through: 1500, by: 2) {
                let s = nl_cksum_add(nl_cksum_add(0, p, cut), p + cut, 1501 - cut)
                XCTAssertEqual(nl_cksum_finish(s), referenceChecksum(buf), "cut at \(cut)")
            }
        }
    }

    func testRFC1624IncrementalUpdate() {
        // Errata 5864 to RFC 1624: eqn. 3 with HC = 0x0000, m = 0x5555 -> m' = 0x5556 gives 0xfffe;
        // with m unchanged it gives 0x0000 back.
        XCTAssertEqual(nl_cksum_update16(0x0000, 0x5555, 0x5556), 0xfffe)
        XCTAssertEqual(nl_cksum_update16(0x0000, 0x5555, 0x5555), 0x0000)
        // RFC 1624 section 4's case: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285. Recomputing from
        // scratch gives 0x0000; eqn. 3 must too (eqn. 2 of RFC 1141 would give 0xffff).
        XCTAssertEqual(nl_cksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000)
        // Random IPv4 headers: change the TTL word, the id and an address; the update must equal a recompute.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var h = (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
            h[0] = 0x45
            h[10] = 0
            h[11] = 0
            let c = h.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, 20) }
            let oldTTLWord = UInt16(h[8]) << 8 | UInt16(h[9])
            h[8] = UInt8.random(in: 0...255, using: &rng)
            let newTTLWord = UInt16(h[8]) << 8 | UInt16(h[9])
            let oldAddr = UInt32(h[12]) << 24 | UInt32(h[13]) << 16 | UInt32(h[14]) << 8 | UInt32(h[15])
            let newAddr = UInt32.random(in: 0...UInt32.max, using: &rng)
            h[12] = UInt8(newAddr >> 24); h[13] = UInt8(truncatingIfNeeded: newAddr >> 16)
            h[14] = UInt8(truncatingIfNeeded: newAddr >> 8); h[15] = UInt8(truncatingIfNeeded: newAddr)
            let updated = nl_cksum_update32(nl_cksum_update16(c, oldTTLWord, newTTLWord), oldAddr, newAddr)
            let fresh = h.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, 20) }
            XCTAssertEqual(updated, fresh)
        }
    }

    func testIPv6PseudoHeaderAgainstReference() {
        // UDP over IPv6: pseudo-header (RFC 8200 8.1) + segment, checked against the plain loop.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let src = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let dst = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var seg = (0..<Int.random(in: 8...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            seg[6] = 0
            seg[7] = 0
            let len = UInt32(seg.count)
            let pseudo = src + dst + [UInt8(len >> 24), UInt8(truncatingIfNeeded: len >> 16),
                                      UInt8(truncatingIfNeeded: len >> 8), UInt8(truncatingIfNeeded: len), 0, 0, 0, 17]
            let want = referenceChecksum(pseudo + seg)
            let got = seg.withUnsafeBufferPointer { s in nl_cksum_l4_ipv6(src, dst, 17, s.baseAddress, s.count, 6) }
            XCTAssertEqual(got, want)
        }
    }

    /// Segments of a real TCP exchange captured between two network namespaces with
    /// checksum offload off (Tests/Fixtures/make_real_tcp.sh): the kernel's checksums.
    func testRealCaptureSegmentsTsharkConfirms() throws {
        let path = TestSupport.root.appendingPathComponent("Tests/Fixtures/real_tcp.pcap").path
        let frames = try PcapFile(path: path).frames
        XCTAssertEqual(frames.count, 13)
        // The oracle: tshark says every IPv4 and TCP checksum in this file is good.
        let statuses = try TestSupport.tsharkFields(path, ["ip.checksum.status", "tcp.checksum.status", "tcp.len"])
        XCTAssertEqual(statuses.count, frames.count)
        var payloadLengths: Set<Int> = []
        for (i, f) in frames.enumerated() {
            XCTAssertEqual(statuses[i][0], "1", "tshark: IPv4 checksum of frame \(i + 1)")
            XCTAssertEqual(statuses[i][1], "1", "tshark: TCP checksum of frame \(i + 1)")
            let ip = Array(f.dropFirst(14))  // Ethernet II
            let ihl = Int(ip[0] & 0x0f) * 4
            let total = Int(ip[2]) << 8 | Int(ip[3])
            let tcp = Array(ip[ihl..<total])
            let inPacket = UInt16(tcp[16]) << 8 | UInt16(tcp[17])
            let ours = tcp.withUnsafeBufferPointer { t in
                Array(ip[12..<16]).withUnsafeBufferPointer { s in
                    Array(ip[16..<20]).withUnsafeBufferPointer { d in
                        nl_cksum_l4_ipv4(s.baseAddress, d.baseAddress, 6, t.baseAddress, t.count, 16)
                    }
                }
            }
            XCTAssertEqual(ours, inPacket, "TCP checksum of frame \(i + 1)")
            XCTAssertEqual(ip.withUnsafeBufferPointer { nl_ipv4_header_checksum($0.baseAddress, ihl) },
                           UInt16(ip[10]) << 8 | UInt16(ip[11]), "IPv4 checksum of frame \(i + 1)")
            payloadLengths.insert(tcp.count - Int(tcp[12] >> 4) * 4)
        }
        XCTAssertTrue(payloadLengths.isSuperset(of: [0, 3, 17, 69]), "odd payloads are among the vectors")
    }
}

/// A minimal reader for the little-endian microsecond pcap files in Tests/Fixtures.
struct PcapFile {
    let linkType: UInt32
    let frames: [[UInt8]]

    init(path: String) throws {
        let d = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u32(_ o: Int) -> UInt32 { UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24 }
        guard d.count >= 24, u32(0) == 0xa1b2c3d4 || u32(0) == 0xa1b23c4d else {
            throw NSError(domain: "pcap", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path): not a little-endian pcap"])
        }
        linkType = u32(20)
        var out: [[UInt8]] = []
        var o = 24
        while o + 16 <= d.count {
            let cap = Int(u32(o + 8))
            o += 16
            guard o + cap <= d.count else { break }
            out.append(Array(d[o..<o + cap]))
            o += cap
        }
        frames = out
    }
}
