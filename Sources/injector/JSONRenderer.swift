// --format json: the same content as the text output, for machines. Field names
// are stable and documented in the README.
import Foundation
import Netlab

struct JSONRenderer {
    let plan: Plan

    struct Doc: Encodable {
        let input: String
        let messages: Int
        let conversations: [Conv]
        let packets: [Pkt]
        let checksums_agree: Bool
        let pcap: PcapOut?
        let injected: Injected?
        let inject_note: String?
        let round_trip: RoundTripOut?
    }

    struct RTPacket: Encodable {
        let packet: Int
        let msg_id: String?
        let frame: Int?
        let copies: Int
        let identical: Bool
        let ipv4_checksum_ok: Bool
        let tcp_checksum_ok: Bool
        let intact: Bool
        let difference: String?
    }

    struct RoundTripOut: Encodable {
        let capture: String
        let interface: String
        let link_type: String
        let filter: String
        let captured: Int
        let kernel_resets: Int
        let other: Int
        let kernel_dropped: Int
        let ok: Bool
        let packets: [RTPacket]
    }

    struct Conv: Encodable {
        let id: Int
        let protocol_: String
        let client: String
        let server: String
        let client_app: String
        let server_app: String
        let app_protocol: String
        let client_isn: UInt32
        let server_isn: UInt32
        let messages_c2s: Int
        let messages_s2c: Int
        let payload_bytes_c2s: UInt64
        let payload_bytes_s2c: UInt64
        let packets: Int
        enum CodingKeys: String, CodingKey {
            case id, protocol_ = "protocol", client, server, client_app, server_app, app_protocol, client_isn,
                 server_isn, messages_c2s, messages_s2c, payload_bytes_c2s, payload_bytes_s2c, packets
        }
    }

    struct MsgRef: Encodable {
        let msg_id: String
        let line: Int
        let segment: Int
        let segments: Int
    }

    struct CkPair: Encodable {
        let libnet: String
        let netlab: String
        let agree: Bool
    }

    struct Pkt: Encodable {
        let number: Int
        let time: String
        let kind: String
        let conversation: Int
        let direction: String
        let length: Int
        let payload_bytes: Int
        let relative_seq: UInt32
        let relative_ack: UInt32
        let summary: String
        let message: MsgRef?
        let payload: String?
        let checksums: [String: CkPair]
        let layers: [Layer]?
        let checksum_steps: [String: Steps]?
        let hex: String?
    }

    struct FieldOut: Encodable {
        let name: String
        let bit_offset: Int
        let bit_width: Int
        let value: UInt64
        let text: String
        let meaning: String
    }

    struct Layer: Encodable {
        let name: String
        let offset: Int
        let length: Int
        let fields: [FieldOut]
    }

    struct Steps: Encodable {
        let pseudo_header: [String]?
        let header: [String]
        let data: [String]
        let checksum_field_offset: Int
        let sum: String
        let folds: [String]
        let folded: String
        let checksum: String
        let in_packet: String
        let correct: Bool
    }

    struct PcapOut: Encodable {
        let path: String
        let packets: Int
        let bytes: UInt64
        let link_type: String
    }

    struct Injected: Encodable {
        let packets: Int
        let via: String
    }

    func steps(_ t: ChecksumTrace, pseudo: Bool) -> Steps {
        func ws(_ part: String) -> [String] { t.words.filter { $0.part == part }.map { Fmt.word($0.value) } }
        return Steps(pseudo_header: pseudo ? ws("pseudo-header") : nil, header: ws("header"), data: ws("data"),
                     checksum_field_offset: t.fieldOffset, sum: String(format: "0x%08x", t.sum),
                     folds: t.folds.map { String(format: "0x%05x", $0) }, folded: Fmt.hex16(t.folded),
                     checksum: Fmt.hex16(t.checksum), in_packet: Fmt.hex16(t.inPacket), correct: t.correct)
    }

