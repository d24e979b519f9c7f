// netlab lab --scenario cluster (root): two chat servers in two namespaces and
// Redis in a third, users talking across; the capture checked against tshark
// (-z conv,tcp and per-frame fields) and analyze's roles checked against the
// ports and addresses tshark reports: port 6379 is Redis, the chat port a chat
// server, and the Redis clients are the chat servers' own addresses.
import Foundation
import XCTest

final class LabClusterTests: XCTestCase {
    func testClusterScenarioTellsClientServerFromServerRedis() throws {
        try TestSupport.requireRoot("network namespaces and capture")
        let netlab = TestSupport.product("netlab")
        let dir = try TestSupport.tempDir() + "/out"
        let chatPort = 7011
        let r = try TestSupport.run(netlab, ["lab", "--scenario", "cluster", "--out", dir, "--chat-port", String(chatPort)])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        // Every namespace it made is gone.
        // (its own: other labs may run at the same time)
        XCTAssertGreaterThanOrEqual(TestSupport.namespacesNamed(in: r.stdout).count, 2, r.stdout)
        XCTAssertEqual(try TestSupport.existingNamespaces(TestSupport.namespacesNamed(in: r.stdout)), [])

        let pcap = dir + "/cluster.pcap"
        let j = try assertAgreesWithTshark(pcap)
        let rows = try Tshark.conversations(pcap, proto: "tcp", excluding: [])
        XCTAssertGreaterThanOrEqual(rows.count, 5, "3 users and at least one Redis connection per server")
        // The chat servers' addresses, from tshark's endpoints on the chat port.
        func port(_ ep: String) -> Int { Int(ep.split(separator: ":").last ?? "") ?? -1 }
        func addr(_ ep: String) -> String { String(ep[..<ep.lastIndex(of: ":")!]) }
        var chatServers = Set<String>()
        for row in rows {
            if port(row.a) == chatPort { chatServers.insert(addr(row.a)) }
            if port(row.b) == chatPort { chatServers.insert(addr(row.b)) }
        }
        XCTAssertEqual(chatServers.count, 2, "two chat servers: \(chatServers)")
        var users = 0, toRedis = 0
        for row in rows {
            let ends = Set([row.a, row.b])
            guard let c = j.conversations.first(where: { Set([$0["client"] as? String ?? "", $0["server"] as? String ?? ""]) == ends })
            else { XCTFail("analyze has no conversation \(ends)"); continue }
            let server = c["server"] as? String ?? "", client = c["client"] as? String ?? ""
            if port(row.a) == 6379 || port(row.b) == 6379 {
                XCTAssertEqual(port(server), 6379, "\(ends): Redis is the server")
                XCTAssertTrue(chatServers.contains(addr(client)), "\(ends): a chat server is Redis's client")
                XCTAssertEqual(c["app"] as? String, "redis", "\(ends)")
                XCTAssertEqual(c["app_basis"] as? String, "payload", "\(ends): told by the RESP bytes")
                XCTAssertEqual(c["role"] as? String, "chat server <-> Redis", "\(ends)")
                toRedis += 1
            } else {
                XCTAssertEqual(port(server), chatPort, "\(ends): a chat server is the server")
                XCTAssertEqual(c["app"] as? String, "chat", "\(ends)")
                XCTAssertEqual(c["role"] as? String, "client <-> chat server", "\(ends)")
                users += 1
            }
        }
        XCTAssertEqual(users, 3)
        XCTAssertGreaterThanOrEqual(toRedis, 2)
        // Frames tshark sees carrying RESP PUBLISH commands (cross-server messages) all lie in
        // server <-> Redis conversations: the relay really went through Redis.
        let publish = try TestSupport.tsharkFields(pcap, ["tcp.dstport"], filter: "tcp.payload contains \"PUBLISH\"")
        XCTAssertFalse(publish.isEmpty, "no PUBLISH seen")
        XCTAssertTrue(publish.allSatisfy { $0.first == "6379" }, "\(publish)")
        // The text report answers the question too.
        let text = try TestSupport.run(TestSupport.product("analyze"), [pcap])
        XCTAssertTrue(text.stdout.contains("client <-> chat server  3 conversations"), text.stdout)
        XCTAssertTrue(text.stdout.contains("chat server <-> Redis   \(toRedis) conversations"), text.stdout)
    }
}
