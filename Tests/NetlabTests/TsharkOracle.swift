// tshark as the oracle for analyze: per-frame fields, the conversation tables
// (-z conv,tcp / conv,udp), frames containing a string, Follow TCP Stream; and
// the comparison of all of it with `analyze --json` for one capture file.
import Foundation
import XCTest

enum Tshark {
    struct Frame {
        var number = 0, len = 0
        var src = "", dst = ""
        var v6 = false
        var tcpSport: Int?, tcpDport: Int?, tcpLen: Int?, tcpStream: Int?
        var udpSport: Int?, udpDport: Int?, udpLen: Int?, udpStream: Int?
        var ipStatus: Int?, tcpStatus: Int?, udpStatus: Int?
        var ipProto: Int?
        var icmp = false
        /// Part of a TCP or UDP conversation for tshark: it has a stream index (frames whose
        /// transport header the capture cut before the ports' neighbours get none).
        var isTCP: Bool { tcpStream != nil && !icmp }
        var isUDP: Bool { udpStream != nil && !icmp }
        func endpoint(_ addr: String, _ port: Int?) -> String { (v6 ? "[\(addr)]" : addr) + ":\(port ?? -1)" }
        var srcEP: String { endpoint(src, isTCP ? tcpSport : udpSport) }
        var dstEP: String { endpoint(dst, isTCP ? tcpDport : udpDport) }
    }

    static let checksumPrefs = ["-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                                "-o", "ip.check_checksum:TRUE"]

    static func run(_ args: [String]) throws -> String {
        let r = try Lab.run("tshark", ["-n"] + args, timeout: 180)
        guard r.status == 0 else {
            throw NSError(domain: "tshark", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey:
                "tshark \(args.joined(separator: " ")) failed: \(r.stderr)"])
        }
        return r.text
    }