    func render(explain: Bool, outcome: Outcome) throws -> String {
        let convs = plan.conversations.map {
            Conv(id: $0.index + 1, protocol_: "tcp", client: $0.client, server: $0.server, client_app: $0.clientApp,
                 server_app: $0.serverApp, app_protocol: $0.appProtocol, client_isn: $0.clientISN,
                 server_isn: $0.serverISN, messages_c2s: $0.messagesC2S, messages_s2c: $0.messagesS2C,
                 payload_bytes_c2s: $0.bytesC2S, payload_bytes_s2c: $0.bytesS2C, packets: $0.packets)
        }
        var pkts: [Pkt] = []
        for p in plan.packets {
            try Interruption.check()
            let x = try plan.explain(p.number - 1)
            var ref: MsgRef?
            var payload: String?
            if let m = p.message {
                let msg = plan.messages[m]
                ref = MsgRef(msg_id: msg.id, line: msg.line, segment: p.segment, segments: p.segments)
                payload = String(decoding: p.bytes[p.payloadOffset..<p.payloadOffset + p.payloadLength], as: UTF8.self)
            }
            let full = explain && p.message != nil
            let layers = full ? x.spans.map { s in
                Layer(name: s.layer, offset: s.offset, length: s.length,
                      fields: x.fields.filter { $0.layer == s.layer }.map {
                          FieldOut(name: $0.name, bit_offset: $0.bitOffset, bit_width: $0.bitWidth, value: $0.value,
                                   text: $0.valueText, meaning: $0.meaning)
                      })
            } : nil
            pkts.append(Pkt(
                number: p.number, time: Fmt.isoTime(p.timeNs), kind: p.kind, conversation: p.conversation + 1,
                direction: p.fromClient ? "client_to_server" : "server_to_client", length: p.bytes.count,
                payload_bytes: p.payloadLength, relative_seq: p.relativeSeq, relative_ack: p.relativeAck,
                summary: x.summary, message: ref, payload: payload,
                checksums: [
                    "ipv4": CkPair(libnet: Fmt.hex16(p.ipChecksumLibnet), netlab: Fmt.hex16(p.ipChecksumNetlab),
                                   agree: p.ipChecksumLibnet == p.ipChecksumNetlab),
                    "tcp": CkPair(libnet: Fmt.hex16(p.tcpChecksumLibnet), netlab: Fmt.hex16(p.tcpChecksumNetlab),
                                  agree: p.tcpChecksumLibnet == p.tcpChecksumNetlab),
                ],
                layers: layers,
                checksum_steps: full ? ["ipv4": steps(x.ipChecksum, pseudo: false), "tcp": steps(x.tcpChecksum, pseudo: true)] : nil,
                hex: full ? p.bytes.map { String(format: "%02x", $0) }.joined() : nil))
        }
        let doc = Doc(input: outcome.csv, messages: plan.messages.count, conversations: convs, packets: pkts,
                      checksums_agree: plan.packets.allSatisfy(\.checksumsAgree),
                      pcap: outcome.pcap.map { PcapOut(path: $0, packets: plan.packetCount, bytes: plan.totalBytes, link_type: "RAW") },
                      injected: outcome.injected.map { Injected(packets: $0, via: "libnet raw IPv4 socket") },
                      inject_note: outcome.injectNote,
                      round_trip: outcome.roundTrip.map { rt in
                          RoundTripOut(capture: outcome.capturePath ?? "", interface: rt.interface, link_type: rt.linkType,
                                       filter: rt.filter, captured: rt.captured, kernel_resets: rt.kernelResets,
                                       other: rt.otherPackets, kernel_dropped: rt.kernelDropped, ok: rt.ok,
                                       packets: plan.packets.map { p in
                                           let it = rt.item(p.number - 1)
                                           return RTPacket(packet: p.number, msg_id: p.message.map { plan.messages[$0].id },
                                                           frame: it.frame, copies: it.copies, identical: it.identical,
                                                           ipv4_checksum_ok: it.ipChecksumOK, tcp_checksum_ok: it.tcpChecksumOK,
                                                           intact: it.intact,
                                                           difference: it.intact || it.frame == nil ? nil : it.difference)
                                       })
                      })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(doc), as: UTF8.self)
    }
}
