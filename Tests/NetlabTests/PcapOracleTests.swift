// Captures written by netlab, judged by tshark: zero malformed packets, zero
// checksum errors with validation on, every payload equal to its CSV message,
// no TCP analysis warnings with --handshake, Follow TCP Stream in order; and the
// writer's all-or-nothing behaviour.
import CNetlab
import Foundation
import Netlab
import XCTest

final class PcapOracleTests: XCTestCase {
    func writeSample(handshake: Bool, dir: String, csv: String = TestSupport.sampleCSV) throws -> (Plan, String) {
        let ms = try MessageSet(path: csv)
        var o = CraftOptions()
        o.raw.handshake = handshake ? 1 : 0
        let plan = try Plan(messages: ms, options: o)
        let path = dir + "/out.pcap"
        try plan.writePcap(to: path)
        return (plan, path)
    }

    func testTsharkFindsNoMalformedPacketsAndNoBadChecksums() throws {
        let dir = try TestSupport.tempDir()
        for handshake in [false, true] {
            let (plan, path) = try writeSample(handshake: handshake, dir: dir)
            let rows = try TestSupport.tsharkFields(path, ["frame.number", "ip.checksum.status", "tcp.checksum.status",
                                                           "ip.checksum", "tcp.checksum", "tcp.len", "tcp.payload",
                                                           "_ws.malformed"])
            XCTAssertEqual(rows.count, plan.packetCount)
            XCTAssertEqual(try TestSupport.tsharkCount(path, filter: "_ws.malformed || _ws.expert.severity >= 6291456"), 0,
                           "no malformed packets and no expert warnings or errors")
            var payloads: [Int: [UInt8]] = [:]
            for (i, r) in rows.enumerated() {
                let p = plan.packet(i)
                XCTAssertEqual(r[1], "1", "tshark: IPv4 checksum good in frame \(i + 1)")
                XCTAssertEqual(r[2], "1", "tshark: TCP checksum good in frame \(i + 1)")
                XCTAssertEqual(UInt16(r[3].dropFirst(2), radix: 16), p.ipChecksumNetlab)
                XCTAssertEqual(UInt16(r[4].dropFirst(2), radix: 16), p.tcpChecksumNetlab)
                XCTAssertEqual(Int(r[5]), p.payloadLength)
                if let m = p.message { payloads[m, default: []] += TestSupport.hexBytes(r[6]) }
            }
            for i in 0..<plan.messages.count {
                XCTAssertEqual(payloads[i], plan.messages[i].bytes, "tshark's payload of message \(plan.messages[i].id)")
            }
        }
    }

    func testHandshakeGivesOneCleanStreamInOrder() throws {
        let dir = try TestSupport.tempDir()
        let (plan, path) = try writeSample(handshake: true, dir: dir)
        XCTAssertEqual(try TestSupport.tsharkCount(path, filter: "tcp.analysis.flags"), 0,
                       "tshark's TCP analysis flags nothing (no lost segments, retransmissions, window problems)")
        XCTAssertEqual(try TestSupport.tsharkCount(path, filter: "tcp.stream != 0"), 0, "one TCP stream")
        // Follow TCP Stream: each direction's bytes equal that direction's messages, in CSV order.
        let tshark = try TestSupport.requireTool("tshark")
        let r = try TestSupport.run(tshark, ["-r", path, "-q", "-z", "follow,tcp,raw,0"])
        var c2s: [UInt8] = [], s2c: [UInt8] = []
        var inBody = false
        for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Node 1:") { inBody = true; continue }
            if !inBody || line.hasPrefix("=") || line.isEmpty { continue }
            if line.hasPrefix("\t") { s2c += TestSupport.hexBytes(String(line)) } else { c2s += TestSupport.hexBytes(String(line)) }
        }
        let conv = plan.conversation(0)
        var wantC2S: [UInt8] = [], wantS2C: [UInt8] = []
        for i in 0..<plan.messages.count {
            let m = plan.messages[i]
            if m.srcApp == conv.clientApp { wantC2S += m.bytes } else { wantS2C += m.bytes }
        }
        XCTAssertEqual(c2s, wantC2S, "client -> server stream")
        XCTAssertEqual(s2c, wantS2C, "server -> client stream")
        // The handshake and close as tshark sees them.
        let flags = try TestSupport.tsharkFields(path, ["tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin"])
        XCTAssertEqual(flags.prefix(3).map { $0.joined(separator: ",") }, ["1,0,0", "1,1,0", "0,1,0"])
        XCTAssertEqual(flags.suffix(3).map { $0.joined(separator: ",") }, ["0,1,1", "0,1,1", "0,1,0"])
    }

    func testCapinfosReadsIt() throws {
        let capinfos = try TestSupport.requireTool("capinfos")
        let dir = try TestSupport.tempDir()
        let (plan, path) = try writeSample(handshake: false, dir: dir)
        let r = try TestSupport.run(capinfos, ["-c", "-E", "-M", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Number of packets:   \(plan.packetCount)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rawip"), r.stdout)
    }

    func testWriterLeavesNothingOnFailure() throws {
        let dir = try TestSupport.tempDir()
        let ms = try MessageSet(path: TestSupport.sampleCSV)
        let plan = try Plan(messages: ms, options: CraftOptions())
        XCTAssertThrowsError(try plan.writePcap(to: dir + "/missing/out.pcap")) { e in
            XCTAssertTrue((e as! NetlabError).message.contains("missing/out.pcap"), "\(e)")
        }
        XCTAssertThrowsError(try plan.writePcap(to: dir)) { e in
            XCTAssertTrue((e as! NetlabError).message.contains("directory"), "\(e)")
        }
        // An existing capture is replaced whole, and no temporary file remains.
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/out.pcap"))
        try plan.writePcap(to: dir + "/out.pcap")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertEqual(files, ["out.pcap"])
        XCTAssertEqual(try PcapFile(path: dir + "/out.pcap").frames.count, plan.packetCount)
        if !TestSupport.isRoot {
            try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: dir)
            XCTAssertThrowsError(try plan.writePcap(to: dir + "/b.pcap"))
        }
    }

    func testPcapngWriterTsharkReadsInterfaceName() throws {
        let dir = try TestSupport.tempDir()
        let ms = try MessageSet(path: TestSupport.sampleCSV)
        let plan = try Plan(messages: ms, options: CraftOptions())
        // The pcapng writer is used by capture; exercise it directly with the plan's packets.
        var w: OpaquePointer?
        var err = [CChar](repeating: 0, count: Int(NL_ERRBUF_SIZE))
        XCTAssertEqual(nl_pcapw_open_ng(&w, dir + "/x.pcapng", NL_LINKTYPE_RAW, 65535, "demo0", &err), 0)
        for k in plan.packets {
            XCTAssertEqual(k.bytes.withUnsafeBufferPointer { nl_pcapw_write(w, k.timeNs, $0.baseAddress, UInt32(k.bytes.count), UInt32(k.bytes.count), &err) }, 0)
        }
        XCTAssertEqual(nl_pcapw_commit(w, &err), 0)
        let rows = try TestSupport.tsharkFields(dir + "/x.pcapng", ["frame.interface_name", "tcp.checksum.status", "frame.time_epoch"])
        XCTAssertEqual(rows.count, plan.packetCount)
        XCTAssertTrue(rows.allSatisfy { $0[0] == "demo0" && $0[1] == "1" })
        // Nanosecond timestamps survive.
        let t0 = plan.packet(0).timeNs
        XCTAssertEqual(rows[0][2], String(format: "%lld.%09lld", t0 / 1_000_000_000, t0 % 1_000_000_000))
    }
}
