// netlab prove's calls that carry more than bytes, on scripts this project writes: -D definitions
// (packetdrill's command line), recvmsg's control messages (TCP_CM_INQ, MSG_ZEROCOPY's and
// SO_TIMESTAMPING's error-queue notifications, SCM_TIMESTAMPING's time), pipe/splice and
// open/sendfile, --mtu (the MSS the kernel announces) and the TS val rule. Each script holds on
// this kernel and a copy with one expected field changed fails naming that line and field; the
// values expected are the kernel's documented ones (Documentation/networking/msg_zerocopy.rst,
// timestamping.rst, tcp(7) TCP_INQ), tshark reads the capture for the MSS.
import Foundation
import XCTest

final class ProveMsgTests: XCTestCase, ProveScriptTests {
    /// Passive open shared by the scripts (tcp_rmem fixed so the window scale is 7 everywhere).
    static let open = """
        0   `sysctl -q net.ipv4.tcp_rmem="4096 131072 6291456"`
        +0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0  bind(3, ..., ...) = 0
        +0  listen(3, 1) = 0
        +0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
        +0  > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
        +.1 < . 1:1(0) ack 1 win 257
        +0  accept(3, ..., ...) = 4

        """

    /// Two MSG_ZEROCOPY sends, each acknowledged: the error queue says the range 0..0 then 1..1
    /// (ee_info..ee_data), copied (loopback-like devices copy: SO_EE_CODE_ZEROCOPY_COPIED). The
    /// level and type come from -D, as packetdrill's run_all.py gives them per address family.
    static let zerocopy = open.replacingOccurrences(of: "+0  bind(", with: """
        +0  setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0
        +0  bind(
        """) + """
        +0  send(4, ..., 2000, MSG_ZEROCOPY) = 2000
        +0  > P. 1:2001(2000) ack 1
        +.05 < . 1:1(0) ack 2001 win 257
        +0  recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 0}], msg_flags=MSG_ERRQUEUE,
                        msg_control=[{cmsg_level=MY_LEVEL, cmsg_type=MY_TYPE,
                                      cmsg_data={ee_errno=0, ee_origin=SO_EE_ORIGIN_ZEROCOPY, ee_type=0,
                                                 ee_code=SO_EE_CODE_ZEROCOPY_COPIED, ee_info=0, ee_data=0}}]},
                    MSG_ERRQUEUE) = 0
        +0  send(4, ..., 500, MSG_ZEROCOPY) = 500
        +0  > P. 2001:2501(500) ack 1
        +.05 < . 1:1(0) ack 2501 win 257
        +0  recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 0}], msg_flags=MSG_ERRQUEUE,
                        msg_control=[{cmsg_level=MY_LEVEL, cmsg_type=MY_TYPE,
                                      cmsg_data={ee_errno=0, ee_origin=SO_EE_ORIGIN_ZEROCOPY, ee_type=0,
                                                 ee_code=SO_EE_CODE_ZEROCOPY_COPIED, ee_info=1, ee_data=1}}]},
                    MSG_ERRQUEUE) = 0
        +0  recvmsg(4, {msg_iov(1)=[{..., 0}], msg_flags=0, msg_control=[]}, MSG_ERRQUEUE) = -1 EAGAIN (nothing more)

        """

    func prove(_ args: [String], _ dir: String) throws -> (status: Int32, stdout: String) {
        let r = try TestSupport.run(netlab, ["prove", "--out", dir + "/out"] + args)
        return (r.status, r.stdout + r.stderr)
    }

    func assertHolds(_ args: [String], _ dir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try prove(args, dir)
        XCTAssertEqual(r.status, 0, r.stdout, file: file, line: line)
    }

    /// Expect a failure at line naming the field.
    func assertFails(_ r: (status: Int32, stdout: String), _ script: String, line: Int, field: String,
                     file: StaticString = #filePath, fileLine: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stdout, file: file, line: fileLine)
        XCTAssertTrue(r.stdout.contains("FAILED \(script):\(line):"), r.stdout, file: file, line: fileLine)
        XCTAssertTrue(r.stdout.contains("field \(field)"), "want field \(field): " + r.stdout, file: file, line: fileLine)
    }

