// nl_pcapr: pcap in both byte orders, micro- and nanosecond; pcapng with several
// interfaces, names, resolutions, sections and byte orders; every prefix of a
// file (cut short: the packets before the cut, then NL_ETRUNC naming the packet);
// impossible records and blocks; real files written by tcpdump, editcap and tshark.
import CNetlab
import XCTest

final class PcapReaderTests: XCTestCase {
    struct Frame: Equatable {
        var number: UInt64
        var tsNs: Int64
        var caplen: UInt32
        var len: UInt32
        var iface: UInt32
        var linktype: Int32
        var direction: UInt8
        var data: [UInt8]
    }

    struct Read {
        var openCode: Int32 = 0
        var frames: [Frame] = []
        var endCode: Int32 = 0
        var message = ""
        var ifaces: [(Int32, String?)] = []
        var format = ""
        var swapped = false
        var nano = false
    }

    func read(_ bytes: [UInt8], name: String = "test.pcap") -> Read {
        var out = Read()
        bytes.withUnsafeBufferPointer { buf in
            var err = [CChar](repeating: 0, count: Int(NL_ERRBUF_SIZE))
            var r: OpaquePointer?
            out.openCode = nl_pcapr_open_mem(&r, buf.baseAddress, buf.count, name, &err)
            guard out.openCode == 0, let r else {
                out.message = String(cString: err)
                return
            }
            defer { nl_pcapr_close(r) }
            var f = nl_frame()
            while true {
                let rc = nl_pcapr_next(r, &f, &err)
                if rc <= 0 {
                    out.endCode = rc
                    if rc < 0 { out.message = String(cString: err) }
                    break
                }
                out.frames.append(Frame(number: f.number, tsNs: f.ts_ns, caplen: f.caplen, len: f.len, iface: f.iface,
                                        linktype: f.linktype, direction: f.direction,
                                        data: Array(UnsafeBufferPointer(start: f.data, count: Int(f.caplen)))))
            }
            out.ifaces = (0..<nl_pcapr_iface_count(r)).map { i in
                let f = nl_pcapr_iface(r, i)!.pointee
                return (f.linktype, f.name.map { String(cString: $0) })
            }
            out.format = String(cString: nl_pcapr_format_name(r))
            out.swapped = nl_pcapr_swapped(r) != 0
            out.nano = nl_pcapr_nanosecond(r) != 0
        }
        return out
    }

    let frames = [
        CaptureBytes.Frame(seconds: 1_700_000_000, fraction: 250_000, data: Array("first frame".utf8)),
        CaptureBytes.Frame(seconds: 1_700_000_001, fraction: 999_999, data: Array("second, cut".utf8), wireLength: 1500),
        CaptureBytes.Frame(seconds: 1_700_000_002, fraction: 1, data: []),
    ]

    func testPcapBothByteOrdersMicroAndNano() {
        for be in [false, true] {
            for nano in [false, true] {
                let r = read(CaptureBytes.pcap(linkType: 101, frames: frames, nano: nano, bigEndian: be))
                let what = "bigEndian \(be) nano \(nano)"
                XCTAssertEqual(r.openCode, 0, what)
                XCTAssertEqual(r.endCode, 0, what)
                XCTAssertEqual(r.format, "pcap")
                XCTAssertEqual(r.swapped, be, what)
                XCTAssertEqual(r.nano, nano, what)
                XCTAssertEqual(r.frames.map(\.number), [1, 2, 3])
                XCTAssertEqual(r.frames.map(\.data), frames.map(\.data), what)
                XCTAssertEqual(r.frames[1].len, 1500, what)
                XCTAssertEqual(r.frames[1].caplen, 11, what)
                XCTAssertEqual(r.frames.map(\.linktype), [101, 101, 101])
                let scale: Int64 = nano ? 1 : 1000
                XCTAssertEqual(r.frames[0].tsNs, 1_700_000_000 * 1_000_000_000 + 250_000 * scale, what)
                XCTAssertEqual(r.frames[1].tsNs, 1_700_000_001 * 1_000_000_000 + 999_999 * scale, what)
            }
        }
    }