    static func frames(_ path: String) throws -> [Frame] {
        let fields = ["frame.number", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
                      "tcp.srcport", "tcp.dstport", "tcp.len", "tcp.stream",
                      "udp.srcport", "udp.dstport", "udp.length", "udp.stream",
                      "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.type", "icmpv6.type",
                      "ip.proto", "ipv6.nxt"]
        let out = try run(["-r", path] + checksumPrefs + ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
                          + fields.flatMap { ["-e", $0] })
        return out.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func i(_ k: Int) -> Int? { k < c.count ? Int(c[k]) : nil }
            var f = Frame()
            f.number = i(0) ?? 0
            f.len = i(1) ?? 0
            if c.count > 4 && !c[4].isEmpty {
                f.v6 = true; f.src = c[4]; f.dst = c[5]
            } else if c.count > 2 {
                f.src = c[2]; f.dst = c[3]
            }
            f.tcpSport = i(6); f.tcpDport = i(7); f.tcpLen = i(8); f.tcpStream = i(9)
            f.udpSport = i(10); f.udpDport = i(11); f.udpLen = i(12); f.udpStream = i(13)
            f.ipStatus = i(14); f.tcpStatus = i(15); f.udpStatus = i(16)
            f.icmp = (c.count > 17 && !c[17].isEmpty) || (c.count > 18 && !c[18].isEmpty)
            // The transport protocol: IPv4's field; for IPv6 the header tshark found after
            // any extension headers (ipv6.nxt names only the first).
            let hasICMP = f.icmp, hasTCP = c.count > 6 && !c[6].isEmpty, hasUDP = c.count > 10 && !c[10].isEmpty
            f.ipProto = !f.v6 ? i(19) : hasICMP ? 58 : hasTCP ? 6 : hasUDP ? 17 : i(20)
            return f
        }
    }

    struct ConvRow {
        var a = "", b = ""
        var framesAB = 0, framesBA = 0
        var bytesAB = "", bytesBA = ""  // as printed: "345 bytes", "881 kB"
        var start = 0.0
    }

    /// "::1:51242" -> "[::1]:51242"; "127.0.0.1:80" unchanged.
    static func endpoint(_ s: String) -> String {
        guard let colon = s.lastIndex(of: ":") else { return s }
        let addr = s[..<colon]
        return addr.contains(":") ? "[\(addr)]\(s[colon...])" : s
    }

    static func conversations(_ path: String, proto: String, excluding: [Int]) throws -> [ConvRow] {
        var z = "conv,\(proto)"
        if !excluding.isEmpty { z += ",!(frame.number in {\(excluding.map(String.init).joined(separator: ", "))})" }
        let out = try run(["-r", path, "-q", "-z", z])
        let re = try NSRegularExpression(pattern:
            #"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+ (?:bytes|kB|MB|GB))\s+(\d+)\s+(\d+ (?:bytes|kB|MB|GB))\s+\d+\s+\d+ \S+\s+(-?[0-9.]+)"#)
        var rows = [ConvRow]()
        for line in out.split(separator: "\n") {
            let s = String(line)
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { continue }
            func g(_ k: Int) -> String { String(s[Range(m.range(at: k), in: s)!]) }
            rows.append(ConvRow(a: endpoint(g(1)), b: endpoint(g(2)), framesAB: Int(g(5))!, framesBA: Int(g(3))!,
                                bytesAB: g(6), bytesBA: g(4), start: Double(g(7)) ?? 0))
        }
        return rows
    }

    static func framesContaining(_ path: String, _ text: String) throws -> Set<Int> {
        let out = try run(["-r", path, "-Y", "frame contains \"\(text)\" && (tcp || udp) && !icmp && !icmpv6",
                           "-T", "fields", "-e", "frame.number"])
        return Set(out.split(separator: "\n").compactMap { Int($0) })
    }

    /// Follow TCP Stream (raw): the bytes each way; node 0 is the stream's first sender.
    static func follow(_ path: String, stream: Int) throws -> (node0: String, fromNode0: [UInt8], fromNode1: [UInt8]) {
        let out = try run(["-r", path, "-q", "-z", "follow,tcp,raw,\(stream)"])
        var node0 = "", a = [UInt8](), b = [UInt8]()
        for line in out.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("Node 0: ") { node0 = endpoint(String(line.dropFirst(8))); continue }
            if line.hasPrefix("=") || line.hasPrefix("Follow") || line.hasPrefix("Filter") || line.hasPrefix("Node") { continue }
            let toB = line.hasPrefix("\t")
            let hex = line.trimmingCharacters(in: .whitespaces)
            var bytes = [UInt8]()
            var it = hex.makeIterator()
            while let h = it.next(), let l = it.next() { bytes.append(UInt8(String([h, l]), radix: 16)!) }
            if toB { b += bytes } else { a += bytes }
        }
        return (node0, a, b)
    }
}

/// `analyze --json FILE` parsed.
struct AnalyzeJSON {
    let raw: [String: Any]
    let status: Int32
    let stderr: String

    init(_ path: String, extra: [String] = []) throws {
        let r = try Lab.run(Lab.product("analyze"), ["--json", path] + extra, timeout: 180)
        status = r.status
        stderr = r.stderr
        guard let obj = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else {
            throw NSError(domain: "analyze", code: 1, userInfo: [NSLocalizedDescriptionKey: "no JSON object: \(r.stderr)"])
        }
        raw = obj
    }

    subscript(_ k: String) -> Any? { raw[k] }
    func int(_ k: String) -> Int { raw[k] as? Int ?? -1 }
    var conversations: [[String: Any]] { raw["conversations"] as? [[String: Any]] ?? [] }
    var duplicateFrames: [Int] { (raw["duplicate_packets"] as? [[String: Any]] ?? []).compactMap { $0["packet"] as? Int } }
    func checksums(_ layer: String) -> [String: Int] {
        ((raw["checksums"] as? [String: Any])?[layer] as? [String: Int]) ?? [:]
    }
    var badPackets: [Int] { ((raw["checksums"] as? [String: Any])?["bad_packets"] as? [Int]) ?? [] }
    var matches: [[String: Any]] { raw["matches"] as? [[String: Any]] ?? [] }
    var notes: [[String: Any]] { raw["notes"] as? [[String: Any]] ?? [] }
}