    static func replacingFirst(_ text: String, _ from: String, _ to: String) -> String {
        guard let r = text.range(of: from) else { return text }
        return text.replacingCharacters(in: r, with: to)
    }

    static let defs = ["-D", "MY_LEVEL=SOL_IP", "-D", "MY_TYPE=IP_RECVERR"]

    func testZerocopyNotificationsWithDefinitions() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let s = try write(Self.zerocopy, "zc.pkt", in: dir)
        try assertHolds(Self.defs + [s], dir)
        // Without the definitions the words are unknown: a syntax error naming the line, exit 65.
        let u = try prove([s], dir)
        XCTAssertEqual(u.status, 65, u.stdout)
        XCTAssertTrue(u.stdout.contains("zc.pkt:15:"), u.stdout)
        XCTAssertTrue(u.stdout.contains("MY_LEVEL"), u.stdout)
        // A definition that is a number reads as that number (IPPROTO_IP is 0, IP_RECVERR 11).
        XCTAssertEqual(try prove(["-D", "MY_LEVEL=0", "-D", "MY_TYPE=0xb", s], dir).status, 0)
        // The IPv6 level is another control message level: fails at the first recvmsg, naming it.
        assertFails(try prove(["-D", "MY_LEVEL=SOL_IPV6", "-D", "MY_TYPE=IP_RECVERR", s], dir), s, line: 14,
                    field: "cmsg 1 level")
        // One field of the notification changed, one copy each.
        let cases: [(String, String, Int, String)] = [
            ("ee_info=1, ee_data=1", "ee_info=1, ee_data=2", 22, "ee_data"),
            ("ee_info=0, ee_data=0", "ee_info=7, ee_data=0", 14, "ee_info"),
            ("ee_origin=SO_EE_ORIGIN_ZEROCOPY", "ee_origin=SO_EE_ORIGIN_LOCAL", 14, "ee_origin"),
            ("msg_flags=MSG_ERRQUEUE", "msg_flags=0", 14, "msg_flags"),
            ("-1 EAGAIN (nothing more)", "0", 27, "result"),
        ]
        for (i, (from, to, line, field)) in cases.enumerated() {
            XCTAssertTrue(Self.zerocopy.contains(from), "case \(i) does not apply")
            let m = try write(Self.replacingFirst(Self.zerocopy, from, to), "zc-m\(i).pkt", in: dir)
            assertFails(try prove(Self.defs + [m], dir), m, line: line, field: field)
        }
    }

    /// TCP_INQ: each recvmsg carries TCP_CM_INQ with the bytes still queued (tcp(7)); after the
    /// peer's FIN with nothing left the kernel counts one (the "fake" byte of the FIN).
    static let inq = open + """
        +0  setsockopt(4, SOL_TCP, TCP_INQ, [1], 4) = 0
        +0  < P. 1:3001(3000) ack 1 win 257
        +0  > . 1:1(0) ack 3001
        +0  recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1200}], msg_flags=0,
                        msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=1800}]}, 0) = 1200
        +0  recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1800}], msg_flags=0,
                        msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=0}]}, 0) = 1800
        +0  < F. 3001:3001(0) ack 1 win 257
        +0~+.3 > . 1:1(0) ack 3002
        +0  recvmsg(4, {msg_iov(1)=[{..., 100}], msg_flags=0,
                        msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=1}]}, 0) = 0

        """

    func testInqControlMessage() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let s = try write(Self.inq, "inq.pkt", in: dir)
        let r = try prove([s], dir)
        XCTAssertEqual(r.status, 0, r.stdout)
        assertFails(try prove([try write(Self.inq.replacingOccurrences(of: "cmsg_data=1800", with: "cmsg_data=1700"),
                                         "inq-m1.pkt", in: dir)], dir), dir + "/inq-m1.pkt", line: 13, field: "cmsg 1 data")
        assertFails(try prove([try write(Self.inq.replacingOccurrences(of: "cmsg_type=TCP_CM_INQ, cmsg_data=1}",
                                                                        with: "cmsg_type=TCP_INFO, cmsg_data=1}"),
                                         "inq-m2.pkt", in: dir)], dir), dir + "/inq-m2.pkt", line: 19, field: "cmsg 1 type")
        // An expected control message the kernel did not give (TCP_INQ off): fewer than the script's.
        assertFails(try prove([try write(Self.inq.replacingOccurrences(of: "TCP_INQ, [1]", with: "TCP_INQ, [0]"),
                                         "inq-m3.pkt", in: dir)], dir), dir + "/inq-m3.pkt", line: 13, field: "cmsg count")
    }

    /// SO_TIMESTAMPING with OPT_ID: the ACK of a 1000-byte write at 0.300 s reports SCM_TSTAMP_ACK for
    /// byte 999 with the time the ACK came (timestamping.rst), compared on the script's clock.
    static let timestamping = open + """
        +0  setsockopt(4, SOL_SOCKET, SO_TIMESTAMPING, [SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE |
                                                        SOF_TIMESTAMPING_OPT_ID], 4) = 0
        0.200 write(4, ..., 1000) = 1000
        +0  > P. 1:1001(1000) ack 1
        0.300 < . 1:1(0) ack 1001 win 257
        +0  recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC,
                        msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING,
                                      cmsg_data={scm_sec=0, scm_nsec=300000000}},
                                     {cmsg_level=SOL_IP, cmsg_type=IP_RECVERR,
                                      cmsg_data={ee_errno=ENOMSG, ee_origin=SO_EE_ORIGIN_TIMESTAMPING, ee_type=0,
                                                 ee_code=0, ee_info=SCM_TSTAMP_ACK, ee_data=999}}]}, MSG_ERRQUEUE) = 0

        """

    /// A zero time is not compared (packetdrill's rule): the notification's fields alone, whatever the
    /// machine's load did to the time.
    static let untimed = timestamping.replacingOccurrences(of: "scm_nsec=300000000", with: "scm_nsec=0")

    func testTimestampingTimeAndNotification() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let s = try write(Self.timestamping, "ts.pkt", in: dir)
        let r = try prove([s], dir)
        XCTAssertEqual(r.status, 0, r.stdout)
        try assertHolds([try write(Self.untimed, "ts-untimed.pkt", in: dir)], dir)
        assertFails(try prove([try write(Self.timestamping.replacingOccurrences(of: "scm_nsec=300000000",
                                                                                with: "scm_nsec=400000000"),
                                         "ts-m1.pkt", in: dir)], dir), dir + "/ts-m1.pkt", line: 15, field: "scm_timestamping")
        assertFails(try prove([try write(Self.untimed.replacingOccurrences(of: "ee_data=999", with: "ee_data=1000"),
                                         "ts-m2.pkt", in: dir)], dir), dir + "/ts-m2.pkt", line: 15, field: "ee_data")
        assertFails(try prove([try write(Self.untimed.replacingOccurrences(of: "SCM_TSTAMP_ACK", with: "SCM_TSTAMP_SND"),
                                         "ts-m3.pkt", in: dir)], dir), dir + "/ts-m3.pkt", line: 15, field: "ee_info")
    }

    /// pipe + splice moves received bytes into a pipe (read back from its other end); open +
    /// sendfile sends a file's 7 bytes.
    func testPipeSpliceOpenSendfile() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        try Data(count: 7).write(to: URL(fileURLWithPath: dir + "/seven"))
        let text = Self.open + """
            +0  pipe([5, 6]) = 0
            +0  < P. 1:401(400) ack 1 win 257
            +0  > . 1:1(0) ack 401
            +0  splice(4, NULL, 6, NULL, 300, 0) = 300
            +0  read(5, ..., 1000) = 300
            +0  open("\(dir)/seven", O_RDONLY) = 7
            +0  sendfile(4, 7, [0], 100) = 7
            +0  > P. 1:8(7) ack 401

            """
        let s = try write(text, "pipe.pkt", in: dir)
        try assertHolds([s], dir)
        assertFails(try prove([try write(text.replacingOccurrences(of: "300, 0) = 300", with: "300, 0) = 400"),
                                         "pipe-m1.pkt", in: dir)], dir), dir + "/pipe-m1.pkt", line: 13, field: "result")
        assertFails(try prove([try write(text.replacingOccurrences(of: "> P. 1:8(7)", with: "> P. 1:9(8)"),
                                         "pipe-m2.pkt", in: dir)], dir), dir + "/pipe-m2.pkt", line: 17, field: "length")
        assertFails(try prove([try write(text.replacingOccurrences(of: "[0], 100) = 7", with: "[0], 100) = 100"),
                                         "pipe-m3.pkt", in: dir)], dir), dir + "/pipe-m3.pkt", line: 16, field: "result")
    }

    /// --mtu 1400: the kernel announces MSS 1360 (MTU less 40 bytes of IPv4 and TCP headers), tshark
    /// reads it from the capture; the same script without --mtu fails on that option (1460).
    func testMtuSetsTheAnnouncedMSS() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let s = try write(Self.open.replacingOccurrences(of: "<mss 1460,", with: "<mss 1360,"), "mtu.pkt", in: dir)
        let r = try prove(["--mtu", "1400", s], dir)
        XCTAssertEqual(r.status, 0, r.stdout)
        let rows = try TestSupport.tsharkFields(dir + "/out/mtu.pcapng", ["tcp.options.mss_val"])
        XCTAssertEqual(rows.count > 1 ? rows[1] : [], ["1360"])
        assertFails(try prove([s], dir), s, line: 7, field: "option 1 (mss)")
        XCTAssertEqual(try prove(["--mtu", "99", s], dir).status, 64)
    }

    /// --ip-version on the command line, as packetdrill's: the IPv4 script runs over IPv6 (tshark sees
    /// 2001:db8::1), where tun0's 1500 bytes give MSS 1440 and fail the SYN-ACK's mss 1460; with
    /// run_all.py's --mtu 1520 the kernel announces 1460 again and the script holds.
    func testIPVersionOnTheCommandLineWithMtu() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let s = try write(Self.open, "v6.pkt", in: dir)
        assertFails(try prove(["--ip-version", "ipv6", s], dir), s, line: 7, field: "option 1 (mss)")
        try assertHolds(["--ip-version", "ipv6", "--mtu", "1520", s], dir)
        let rows = try TestSupport.tsharkFields(dir + "/out/v6.pcapng", ["ipv6.src", "tcp.options.mss_val"])
        XCTAssertEqual(rows.first?.first, "2001:db8::1")
        XCTAssertEqual(rows.count > 1 ? rows[1][1] : "", "1460")
        XCTAssertEqual(try prove(["--ip-version", "ipv5", s], dir).status, 64)
    }

    /// A TS val is checked only when the script says the kernel's tick (--tcp_ts_tick_usecs), as
    /// packetdrill: the kernel's first val is taken as the script's, later ones within tolerance.
    func testTSValCheckedOnlyWithTheTick() throws {
        try TestSupport.requireRoot("a network namespace with a tun device")
        let dir = try TestSupport.tempDir()
        let body = """
            0   `sysctl -q net.ipv4.tcp_rmem="4096 131072 6291456"`
            +0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
            +0  bind(3, ..., ...) = 0
            +0  listen(3, 1) = 0
            +0  < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 50 ecr 0,nop,wscale 7>
            +0  > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 50,nop,wscale 7>
            +.2 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 60 ecr 100>
            +0  accept(3, ..., ...) = 4
            +0  write(4, ..., 10) = 10
            +0  > P. 1:11(10) ack 1 <nop,nop,TS val 900 ecr 60>

            """
        let s = try write(body, "tsval.pkt", in: dir)
        try assertHolds([s], dir)
        let ticked = try write("--tcp_ts_tick_usecs=1000\n" + body, "tsval-tick.pkt", in: dir)
        assertFails(try prove([ticked], dir), ticked, line: 12, field: "option 3 (TS)")
        let right = try write("--tcp_ts_tick_usecs=1000\n" + body.replacingOccurrences(of: "TS val 900", with: "TS val 300"),
                              "tsval-right.pkt", in: dir)
        try assertHolds([right], dir)
    }
}
