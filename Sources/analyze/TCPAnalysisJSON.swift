// The TCP analysis in --json: `tcp_analysis` (tshark's field names without
// "tcp.analysis.", each the frames carrying the flag, cut at --max-listed) and
// `tcp_analysis_counts` beside it; per TCP conversation `rtt`, `options`,
// throughput, `max_in_flight` and `analysis`; with --packets, `tcp_packets`.
import Foundation
import Netlab

extension JSONReport {
    func tcpAnalysis(_ w: inout JSONWriter) {
        let flags = analysis.tcpFlags
        w.beginObject("tcp_analysis")
        for f in flags { w.intArray(f.field, f.frames) }
        w.endObject()
        w.beginObject("tcp_analysis_counts")
        for f in flags { w.field(f.field, f.total) }
        w.endObject()
    }

    /// Fields added to a TCP conversation's object.
    func tcpConversation(_ i: Int, _ w: inout JSONWriter) {
        guard let f = analysis.tcpFigures(at: i) else { return }
        w.beginObject("rtt")
        w.field("samples", f.rttSamples)
        w.field("min_ms", f.rttMinMs)
        w.field("median_ms", f.rttMedianMs)
        w.field("p95_ms", f.rttP95Ms)
        w.field("max_ms", f.rttMaxMs)
        if let h = f.handshakeMs { w.field("handshake_ms", h) } else { w.null("handshake_ms") }
        w.endObject()
        w.beginObject("options")
        if f.mssC2S > 0 { w.field("mss_c2s", f.mssC2S) } else { w.null("mss_c2s") }
        if f.mssS2C > 0 { w.field("mss_s2c", f.mssS2C) } else { w.null("mss_s2c") }
        if f.wscaleC2S >= 0 { w.field("wscale_c2s", f.wscaleC2S) } else { w.null("wscale_c2s") }
        if f.wscaleS2C >= 0 { w.field("wscale_s2c", f.wscaleS2C) } else { w.null("wscale_s2c") }
        w.field("sack", f.sack)
        w.field("timestamps", f.timestamps)
        w.endObject()
        w.field("throughput_bps_c2s", f.throughputBpsC2S)
        w.field("throughput_bps_s2c", f.throughputBpsS2C)
        w.field("max_in_flight", f.maxInFlight)
        w.field("max_window_c2s", f.maxWindowC2S)
        w.field("max_window_s2c", f.maxWindowS2C)
        w.field("data_segments", f.dataSegments)
        w.field("retransmission_rate", f.retransmissionRate)
        w.beginObject("analysis")
        for c in f.counts { w.field(c.field, c.count) }
        w.endObject()
    }

    func tcpPackets(_ w: inout JSONWriter) {
        let a = analysis
        let t0 = a.summary.firstNs
        w.beginArray("tcp_packets")
        for i in 0..<a.tcpPacketCount {
            let p = a.tcpPacket(at: i)
            w.beginObject()
            w.field("packet", p.packet)
            w.field("time", NanoTime.span(t0, p.tsNs))
            w.field("conversation", p.conversation)
            w.field("direction", Fmt.direction(p.fromClient))
            w.field("flags", tcpFlagsText(p.tcpFlags))
            w.field("seq", p.seq)
            w.field("ack", p.ack)
            w.field("len", p.length)
            w.field("window", p.window)
            w.stringArray("analysis", p.fields)
            if p.dupAckNum > 0 {
                w.field("duplicate_ack_num", p.dupAckNum)
                w.field("duplicate_ack_frame", p.dupAckFrame)
            }
            if p.ackedFrame > 0 {
                w.field("acks_frame", p.ackedFrame)
                w.field("ack_rtt_ms", p.ackRttMs)
            }
            if p.bytesInFlight > 0 { w.field("bytes_in_flight", p.bytesInFlight) }
            if let m = p.missing { w.intArray("not_captured", [Int(m.lowerBound), Int(m.upperBound)]) }
            if let u = p.unseen { w.intArray("acked_not_captured", [Int(u.lowerBound), Int(u.upperBound)]) }
            w.endObject()
        }
        w.endArray()
    }
}
