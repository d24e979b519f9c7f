// The chat dissector (wireshark/netlab_chat.lua) on a real chat capture: tshark
// with -X lua_script decodes every line (Decode As on a random port), finds the
// MSG commands with their user and text, and reassembles a line split across
// two segments. The oracle for which frames hold what is tshark's own payload.
import Foundation
import XCTest

final class ChatDissectorTests: XCTestCase {
    func testTsharkDecodesTheChatProtocolThroughTheLuaPlugin() throws {
        try Lab.requireRoot("capturing real chat traffic")
        Lab.requireTools(["tshark", "tcpdump"])
        let dir = Lab.tempDir("dissector")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = dir.appendingPathComponent("chat.pcap").path
        let port = Lab.randomPortBase() + 9
        let server = try Lab.Background(Lab.product("chatserver"), ["--host", "127.0.0.1", "--port", "\(port)"], label: "chat", dir: dir)
        defer { server.stop(SIGTERM) }
        try server.waitFor("listening")
        let cap = try Lab.Background("tcpdump", ["-U", "-n", "--immediate-mode", "-i", "lo", "-w", pcap, "tcp port \(port)"],
                                     label: "tcpdump", dir: dir)
        try cap.waitFor("listening on")
        usleep(200_000)
        do {
            let alice = try LineClient(port: UInt16(port)), bob = try LineClient(port: UInt16(port))
            try alice.register("alice"); try bob.register("bob")
            try alice.send("CHAT bob\n"); _ = try alice.next(); _ = try bob.waitFor("REQUEST alice")
            try bob.send("ACCEPT alice\n"); _ = try bob.next(); _ = try alice.waitFor("ACCEPTED bob")
            try alice.send("MSG bob Welcome, Bob!\n")
            XCTAssertEqual(try bob.next(), "FROM alice Welcome, Bob!")
            // One line in two segments: the dissector asks TCP for the rest.
            try bob.send("MSG alice split ")
            usleep(300_000)
            try bob.send("line\n")
            XCTAssertEqual(try alice.next(), "FROM bob split line")
            try alice.send("QUIT\n"); _ = try alice.next()
            try bob.send("QUIT\n"); _ = try bob.next()
        }
        usleep(300_000)
        cap.stop()

        let lua = Lab.repoRoot.appendingPathComponent("wireshark/netlab_chat.lua").path
        func decode(_ filter: String, _ fields: [String]) throws -> [[String]] {
            try Tshark.run(["-X", "lua_script:" + lua, "-d", "tcp.port==\(port),netlabchat", "-r", pcap, "-Y", filter,
                            "-T", "fields", "-E", "separator=/t"] + fields.flatMap { ["-e", $0] })
                .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        let msgs = try decode("netlabchat.verb == \"MSG\"", ["frame.number", "netlabchat.user", "netlabchat.text", "netlabchat.kind"])
        XCTAssertEqual(msgs.map { Array($0.dropFirst()) }, [["bob", "Welcome, Bob!", "command"], ["alice", "split line", "command"]])
        // Without the plugin: the frames whose payload holds "MSG bob" and the end of the split line.
        let plain = try Tshark.run(["-r", pcap, "-Y", "tcp.dstport == \(port) && (tcp.payload contains \"MSG bob\" || tcp.payload contains \"line\\n\")",
                                    "-T", "fields", "-e", "frame.number"]).split(separator: "\n").compactMap { Int($0) }
        XCTAssertEqual(msgs.map { Int($0[0]) }, plain.map { Optional($0) }, "the MSG lines are where tshark finds their bytes")
        // Events name the user who caused them; every registered name is decoded.
        let from = try decode("netlabchat.verb == \"FROM\"", ["netlabchat.user", "netlabchat.kind"])
        XCTAssertEqual(from.map { $0[0] }, ["alice", "bob"])
        XCTAssertTrue(from.allSatisfy { $0[1] == "event" })
        let nicks = try decode("netlabchat.verb == \"NICK\"", ["netlabchat.user"]).map { $0[0] }
        XCTAssertEqual(nicks.sorted(), ["alice", "bob"])
        // Every payload frame is decoded by the plugin (the greeting included).
        let payloadFrames = try Tshark.run(["-r", pcap, "-Y", "tcp.len > 0", "-T", "fields", "-e", "frame.number"])
            .split(separator: "\n").count
        let decoded = try decode("netlabchat", ["frame.number"]).count
        XCTAssertEqual(decoded, payloadFrames - 1, "all but the first half of the split line (carried on by the second)")
    }
}
