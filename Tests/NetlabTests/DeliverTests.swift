// injector --deliver against the real echo server across two namespaces, when
// the path misbehaves: segments lost on the way in (retransmission must repair
// it), a SYN-ACK whose MSS option says 0, and an --interface that does not exist.
import Foundation
import Netlab
import XCTest

final class DeliverTests: XCTestCase {
    var injector: String { TestSupport.product("injector") }

    /// Two namespaces, the echo server in one, the client side's resets suppressed; `serverRules`
    /// are nftables rules for the server namespace. Returns the injector's result and the server's output.
    func deliver(serverRules: [[String]], extra: [String] = [])
        throws -> (status: Int32, json: [String: Any], output: String, text: String) {
        try TestSupport.requireRoot("network namespaces, raw sockets and capture")
        _ = try TestSupport.requireTool("nft")
        let net = try LabNet(tag: Int32.random(in: 1...9))
        defer { try? net.destroy() }
        let dir = try TestSupport.tempDir()
        for rule in [["add", "table", "ip", "t"],
                     ["add", "chain", "ip", "t", "out", "{ type filter hook output priority 0; }"],
                     ["add", "rule", "ip", "t", "out", "tcp", "sport", "40002", "tcp", "flags", "rst", "drop"]] {
            XCTAssertEqual(try Proc.run(["nft"] + rule, netns: net.clientNamespace).status, 0)
        }
        if !serverRules.isEmpty {
            for rule in [["add", "table", "ip", "s"],
                         ["add", "chain", "ip", "s", "in", "{ type filter hook input priority 0; }"],
                         ["add", "chain", "ip", "s", "out", "{ type filter hook output priority 0; }"]] + serverRules {
                let r = try Proc.run(["nft"] + rule, netns: net.serverNamespace)
                XCTAssertEqual(r.status, 0, "nft \(rule): \(r.output)")
            }
        }
        let log = dir + "/server.log"
        let server = try Proc.spawn([TestSupport.product("echoserver"), "--host", net.serverIP, "--port", "12345",
                                     "--output", dir + "/out.txt"], netns: net.serverNamespace, log: log)
        defer { Proc.stop(server) }
        let end = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("listening") ?? false) && Date() < end {
            usleep(20_000)
        }
        let r = try Proc.run([injector, TestSupport.sampleCSV, "--deliver", "--src-ip", net.clientIP, "--dst-ip",
                              net.serverIP, "--dst-port", "12345", "--src-port", "40002", "--expect-lines", "12",
                              "--format", "json"] + extra, netns: net.clientNamespace, timeout: 120)
        let jsonStart = r.output.firstIndex(of: "{") ?? r.output.startIndex
        let json = (try? JSONSerialization.jsonObject(with: Data(r.output[jsonStart...].utf8))) as? [String: Any] ?? [:]
        usleep(200_000)
        return (r.status, (json["deliver"] as? [String: Any]) ?? [:],
                (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? "", r.output)
    }

    func expectedOutput() throws -> String {
        let ms = try MessageSet(path: TestSupport.sampleCSV)
        let lines = (0..<ms.count).flatMap { ms[$0].text.split(separator: "\n", omittingEmptySubsequences: false) }
        return lines.map { String(decoding: EchoServer.transform(Array($0.utf8)), as: UTF8.self) + "\n" }.joined()
    }

    func testLostSegmentsAreRetransmittedAndEverythingArrives() throws {
        // Every third data segment toward the server is lost on arrival.
        let (status, d, out, _) = try deliver(serverRules: [
            ["add", "rule", "ip", "s", "in", "tcp", "dport", "12345", "tcp", "flags", "&", "psh", "!=", "0",
             "numgen", "inc", "mod", "3", "==", "0", "drop"],
        ])
        XCTAssertEqual(status, 0, "\(d)")
        XCTAssertGreaterThan(d["retransmissions"] as? Int ?? 0, 0, "losses were repaired by retransmission")
        XCTAssertTrue((d["events"] as? [String] ?? []).contains { $0.contains("retransmitted message") })
        XCTAssertEqual(out, try expectedOutput(), "every line arrived once, in order")
        XCTAssertEqual(d["closed"] as? Bool, true)
    }

    func testSynAckWithMSSZeroFallsBackToTheDefault() throws {
        let (status, d, out, _) = try deliver(serverRules: [
            ["add", "rule", "ip", "s", "out", "tcp", "sport", "12345", "tcp", "flags", "&", "(syn|ack)", "==",
             "(syn|ack)", "tcp", "option", "maxseg", "size", "set", "0"],
        ])
        XCTAssertEqual(status, 0, "\(d)")
        let events = d["events"] as? [String] ?? []
        XCTAssertTrue(events.contains { $0.contains("MSS 536") }, "\(events)")
        XCTAssertTrue(events.contains { $0.contains("cut at the MSS") }, "the long message is cut at 536 bytes")
        XCTAssertEqual(out, try expectedOutput())
    }

    func testInterfaceOptionIsHonoured() throws {
        let (status, _, _, text) = try deliver(serverRules: [], extra: ["--interface", "nosuch0"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(text.contains("no interface 'nosuch0'"), text)
    }
}