    func pcapngSample(bigEndian be: Bool = false) -> [UInt8] {
        let C = CaptureBytes.self
        var b = C.shb(bigEndian: be)
        b += C.idb(linkType: 1, name: "lo", tsresol: 9, bigEndian: be)            // nanoseconds
        b += C.idb(linkType: 101, name: "wlan0", bigEndian: be)                   // default: microseconds
        b += C.block(4, C.le32(0) + C.le32(0), bigEndian: be)                     // name resolution: skipped
        b += C.epb(interface: 1, timestamp: 1_700_000_000_000_001, data: Array("on wlan0".utf8), flags: 2, bigEndian: be)
        b += C.epb(interface: 0, timestamp: 1_700_000_000_123_456_789, data: Array("on lo".utf8), wireLength: 99,
                   flags: 1, bigEndian: be)
        b += C.block(0x0bad, [1, 2, 3, 4], bigEndian: be)                         // unknown: skipped
        return b
    }

    func testPcapngInterfacesNamesResolutionsAndFlags() {
        for be in [false, true] {
            let r = read(pcapngSample(bigEndian: be), name: "two.pcapng")
            XCTAssertEqual(r.openCode, 0)
            XCTAssertEqual(r.endCode, 0, r.message)
            XCTAssertEqual(r.format, "pcapng")
            XCTAssertEqual(r.swapped, be)
            XCTAssertTrue(r.nano)
            XCTAssertEqual(r.ifaces.map(\.0), [1, 101])
            XCTAssertEqual(r.ifaces.map(\.1), ["lo", "wlan0"])
            XCTAssertEqual(r.frames.count, 2)
            XCTAssertEqual(r.frames[0].iface, 1)
            XCTAssertEqual(r.frames[0].linktype, 101)
            XCTAssertEqual(r.frames[0].tsNs, 1_700_000_000_000_001_000)
            XCTAssertEqual(r.frames[0].direction, UInt8(NL_DIR_OUT.rawValue))
            XCTAssertEqual(r.frames[1].iface, 0)
            XCTAssertEqual(r.frames[1].tsNs, 1_700_000_000_123_456_789)
            XCTAssertEqual(r.frames[1].len, 99)
            XCTAssertEqual(r.frames[1].data, Array("on lo".utf8))
            XCTAssertEqual(r.frames[1].direction, UInt8(NL_DIR_IN.rawValue))
        }
    }

    func testPcapngSecondSectionInOtherByteOrderAndSimplePackets() {
        let C = CaptureBytes.self
        var b = pcapngSample()
        b += C.shb(bigEndian: true) + C.idb(linkType: 113, name: "any", snaplen: 4, bigEndian: true)
        b += C.block(3, C.be32(8) + C.pad4(Array("simple!!".utf8)), bigEndian: true) // SPB clipped to snaplen 4
        let r = read(b)
        XCTAssertEqual(r.endCode, 0, r.message)
        XCTAssertEqual(r.frames.count, 3)
        XCTAssertEqual(r.ifaces.count, 3)
        XCTAssertEqual(r.frames[2].iface, 2, "a new section starts its own interface numbering")
        XCTAssertEqual(r.frames[2].linktype, 113)
        XCTAssertEqual(r.frames[2].caplen, 4)
        XCTAssertEqual(r.frames[2].len, 8)
        XCTAssertEqual(r.frames[2].data, Array("simp".utf8))
    }

    /// A file cut at every byte: the frames wholly before the cut, then a
    /// truncation error that names the file and the packet it cut.
    func testEveryPrefixOfPcapAndPcapng() {
        for (name, full, fileHeader) in [("cut.pcap", CaptureBytes.pcap(linkType: 1, frames: frames), 24),
                                         ("cut.pcapng", pcapngSample(), 28)] {
            let whole = read(full, name: name)
            // Where each frame's record ends.
            var ends = [Int]()
            var pos = fileHeader
            if name.hasSuffix(".pcap") {
                for f in frames { pos += 16 + f.data.count; ends.append(pos) }
            }
            for k in 0..<full.count {
                let r = read(Array(full[0..<k]), name: name)
                if k < (name.hasSuffix(".pcap") ? 24 : 28) {
                    XCTAssertNotEqual(r.openCode, 0, "\(name) cut at \(k) must not open")
                    XCTAssertTrue(r.message.hasPrefix(name), r.message)
                    continue
                }
                XCTAssertEqual(r.openCode, 0, "\(name) cut at \(k)")
                XCTAssertTrue(r.frames.count <= whole.frames.count)
                XCTAssertEqual(r.frames, Array(whole.frames.prefix(r.frames.count)), "\(name) cut at \(k)")
                if name.hasSuffix(".pcap") {
                    XCTAssertEqual(r.frames.count, ends.filter { $0 <= k }.count, "\(name) cut at \(k)")
                    let atBoundary = k == 24 || ends.contains(k)
                    XCTAssertEqual(r.endCode, atBoundary ? 0 : Int32(NL_ETRUNC.rawValue), "\(name) cut at \(k)")
                }
                if r.endCode != 0 {
                    XCTAssertEqual(r.endCode, Int32(NL_ETRUNC.rawValue), "\(name) cut at \(k): \(r.message)")
                    XCTAssertTrue(r.message.hasPrefix("\(name): packet \(r.frames.count + 1) at byte offset"), r.message)
                }
            }
        }
    }

