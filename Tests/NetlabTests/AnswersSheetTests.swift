// The answer sheet's harder questions (issue 18 items 1-3 and its bad input, issue 20
// item 11), each checked against tshark's reading of the same file: the interface
// answered from what the file proves (a cooked header's ARPHRD type and ifindex, a
// pcapng interface block's name) on captures made by tcpdump, dumpcap and tshark on
// `any` and on a named veth, over loopback and across a veth pair; a message spanning
// segments is one answer, lines sharing a segment are each paired; a reply is paired
// only when it is one; a capture that cannot answer says so.
import Foundation
import Netlab
import XCTest

extension AnswersTests {
    /// tshark's fields of one stream's frames (tab-separated, one row per frame).
    func tsharkRows(_ file: String, stream: Int, _ fields: [String]) throws -> [[String]] {
        let out = try Tshark.run(["-r", file, "-Y", "tcp.stream == \(stream)", "-T", "fields", "-E", "separator=/t"]
                                 + fields.flatMap { ["-e", $0] })
        return out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    func answersText(_ file: String, _ extra: [String] = []) throws -> String {
        let r = try Lab.run(Lab.product("analyze"), [file, "--answers"] + extra)
        return r.text
    }

    // ---- item 1: the interface ----

    func testInterfaceKindIndexAndNameAsTsharkReadsThemOnLoopbackAndAcrossAVethPair() throws {
        Lab.requireTools(["ip", "tshark", "tcpdump", "dumpcap"])
        let v = try VethPair()
        defer { v.remove() }
        try "Hello World\nthird\n".write(toFile: path("in.txt"), atomically: true, encoding: .utf8)
        let server = try Lab.Background("ip", ["netns", "exec", v.s, Lab.product("echoserver"), "--port", "\(port)", "--no-output"],
                                        label: "echoserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        let filter = "tcp port \(port)"
        let tools: [(String, String, [String], String)] = [
            ("tcpdump", "tcpdump-any.pcap", ["-U", "-n", "--immediate-mode", "-i", "any", "-w", path("tcpdump-any.pcap"), filter], "listening on"),
            ("dumpcap", "dumpcap-any.pcapng", ["-i", "any", "-f", filter, "-w", path("dumpcap-any.pcapng")], "Capturing on"),
            ("tshark", "tshark-any.pcapng", ["-i", "any", "-f", filter, "-w", path("tshark-any.pcapng")], "Capturing on"),
            ("dumpcap", "dumpcap-vs.pcapng", ["-i", "vs", "-f", filter, "-w", path("dumpcap-vs.pcapng")], "Capturing on"),
        ]
        let caps = try tools.map { t in
            try Lab.Background("ip", ["netns", "exec", v.s, t.0] + t.2, label: t.1, dir: dir)
        }
        for (c, t) in zip(caps, tools) { try c.waitFor(t.3) }
        usleep(300_000)
        // Conversation 1 on the server's loopback, conversation 2 from the other namespace across the veth pair.
        for (ns, host) in [(v.s, "127.0.0.1"), (v.c, "10.77.0.1")] {
            let r = try Lab.run("ip", ["netns", "exec", ns, Lab.product("echoclient"), "--host", host, "--port", "\(port)",
                                       "--input", path("in.txt")])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        usleep(400_000)
        for c in caps { c.stop() }

        for (_, file, _, _) in tools {
            let convs = try answersOf(path(file))
            let named = file == "dumpcap-vs.pcapng"
            XCTAssertEqual(convs.count, named ? 1 : 2, file)
            let text = try answersText(path(file))
            for (k, a) in convs.enumerated() {
                let rows = try tsharkRows(path(file), stream: k, ["sll.ifindex", "sll.hatype", "frame.interface_name"])
                let ifs = try XCTUnwrap(a["interfaces"] as? [[String: Any]])
                XCTAssertEqual(ifs.count, 1, "\(file) stream \(k): one interface")
                let i = try XCTUnwrap(ifs.first)
                let tIndex = Set(rows.map { $0[0] }), tHatype = Set(rows.map { $0[1] }), tName = Set(rows.map { $0[2] })
                XCTAssertEqual(tIndex.count, 1); XCTAssertEqual(tHatype.count, 1); XCTAssertEqual(tName.count, 1)
                let ifindex = Int(tIndex.first!), hatype = Int(tHatype.first!), fileName = tName.first!
                let across = !named && k == 1 || named
                if let ifindex {
                    XCTAssertEqual(i["index_of"] as? String, "ifindex", file)
                    XCTAssertEqual(i["index"] as? Int, ifindex, "\(file): sll.ifindex")
                    XCTAssertTrue((i["how"] as! String).contains("ifindex \(ifindex)"), "\(i)")
                } else {
                    XCTAssertEqual(i["index_of"] as? String, "file interface", file)
                }
                if let hatype {
                    XCTAssertEqual(i["hatype"] as? Int, hatype, "\(file): sll.hatype")
                    XCTAssertEqual(hatype, across ? 1 : 772)
                    XCTAssertTrue((i["how"] as! String).contains(across ? "ARPHRD_ETHER (1)" : "ARPHRD_LOOPBACK (772)"), "\(i)")
                } else {
                    XCTAssertTrue(i["hatype"] is NSNull, file)
                }
                XCTAssertEqual(i["kind"] as? String, across ? "Ethernet" : "loopback", "\(file) stream \(k)")
                XCTAssertEqual(i["loopback"] as? Bool, !across)
                // The name: the pcapng block's when the capture was on that interface; lo for loopback; else none.
                if fileName.isEmpty { XCTAssertTrue(i["capture_name"] is NSNull) } else { XCTAssertEqual(i["capture_name"] as? String, fileName) }
                let expected: String? = named ? "vs" : across ? nil : "lo"
                XCTAssertEqual(i["name"] as? String, expected, "\(file) stream \(k): \(i)")
                if expected == nil { XCTAssertTrue(i["name"] is NSNull) }
                if named { XCTAssertEqual(fileName, "vs", "tshark's frame.interface_name") }
                // The text sheet says the same.
                let words = expected.map { "\($0), the \(across ? "Ethernet" : "loopback") interface" }
                    ?? "an Ethernet interface\(ifindex.map { ", ifindex \($0)" } ?? "")"
                XCTAssertTrue(text.contains("interface         " + words), "\(file): '\(words)' in\n\(text)")
            }
        }
    }

    /// Every other link type analyze reads gets its kind named, as tshark's encapsulation says it.
    func testEveryLinkTypeGetsItsKindNamed() throws {
        let seg = Pkt.tcp4(sport: 40000, dport: 7007, seq: 1, flags: 0x02)
        let cases: [(Int, [UInt8], String, String)] = [
            (0, Pkt.null(seg, family: 2), "loopback", "null"),
            (101, seg, "raw IP (no link header)", "raw"),
            (1, Pkt.ether(seg, zeroMACs: true), "loopback", "eth"),
            (1, Pkt.ether(seg), "Ethernet", "eth"),
            (113, Pkt.sll(seg, hatype: 65534), "tunnel without a link header (tun, WireGuard)", "sll"),
            (276, Pkt.sll2(seg, ifindex: 5, hatype: 776), "IPv6-in-IPv4 (sit) tunnel", "sll"),
        ]
        for (k, (lt, frame, kind, proto)) in cases.enumerated() {
            let f = path("lt\(k).pcap")
            try Data(CaptureBytes.pcap(linkType: lt, frames: [CaptureBytes.Frame(seconds: 1_700_000_000, fraction: 0, data: frame)]))
                .write(to: URL(fileURLWithPath: f))
            let t = try Tshark.run(["-r", f, "-T", "fields", "-e", "frame.protocols", "-e", "sll.hatype"])
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertTrue(t[0].hasPrefix(proto + ":"), "tshark reads \(t[0]) for link type \(lt)")
            let i = try XCTUnwrap((try answersOf(f).first?["interfaces"] as? [[String: Any]])?.first, f)
            XCTAssertEqual(i["kind"] as? String, kind, "link type \(lt)")
            XCTAssertEqual(i["linktype"] as? Int, lt)
            if t.count > 1, let h = Int(t[1]) { XCTAssertEqual(i["hatype"] as? Int, h, "sll.hatype") }
        }
    }

    // ---- item 2: a message in several segments, several lines in one segment ----

    func testAMessageInTwoWritesIsOneAnswerAndLinesSharingASegmentAreEachPaired() throws {
        let script = """
        import socket, sys, time
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("listening", flush=True)
        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sendall(b"Welcome to "); time.sleep(0.2); c.sendall(b"CS 352!\\n")
        buf = b""
        while True:
            d = c.recv(65536)
            if not d: break
            buf += d; out = b""
            while b"\\n" in buf:
                line, buf = buf.split(b"\\n", 1); out += line[::-1].swapcase() + b"\\n"
            if out: c.sendall(out)
        """
        let server = try Lab.Background("/usr/bin/python3", ["-c", script, "\(port)"], label: "server", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try capture("segs.pcap", with: "tcpdump-lo") {
            let c = try LineClient(port: UInt16(port))
            XCTAssertEqual(try c.next(), "Welcome to CS 352!")
            try c.send("split ")
            usleep(200_000)
            try c.send("message\n")
            XCTAssertEqual(try c.next(), "EGASSEM TILPS")
            try c.send("abc\ndef\nGhi\n")
            for want in ["CBA", "FED", "IHg"] { XCTAssertEqual(try c.next(), want) }
            c.close()
        }
        let file = path("segs.pcap")
        let a = try XCTUnwrap(try answersOf(file).first)
        let t = try TsharkAnswers(file, stream: 0)
        let sp = a["server_port"] as! Int
        let server2 = t.segs.filter { $0.len > 0 && $0.sport == sp }, client = t.segs.filter { $0.len > 0 && $0.sport != sp }
        // The greeting: two writes, two segments, 19 bytes in all (tshark's tcp.len of each).
        let g = try XCTUnwrap(a["greeting"] as? [String: Any])
        XCTAssertEqual(g["packet"] as? Int, server2[0].frame)
        XCTAssertEqual(g["last_packet"] as? Int, server2[1].frame)
        XCTAssertEqual(g["segments"] as? Int, 2)
        XCTAssertEqual(g["payload_bytes"] as? Int, server2[0].len + server2[1].len)
        XCTAssertEqual(g["packet_bytes"] as? Int, server2[0].len)
        XCTAssertEqual(g["text"] as? String, "Welcome to CS 352!\n")
        let xs = try XCTUnwrap(a["exchanges"] as? [[String: Any]])
        XCTAssertEqual(xs.count, 4, "one request per line")
        // "split " + "message\n": one request over the client's first two payload frames.
        XCTAssertEqual(xs[0]["request_packet"] as? Int, client[0].frame)
        XCTAssertEqual(xs[0]["request_last_packet"] as? Int, client[1].frame)
        XCTAssertEqual(xs[0]["request_segments"] as? Int, 2)
        XCTAssertEqual(xs[0]["request_bytes"] as? Int, client[0].len + client[1].len)
        XCTAssertEqual(xs[0]["request_text"] as? String, "split message\n")
        XCTAssertEqual(xs[0]["reply_text"] as? String, "EGASSEM TILPS\n")
        // Three lines in one segment: three requests of that frame, each with its echo.
        let shared = client[2]
        XCTAssertEqual(shared.payload, Array("abc\ndef\nGhi\n".utf8), "tshark: one segment holds the three lines")
        let text = try answersText(file)
        for (k, (line, echo)) in zip(["abc\n", "def\n", "Ghi\n"], ["CBA\n", "FED\n", "IHg\n"]).enumerated() {
            let x = xs[k + 1]
            XCTAssertEqual(x["request_packet"] as? Int, shared.frame)
            XCTAssertEqual(x["request_text"] as? String, line)
            XCTAssertEqual(x["request_bytes"] as? Int, 4)
            XCTAssertEqual(x["request_line"] as? Int, k + 1)
            XCTAssertEqual(x["request_lines"] as? Int, 3)
            XCTAssertEqual(x["request_packet_bytes"] as? Int, shared.len, "the packet's own tcp.len")
            XCTAssertEqual(x["reply_text"] as? String, echo)
            XCTAssertEqual(x["reply_match"] as? String, "echo (reversed, case swapped)")
            let rep = try XCTUnwrap(t.seg(x["reply_packet"] as! Int))
            XCTAssertEqual(rep.sport, sp)
            XCTAssertTrue(rep.payload.starts(with: Array(echo.utf8)) || String(decoding: rep.payload, as: UTF8.self).contains(echo))
            XCTAssertEqual(x["reply_packet_bytes"] as? Int, rep.len)
            // The byte count beside a packet is that packet's tcp.len.
            XCTAssertTrue(text.contains("packet \(shared.frame) (line \(k + 1) of 3, 4 B; the packet holds \(shared.len) B)"), text)
        }
        XCTAssertTrue(text.contains("packets \(client[0].frame)-\(client[1].frame) (2 segments, \(client[0].len + client[1].len) B in all)"), text)
        XCTAssertTrue(text.contains("packets \(server2[0].frame)-\(server2[1].frame) (2 segments; packet \(server2[0].frame) holds \(server2[0].len)), 19 bytes"), text)
    }

    // ---- item 3: a reply only when it is one; the client speaking first named ----

    func testTheInjectorsCaptureHasNoEchoAndEachMessageItsOwnBytes() throws {
        let file = path("inj.pcap")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/group01_chat_input.csv").path
        let r = try Lab.run(Lab.product("injector"), [sample, "--write", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try XCTUnwrap(try answersOf(file).first)
        let t = try TsharkAnswers(file, stream: 0)
        let cp = a["client_port"] as! Int
        let xs = try XCTUnwrap(a["exchanges"] as? [[String: Any]])
        XCTAssertFalse(xs.isEmpty)
        for x in xs {
            let first = x["request_packet"] as! Int, last = x["request_last_packet"] as! Int
            let seg = try XCTUnwrap(t.seg(first))
            XCTAssertEqual(seg.sport, cp)
            XCTAssertEqual(x["request_packet_bytes"] as? Int, seg.len, "frame \(first): tcp.len")
            let span = t.segs.filter { $0.sport == cp && $0.frame >= first && $0.frame <= last }.map(\.len).reduce(0, +)
            XCTAssertLessThanOrEqual(x["request_bytes"] as! Int, span, "frame \(first): no more bytes than its frames hold")
            XCTAssertTrue(x["reply_packet"] is NSNull, "no server message of this capture is an echo or a chat reply: \(x)")
            XCTAssertNotNil(x["no_reply"] as? String)
        }
        // Frame 7 holds 22 bytes (two lines: 11 + 11); the 2,024-byte message is cut by the MSS into frames 8 and 9.
        let seven = try XCTUnwrap(t.seg(7))
        XCTAssertEqual(xs.filter { $0["request_packet"] as? Int == 7 }.map { $0["request_bytes"] as! Int }.reduce(0, +), seven.len)
        let big = try XCTUnwrap(xs.first { $0["request_packet"] as? Int == 8 })
        XCTAssertEqual(big["request_last_packet"] as? Int, 9)
        XCTAssertEqual(big["request_bytes"] as? Int, t.seg(8)!.len + t.seg(9)!.len)
        let text = try answersText(file)
        XCTAssertFalse(text.contains("1983 B") || text.contains("1983 bytes"), text)
        XCTAssertFalse(text.contains("\", echo (reversed"), "no line is paired as an echo: \(text)")
        XCTAssertTrue(text.contains("no reply: the server's next line is not its echo"), text)
    }

    func testAClientThatSpeaksFirstIsNamed() throws {
        let server = try Lab.Background(Lab.product("echoserver"), ["--host", "127.0.0.1", "--port", "\(port)",
                                                                    "--no-output", "--greeting", ""],
                                        label: "echoserver", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        try capture("first.pcap", with: "tcpdump-lo") {
            let c = try LineClient(port: UInt16(port))
            try c.send("first\n")
            XCTAssertEqual(try c.next(), "TSRIF")
            c.close()
        }
        let a = try XCTUnwrap(try answersOf(path("first.pcap")).first)
        let t = try TsharkAnswers(path("first.pcap"), stream: 0)
        let firstClient = try XCTUnwrap(t.segs.first { $0.len > 0 && $0.sport == a["client_port"] as! Int })
        XCTAssertTrue(a["greeting"] is NSNull)
        let why = try XCTUnwrap(a["no_greeting"] as? String)
        XCTAssertTrue(why.hasPrefix("the client spoke first, in packet \(firstClient.frame)"), why)
        XCTAssertEqual(a["client_first_packet"] as? Int, firstClient.frame)
        let text = try answersText(path("first.pcap"))
        XCTAssertTrue(text.contains("greeting          none: the client spoke first, in packet \(firstClient.frame)"), text)
    }

    // ---- bad input: what cannot be answered, and why ----

    func testCapturesThatCannotAnswerSaySoAndWhy() throws {
        func frame(_ b: [UInt8], _ k: Int) -> CaptureBytes.Frame { CaptureBytes.Frame(seconds: 1_700_000_000 + k, fraction: 0, data: b) }
        let c: [UInt8] = [10, 0, 0, 2], s: [UInt8] = [10, 0, 0, 1]
        // No TCP: two UDP datagrams.
        let udp = (0..<2).map { frame(Pkt.ether(Pkt.udp4(src: c, dst: s, sport: 5000, dport: 53, payload: Array("q".utf8))), $0) }
        try Data(CaptureBytes.pcap(linkType: 1, frames: udp)).write(to: URL(fileURLWithPath: path("udp.pcap")))
        // One direction: the client's SYN and two lines, nothing from the server.
        let oneWay = [Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 100, flags: 0x02),
                      Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 101, ack: 1, flags: 0x18, payload: Array("hi\n".utf8), id: 2),
                      Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 104, ack: 1, flags: 0x18, payload: Array("yo\n".utf8), id: 3)]
            .enumerated().map { frame(Pkt.ether($0.element), $0.offset) }
        try Data(CaptureBytes.pcap(linkType: 1, frames: oneWay)).write(to: URL(fileURLWithPath: path("oneway.pcap")))
        // Cut mid-packet: the same file without its last 5 bytes.
        let whole = CaptureBytes.pcap(linkType: 1, frames: oneWay)
        try Data(whole.dropLast(5)).write(to: URL(fileURLWithPath: path("cut.pcap")))
        // An unknown link type (147, USER0).
        try Data(CaptureBytes.pcap(linkType: 147, frames: [frame(oneWay[0].data, 0)]))
            .write(to: URL(fileURLWithPath: path("user0.pcap")))

        func sheet(_ f: String) throws -> [String: Any] {
            let r = try Lab.run(Lab.product("analyze"), [path(f), "--answers", "--json"])
            return try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.stderr)
        }
        // tshark: no TCP in udp.pcap.
        XCTAssertEqual(try Tshark.run(["-r", path("udp.pcap"), "-Y", "tcp"]).trimmingCharacters(in: .whitespacesAndNewlines), "")
        let u = try sheet("udp.pcap")
        XCTAssertTrue((u["cannot"] as? String ?? "").hasPrefix("no TCP conversation in 2 packets (2 UDP"), "\(u)")
        XCTAssertTrue(try answersText(path("udp.pcap")).contains("cannot      no TCP conversation"))

        // tshark: every frame of oneway.pcap comes from the client's port.
        let ports = try Tshark.run(["-r", path("oneway.pcap"), "-T", "fields", "-e", "tcp.srcport"]).split(separator: "\n")
        XCTAssertEqual(Set(ports), ["40000"])
        let o = try XCTUnwrap(conversations(try sheet("oneway.pcap")).first)
        XCTAssertTrue((o["cannot"] as? String ?? "").hasPrefix("only one direction was captured: no packet from the server"), "\(o)")
        XCTAssertEqual(o["no_greeting"] as? String, "no packet from the server was captured")
        for x in o["exchanges"] as! [[String: Any]] {
            XCTAssertTrue(x["reply_packet"] is NSNull)
            XCTAssertEqual(x["no_reply"] as? String, "no packet from the server was captured")
        }

        // tshark reads two frames of cut.pcap, then says the file is cut short in the middle of a packet.
        let tc = try Lab.run("tshark", ["-n", "-r", path("cut.pcap")])
        XCTAssertTrue(tc.stderr.contains("cut short in the middle of a packet"), tc.stderr)
        XCTAssertEqual(tc.text.split(separator: "\n").count, 2)
        let cut = try sheet("cut.pcap")
        XCTAssertEqual(cut["packets"] as? Int, 2)
        XCTAssertTrue((cut["cannot"] as? String ?? "").contains("the file is damaged or cut short"), "\(cut)")

        // tshark decodes no IP in user0.pcap (a user link type).
        XCTAssertEqual(try Tshark.run(["-r", path("user0.pcap"), "-Y", "ip"]).trimmingCharacters(in: .whitespacesAndNewlines), "")
        let u0 = try sheet("user0.pcap")
        XCTAssertTrue((u0["cannot"] as? String ?? "").hasPrefix("link type 147"), "\(u0)")
        XCTAssertEqual((u0["conversations"] as? [Any])?.count, 0)
    }

    // ---- issue 20 item 11: --max-listed bounds the sheet ----

    func testAnswersHonourMaxListed() throws {
        var frames: [CaptureBytes.Frame] = []
        for k in 0..<30 {
            let c: [UInt8] = [10, 0, 1, UInt8(k + 1)], s: [UInt8] = [10, 0, 0, 1]
            for (n, p) in [Pkt.tcp4(src: c, dst: s, sport: 40000 + k, dport: 7007, seq: 1, flags: 0x02),
                           Pkt.tcp4(src: s, dst: c, sport: 7007, dport: 40000 + k, seq: 9, ack: 2, flags: 0x12),
                           Pkt.tcp4(src: c, dst: s, sport: 40000 + k, dport: 7007, seq: 2, ack: 10, flags: 0x18,
                                    payload: Array("x\n".utf8), id: 2)].enumerated() {
                frames.append(CaptureBytes.Frame(seconds: 1_700_000_000, fraction: k * 10 + n, data: Pkt.ether(p)))
            }
        }
        try Data(CaptureBytes.pcap(linkType: 1, frames: frames)).write(to: URL(fileURLWithPath: path("many.pcap")))
        let rows = try Tshark.conversations(path("many.pcap"), proto: "tcp", excluding: [])
        XCTAssertEqual(rows.count, 30)
        let r = try Lab.run(Lab.product("analyze"), [path("many.pcap"), "--answers", "--json", "--max-listed", "5"])
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(conversations(j).count, 5)
        XCTAssertEqual(j["conversations_total"] as? Int, rows.count)
        XCTAssertTrue((j["cannot"] as? String ?? "").contains("5 of 30 TCP conversations answered in detail (max listed 5)"), "\(j)")
        let text = try answersText(path("many.pcap"), ["--max-listed", "5"])
        XCTAssertEqual(text.components(separatedBy: "\nconversation ").count - 1, 5)
        XCTAssertTrue(text.hasPrefix("answers     \(path("many.pcap")): 90 packets, 30 TCP conversations"), text)

        // One conversation of ten lines: --max-listed 3 lists three requests and counts all ten.
        let c: [UInt8] = [10, 0, 0, 2], s: [UInt8] = [10, 0, 0, 1]
        var lines = [Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: 1, flags: 0x02)]
        for k in 0..<10 {
            lines.append(Pkt.tcp4(src: c, dst: s, sport: 40000, dport: 7007, seq: UInt32(2 + 3 * k), ack: 1, flags: 0x18,
                                  payload: Array("\(k)x\n".utf8), id: 2 + k))
        }
        try Data(CaptureBytes.pcap(linkType: 1, frames: lines.enumerated().map {
            CaptureBytes.Frame(seconds: 1_700_000_000, fraction: $0.offset, data: Pkt.ether($0.element)) }))
            .write(to: URL(fileURLWithPath: path("lines.pcap")))
        let sent = try Tshark.run(["-r", path("lines.pcap"), "-Y", "tcp.len > 0"]).split(separator: "\n").count
        XCTAssertEqual(sent, 10)
        let r2 = try Lab.run(Lab.product("analyze"), [path("lines.pcap"), "--answers", "--json", "--max-listed", "3"])
        let j2 = try XCTUnwrap(JSONSerialization.jsonObject(with: r2.stdout) as? [String: Any])
        let a2 = try XCTUnwrap(conversations(j2).first)
        XCTAssertEqual((a2["exchanges"] as? [Any])?.count, 3)
        XCTAssertEqual(a2["exchange_count"] as? Int, sent)
        XCTAssertTrue((j2["cannot"] as? String ?? "").contains("3 of \(sent) requests listed (max listed 3"), "\(j2)")
    }
}