/// What was compared, for the test log.
struct Agreement: CustomStringConvertible {
    var file = ""
    var frames = 0, tcpConvs = 0, udpFlows = 0, convRows = 0, checksummed = 0, matches = 0, duplicates = 0
    var description: String {
        "\(file): \(frames) frames, \(tcpConvs) TCP conversations and \(udpFlows) UDP flows "
            + "(\(convRows) conversation-table rows), \(checksummed) checksum verdicts, \(matches) frames "
            + "containing the texts, \(duplicates) duplicate copies set aside: all agree"
    }
}

extension XCTestCase {
    /// Every number analyze reports for path must match tshark's for the same file.
    /// convTable: false where tshark's conversation table is documented to differ
    /// (frames whose TCP header the snap length cut are left out of it).
    @discardableResult
    func assertAgreesWithTshark(_ path: String, texts: [String] = [], convTable: Bool = true,
                                file: StaticString = #filePath, line: UInt = #line) throws -> AnalyzeJSON {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let j = try AnalyzeJSON(path, extra: texts.flatMap { ["--find", $0] })
        XCTAssertEqual(j.status, 0, "\(name): analyze failed: \(j.stderr)", file: file, line: line)
        let all = try Tshark.frames(path)
        let dups = Set(j.duplicateFrames)
        let frames = all.filter { !dups.contains($0.number) }
        var agreed = Agreement(file: name, frames: all.count, duplicates: dups.count)

        // The capture as a whole.
        XCTAssertEqual(j.int("packets"), all.count, "\(name): packets", file: file, line: line)
        XCTAssertEqual(j.int("bytes"), all.reduce(0) { $0 + $1.len }, "\(name): bytes", file: file, line: line)
        let pp = j["protocol_packets"] as? [String: Int] ?? [:]
        XCTAssertEqual(pp["tcp"], all.filter { $0.ipProto == 6 }.count, "\(name): TCP frames", file: file, line: line)
        XCTAssertEqual(pp["udp"], all.filter { $0.ipProto == 17 }.count, "\(name): UDP frames", file: file, line: line)
        XCTAssertEqual(pp["icmp"], all.filter { $0.ipProto == 1 }.count, "\(name): ICMP frames", file: file, line: line)
        XCTAssertEqual(pp["icmpv6"], all.filter { $0.ipProto == 58 }.count, "\(name): ICMPv6 frames", file: file, line: line)

        // Conversations from the per-frame fields: frames, bytes, payload each way, largest payload.
        for proto in ["tcp", "udp"] {
            let mine = j.conversations.filter { $0["protocol"] as? String == proto }
            let pf = frames.filter { proto == "tcp" ? $0.isTCP : $0.isUDP }
            let streams = Dictionary(grouping: pf) { (proto == "tcp" ? $0.tcpStream : $0.udpStream) ?? -1 }
            XCTAssertEqual(mine.count, streams.count, "\(name): \(proto) conversations", file: file, line: line)
            if proto == "tcp" { agreed.tcpConvs = streams.count } else { agreed.udpFlows = streams.count }
            for (_, fs) in streams {
                let first = fs.min { $0.number < $1.number }!
                let ends = Set([first.srcEP, first.dstEP])
                guard let c = mine.first(where: { ($0["first_packet"] as? Int) == first.number }) else {
                    XCTFail("\(name): no \(proto) conversation starts at frame \(first.number) (\(ends))", file: file, line: line)
                    continue
                }
                let client = c["client"] as? String ?? "", server = c["server"] as? String ?? ""
                XCTAssertEqual(Set([client, server]), ends, "\(name): endpoints of frame \(first.number)", file: file, line: line)
                let c2s = fs.filter { $0.srcEP == client }, s2c = fs.filter { $0.srcEP == server }
                let what = "\(name) \(proto) \(client) -> \(server)"
                XCTAssertEqual(c["packets_c2s"] as? Int, c2s.count, "\(what): packets c2s", file: file, line: line)
                XCTAssertEqual(c["packets_s2c"] as? Int, s2c.count, "\(what): packets s2c", file: file, line: line)
                XCTAssertEqual(c["bytes_c2s"] as? Int, c2s.reduce(0) { $0 + $1.len }, "\(what): bytes c2s", file: file, line: line)
                XCTAssertEqual(c["bytes_s2c"] as? Int, s2c.reduce(0) { $0 + $1.len }, "\(what): bytes s2c", file: file, line: line)
                func payload(_ f: Tshark.Frame) -> Int { proto == "tcp" ? (f.tcpLen ?? 0) : max(0, (f.udpLen ?? 8) - 8) }
                XCTAssertEqual(c["payload_bytes_c2s"] as? Int, c2s.reduce(0) { $0 + payload($1) },
                               "\(what): payload c2s (sum of \(proto).len)", file: file, line: line)
                XCTAssertEqual(c["payload_bytes_s2c"] as? Int, s2c.reduce(0) { $0 + payload($1) },
                               "\(what): payload s2c", file: file, line: line)
                let maxLen = fs.map(payload).max() ?? 0
                let lp = c["largest_payload"] as? [String: Int]
                if maxLen == 0 {
                    XCTAssertNil(lp, "\(what): no payload", file: file, line: line)
                } else {
                    let firstMax = fs.filter { payload($0) == maxLen }.map(\.number).min()
                    XCTAssertEqual(lp?["bytes"], maxLen, "\(what): largest payload", file: file, line: line)
                    XCTAssertEqual(lp?["packet"], firstMax, "\(what): largest payload frame", file: file, line: line)
                }
            }
        }

        // The largest TCP payload in the file.
        let tcpFrames = frames.filter(\.isTCP)
        let maxTCP = tcpFrames.map { $0.tcpLen ?? 0 }.max() ?? 0
        let lp = j["largest_payload"] as? [String: Int]
        if maxTCP > 0 {
            XCTAssertEqual(lp?["bytes"], maxTCP, "\(name): largest TCP payload", file: file, line: line)
            XCTAssertEqual(lp?["packet"], tcpFrames.filter { $0.tcpLen == maxTCP }.map(\.number).min(),
                           "\(name): largest TCP payload frame", file: file, line: line)
        } else {
            XCTAssertNil(lp, "\(name): no TCP payload", file: file, line: line)
        }

        // tshark's conversation tables (frames exact; bytes as tshark rounds them).
        if convTable {
            for proto in ["tcp", "udp"] {
                let rows = try Tshark.conversations(path, proto: proto, excluding: dups.sorted())
                agreed.convRows += rows.count
                let mine = j.conversations.filter { $0["protocol"] as? String == proto }
                XCTAssertEqual(rows.count, mine.count, "\(name): -z conv,\(proto) rows: \(rows.map { "\($0.a) <-> \($0.b) \($0.framesAB)/\($0.framesBA)" })",
                               file: file, line: line)
                var used = Set<Int>()
                for r in rows {
                    let candidates = mine.enumerated().filter { i, c in
                        !used.contains(i) && Set([c["client"] as? String ?? "", c["server"] as? String ?? ""]) == Set([r.a, r.b])
                    }
                    guard let (i, c) = candidates.first(where: { _, c in
                        let aIsClient = c["client"] as? String == r.a
                        let ab = c[aIsClient ? "packets_c2s" : "packets_s2c"] as? Int
                        let ba = c[aIsClient ? "packets_s2c" : "packets_c2s"] as? Int
                        return ab == r.framesAB && ba == r.framesBA
                    }) else {
                        XCTFail("\(name): conv,\(proto) row \(r.a) <-> \(r.b) \(r.framesAB)/\(r.framesBA) frames has no match",
                                file: file, line: line)
                        continue
                    }
                    used.insert(i)
                    let aIsClient = c["client"] as? String == r.a
                    for (printed, key) in [(r.bytesAB, aIsClient ? "bytes_c2s" : "bytes_s2c"),
                                           (r.bytesBA, aIsClient ? "bytes_s2c" : "bytes_c2s")] {
                        let ours = c[key] as? Int ?? -1
                        let parts = printed.split(separator: " ")
                        let n = Int(parts[0]) ?? -1
                        switch parts[1] {
                        case "bytes": XCTAssertEqual(ours, n, "\(name): conv,\(proto) \(r.a) <-> \(r.b) \(key)", file: file, line: line)
                        default:
                            let unit = parts[1] == "kB" ? 1000.0 : parts[1] == "MB" ? 1e6 : 1e9
                            XCTAssertLessThanOrEqual(abs(Double(ours) / unit - Double(n)), 1.0,
                                                     "\(name): conv,\(proto) \(key) \(ours) vs \(printed)", file: file, line: line)
                        }
                    }
                }
            }
        }

        // Checksums: tshark's Good (1), Bad (0: ours bad + offload), Unverified (2), Not present (3).
        func statusCounts(_ values: [Int?]) -> [Int: Int] {
            var m = [Int: Int]()
            for v in values.compactMap({ $0 }) { m[v, default: 0] += 1 }
            return m
        }
        for (layer, values) in [("ipv4", frames.filter { !$0.v6 }.map(\.ipStatus)),
                                ("tcp", tcpFrames.map(\.tcpStatus)),
                                ("udp", frames.filter(\.isUDP).map(\.udpStatus))] {
            let t = statusCounts(values), ours = j.checksums(layer)
            agreed.checksummed += values.compactMap { $0 }.count
            XCTAssertEqual(ours["good"], t[1] ?? 0, "\(name): \(layer) checksums good", file: file, line: line)
            XCTAssertEqual((ours["bad"] ?? 0) + (ours["offload"] ?? 0), t[0] ?? 0,
                           "\(name): \(layer) checksums bad (+ offload)", file: file, line: line)
            XCTAssertEqual(ours["unverified"], t[2] ?? 0, "\(name): \(layer) checksums unverified", file: file, line: line)
            if layer == "udp" { XCTAssertEqual(ours["none"], t[3] ?? 0, "\(name): udp checksums not present", file: file, line: line) }
        }
        let tsharkBad = Set(frames.filter { $0.ipStatus == 0 || ($0.isTCP && $0.tcpStatus == 0) || ($0.isUDP && $0.udpStatus == 0) }
            .map(\.number))
        XCTAssertTrue(Set(j.badPackets).isSubset(of: tsharkBad), "\(name): bad_packets \(j.badPackets) not all bad for tshark",
                      file: file, line: line)

        // Frames containing each text (in one segment; across segments is analyze's own finding).
        for t in texts {
            let theirs = try Tshark.framesContaining(path, t).subtracting(dups)
            let ours = Set(j.matches.filter { $0["text"] as? String == t && $0["across_segments"] as? Bool == false }
                .compactMap { $0["packet"] as? Int })
            XCTAssertEqual(ours, theirs, "\(name): frames containing \"\(t)\"", file: file, line: line)
            agreed.matches += theirs.count
        }
        print("tshark agreement: \(agreed)")
        return j
    }
}

/// Rewrite a little-endian pcap in big-endian byte order (header and record fields).
func swapPcapByteOrder(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    func swap(_ at: Int, _ n: Int) { b.replaceSubrange(at..<at + n, with: b[at..<at + n].reversed()) }
    guard b.count >= 24 else { return b }
    swap(0, 4); swap(4, 2); swap(6, 2); swap(8, 4); swap(12, 4); swap(16, 4); swap(20, 4)
    var pos = 24
    while pos + 16 <= b.count {
        let incl = Int(bytes[pos + 8]) | Int(bytes[pos + 9]) << 8 | Int(bytes[pos + 10]) << 16 | Int(bytes[pos + 11]) << 24
        for k in 0..<4 { swap(pos + 4 * k, 4) }
        pos += 16 + incl
    }
    return b
}