    func testImpossibleFilesAndRecords() {
        let C = CaptureBytes.self
        XCTAssertEqual(read([]).openCode, Int32(NL_EMALFORMED.rawValue))
        var r = read(Array("GET / HTTP/1.1\r\n\r\n".utf8), name: "web.txt")
        XCTAssertEqual(r.openCode, Int32(NL_EMALFORMED.rawValue))
        XCTAssertTrue(r.message.contains("web.txt: not a pcap or pcapng capture"), r.message)
        var badVersion = C.pcap(linkType: 1, frames: [])
        badVersion[4] = 3
        XCTAssertEqual(read(badVersion).openCode, Int32(NL_EMALFORMED.rawValue))
        // A record claiming 100 MB.
        var huge = C.pcap(linkType: 1, frames: frames)
        huge.replaceSubrange(24 + 8..<24 + 12, with: C.le32(100_000_000))
        r = read(huge)
        XCTAssertEqual(r.endCode, Int32(NL_EMALFORMED.rawValue))
        XCTAssertTrue(r.message.contains("packet 1 at byte offset 24"), r.message)
        // pcapng: a length that is not a multiple of 4, a trailing length that differs,
        // a packet on an interface never described.
        var odd = C.shb() + C.idb(linkType: 1, name: nil)
        odd += C.le32(6) + C.le32(30) + [UInt8](repeating: 0, count: 22)
        XCTAssertEqual(read(odd).endCode, Int32(NL_EMALFORMED.rawValue))
        var trailing = C.shb() + C.idb(linkType: 1, name: nil) + C.epb(interface: 0, timestamp: 0, data: [1, 2, 3, 4])
        trailing[trailing.count - 1] = 0x7f
        XCTAssertEqual(read(trailing).endCode, Int32(NL_EMALFORMED.rawValue))
        r = read(C.shb() + C.idb(linkType: 1, name: nil) + C.epb(interface: 5, timestamp: 0, data: [1]))
        XCTAssertEqual(r.endCode, Int32(NL_EMALFORMED.rawValue))
        XCTAssertTrue(r.message.contains("interface 5"), r.message)
        // Captured length above the wire length: read, with a warning.
        let over = C.pcap(linkType: 101, frames: [CaptureBytes.Frame(seconds: 0, fraction: 0, data: [0x45, 0], wireLength: 1)])
        r = read(over)
        XCTAssertEqual(r.endCode, 0)
        XCTAssertEqual(r.frames.first?.len, 2)
    }

    /// Real files: the injector's pcap, converted by editcap to nanosecond pcap and
    /// pcapng; every copy must give the same frames.
    func testRealFilesAgreeAcrossFormats() throws {
        Lab.requireTools(["editcap"])
        let dir = Lab.tempDir("reader")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("inj.pcap").path
        let made = try Lab.run(Lab.product("injector"), ["--handshake", "--write", base, "--no-inject"],
                               cwd: Lab.repoRoot)
        XCTAssertEqual(made.status, 0, made.stderr)
        let original = read(Array(try Data(contentsOf: URL(fileURLWithPath: base))))
        XCTAssertGreaterThan(original.frames.count, 10)
        for (fmt, name) in [("nsecpcap", "inj-ns.pcap"), ("pcapng", "inj.pcapng")] {
            let out = dir.appendingPathComponent(name).path
            let r = try Lab.run("editcap", ["-F", fmt, base, out])
            XCTAssertEqual(r.status, 0, r.stderr)
            let copy = read(Array(try Data(contentsOf: URL(fileURLWithPath: out))), name: name)
            XCTAssertEqual(copy.endCode, 0, copy.message)
            XCTAssertEqual(copy.frames.map(\.data), original.frames.map(\.data), name)
            XCTAssertEqual(copy.frames.map(\.tsNs), original.frames.map(\.tsNs), name)
            XCTAssertEqual(copy.frames.map(\.linktype), original.frames.map(\.linktype), name)
        }
    }
}
