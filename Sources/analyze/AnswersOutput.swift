// analyze --answers: the answer sheet of each capture (libnetlab's nl_answers),
// as text or JSON. Rendering only: every rule (greeting, exchanges, bytes, ties)
// is the C library's.
import Foundation
import Netlab

enum AnswersOutput {
    /// Names for interface indexes from the interfaces.txt `netlab lab` writes beside its captures
    /// ("3 nlc1234" per line): a capture on "any" records only the index.
    static func labInterfaceNames(besides capture: String) -> [UInt32: String] {
        let f = URL(fileURLWithPath: capture).deletingLastPathComponent().appendingPathComponent("interfaces.txt").path
        guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { return [:] }
        var out: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let i = UInt32(parts[0]) { out[i] = String(parts[1]) }
        }
        return out
    }

    static func text(_ a: CaptureAnswers) -> String {
        let names = labInterfaceNames(besides: a.file)
        var out = "answers     \(safeLine(a.file)): \(a.packets) packets, \(a.conversationsTotal) TCP conversation"
            + (a.conversationsTotal == 1 ? "" : "s") + "\n"
        if let why = a.cannot { out += "cannot      \(safeLine(why, limit: 600))\n" }
        if a.largestBytes > 0 {
            out += "largest     \(a.largestBytes) bytes of TCP payload in packet" + (a.largestCount == 1 ? " " : "s ")
                + a.largestPackets.map(String.init).joined(separator: ", ") + "\n"
        }
        for u in a.users {
            out += "chat user   \(safeLine(u.name)): client port \(u.clientPort) (\(u.client), conversation \(u.conversation), "
                + "OK NICK in packet \(u.packet))\n"
        }
        for c in a.conversations {
            out += "\nconversation \(c.conversation): \(c.transport) \(c.client) -> \(c.server)\n"
            func row(_ k: String, _ v: String) { out += "  " + Fmt.pad(k, 18) + v + "\n" }
            row("transport", c.transport)
            row("server", "\(c.server) (port \(c.serverPort); \(basisText(c.serverBasis)))")
            row("client", "\(c.client) (ephemeral port \(c.clientPort))")
            if let why = c.cannot { row("cannot", safeLine(why, limit: 300)) }
            for (k, i) in c.interfaces.enumerated() { row(k == 0 ? "interface" : "", i.label(names: names)) }
            row("greeting", c.greetingSentence)
            if let u = c.user { row("chat user", safeLine(u)) }
            row("bytes c->s", "\(c.payloadC2S) payload bytes; \(c.frameBytesC2S) bytes in \(c.framesC2S) frames")
            row("bytes s->c", "\(c.payloadS2C) payload bytes; \(c.frameBytesS2C) bytes in \(c.framesS2C) frames")
            if c.largestBytes > 0 {
                row("largest payload", "\(c.largestBytes) bytes in packet" + (c.largestCount == 1 ? " " : "s ")
                    + c.largestPackets.map(String.init).joined(separator: ", "))
            }
            row("exchanges", "\(c.exchangeCount) (one per line; the data is in tcp.payload)"
                + (c.exchanges.count < c.exchangeCount ? "; \(c.exchanges.count) listed (--max-listed)" : ""))
            for x in c.exchanges {
                out += "    \(x.requestPlace) \"\(x.request.visible(limit: 60))\" -> \(x.replySentence)\n"
            }
        }
        return out
    }

    static func basisText(_ b: String) -> String {
        switch b {
        case "syn": return "it received the SYN"
        case "syn-ack": return "it sent the SYN-ACK"
        default: return "guessed: \(b)"
        }
    }

    static func writeJSON(_ a: CaptureAnswers, into w: inout JSONWriter) {
        let names = labInterfaceNames(besides: a.file)
        w.beginObject()
        w.field("file", a.file)
        w.field("packets", a.packets)
        w.field("cannot", a.cannot)
        w.field("conversations_total", a.conversationsTotal)
        w.beginObject("largest_payload")
        w.field("bytes", a.largestBytes)
        w.intArray("packets", a.largestPackets)
        w.field("count", a.largestCount)
        w.endObject()
        w.beginArray("chat_users")
        for u in a.users {
            w.beginObject()
            w.field("name", u.name)
            w.field("client", u.client)
            w.field("client_port", u.clientPort)
            w.field("conversation", u.conversation)
            w.field("packet", u.packet)
            w.endObject()
        }
        w.endArray()
        w.beginArray("conversations")
        for c in a.conversations {
            w.beginObject()
            w.field("conversation", c.conversation)
            w.beginObject("answers")
            w.field("transport", c.transport)
            w.field("server", c.server)
            w.field("client", c.client)
            w.field("server_port", c.serverPort)
            w.field("client_port", c.clientPort)
            w.field("server_basis", c.serverBasis)
            w.beginArray("interfaces")
            for i in c.interfaces {
                w.beginObject()
                w.field("kind", i.what)
                w.field("index", i.index)
                w.field("index_of", i.kind == .ifindex ? "ifindex" : "file interface")
                w.field("name", i.named(names)?.0)
                w.field("name_from", i.named(names)?.1)
                w.field("how", i.how)
                w.field("linktype", i.linkType)
                if i.hatype != 0 { w.field("hatype", i.hatype) } else { w.null("hatype") }
                w.field("capture_name", i.captureName)
                w.field("description", i.description)
                w.field("loopback", i.loopback)
                w.field("packets", i.packets)
                w.endObject()
            }
            w.endArray()
            if let g = c.greeting {
                w.beginObject("greeting")
                w.field("packet", g.packet)
                w.field("payload_bytes", g.payloadBytes)
                w.field("last_packet", g.lastPacket)
                w.field("segments", g.segments)
                w.field("packet_bytes", g.packetBytes)
                w.field("text", g.text.text)
                w.endObject()
                w.null("no_greeting")
            } else {
                w.null("greeting")
                w.field("no_greeting", c.noGreeting)
            }
            w.field("client_first_packet", c.clientFirstPacket)
            w.field("echo", c.echo)
            w.field("cannot", c.cannot)
            w.beginArray("exchanges")
            for x in c.exchanges {
                w.beginObject()
                w.field("request_packet", x.requestPacket)
                w.field("request_last_packet", x.requestLastPacket)
                w.field("request_bytes", x.requestBytes)
                w.field("request_segments", x.requestSegments)
                w.field("request_packet_bytes", x.requestPacketBytes)
                w.field("request_line", x.requestLine)
                w.field("request_lines", x.requestLines)
                w.field("request_text", x.request.text)
                if x.replyPacket != 0 {
                    w.field("reply_packet", x.replyPacket)
                    w.field("reply_last_packet", x.replyLastPacket)
                    w.field("reply_bytes", x.replyBytes)
                    w.field("reply_text", x.reply.text)
                    w.field("reply_shared", x.replyShared)
                    w.field("reply_segments", x.replySegments)
                    w.field("reply_packet_bytes", x.replyPacketBytes)
                    w.field("reply_match", x.replyMatch)
                    w.null("no_reply")
                } else {
                    w.null("reply_packet")
                    w.null("reply_last_packet")
                    w.field("reply_bytes", 0)
                    w.null("reply_text")
                    w.null("reply_match")
                    w.field("no_reply", x.noReply)
                    if x.nextServerPacket != 0 { w.field("next_server_packet", x.nextServerPacket) } else { w.null("next_server_packet") }
                }
                w.field("reply_expected", x.replyExpected)
                w.field("field", x.field)
                w.endObject()
            }
            w.endArray()
            w.field("exchange_count", c.exchangeCount)
            for (key, p, b, f) in [("bytes_c2s", c.payloadC2S, c.frameBytesC2S, c.framesC2S),
                                   ("bytes_s2c", c.payloadS2C, c.frameBytesS2C, c.framesS2C)] {
                w.beginObject(key)
                w.field("payload", p)
                w.field("frames", b)
                w.field("frame_count", f)
                w.endObject()
            }
            w.beginObject("largest_payload")
            w.field("bytes", c.largestBytes)
            w.intArray("packets", c.largestPackets)
            w.field("count", c.largestCount)
            w.endObject()
            w.field("chat", c.chat)
            w.field("user", c.user)
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    /// analyze FILE... --answers: returns false when a file could not be read (whole).
    static func run(files: [String], json: Bool, maxListed: UInt32 = 0, complain: (String) -> Void) -> Bool {
        var ok = true
        var w = JSONWriter()
        let many = files.count > 1
        if json && many { w.beginArray() }
        for (i, path) in files.enumerated() {
            do {
                let a = try CaptureAnswers(path: path, maxListed: maxListed)
                if json {
                    writeJSON(a, into: &w)
                } else {
                    if many && i > 0 { print("") }
                    print(text(a), terminator: "")
                }
                if let e = a.readError {
                    complain(e.message + " (the answers cover the packets before it)")
                    ok = false
                }
            } catch let e as NetlabError {
                complain(e.message)
                ok = false
                if json {
                    w.beginObject(); w.field("file", path); w.field("error", e.message); w.endObject()
                }
            } catch {
                complain("\(path): \(error)")
                ok = false
            }
        }
        if json {
            if many { w.endArray() }
            w.endDocument()
            w.flush()
        }
        return ok
    }
}
