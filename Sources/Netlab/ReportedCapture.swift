// ReportedCapture: one capture as `netlab report` shows it (nl_report.h): the file read
// once, and the analysis, flow graph and answer sheet made from that one copy, with
// which conversations are drawn. The choices are libnetlab's; this file only converts.
import CNetlab

public final class ReportedCapture {
    /// Owns the C capture; the views below borrow from it.
    final class Handle {
        let h: OpaquePointer
        init(_ h: OpaquePointer) { self.h = h }
        deinit { nl_report_capture_free(h) }
    }

    /// Why a conversation is drawn (NL_REPORT_DRAWN_*); empty: listed in the table only.
    public struct Drawn: OptionSet {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let all = Drawn(rawValue: NL_REPORT_DRAWN_ALL)
        public static let mostBytes = Drawn(rawValue: NL_REPORT_DRAWN_BYTES)
        public static let mostLoss = Drawn(rawValue: NL_REPORT_DRAWN_LOSS)
    }

    public static let tableCap = Int(NL_REPORT_TABLE_CAP)
    public static let drawAll = Int(NL_REPORT_DRAW_ALL)
    public static let drawBytes = Int(NL_REPORT_DRAW_BYTES)
    public static let drawLoss = Int(NL_REPORT_DRAW_LOSS)

    let handle: Handle
    public let path: String
    public let analysis: Analysis
    public let answers: CaptureAnswers

    /// Reads the capture (once) and makes every view; `maxRows` caps the flow-graph rows per conversation.
    public init(path: String, maxRows: Int) throws {
        var out: OpaquePointer?
        try nlCheck { nl_report_capture_open(path, maxRows, &out, $0) }
        handle = Handle(out!)
        self.path = path
        analysis = Analysis(borrowing: nl_report_capture_analysis(out)!, keeper: handle)
        answers = CaptureAnswers(borrowing: nl_report_capture_answers(out)!, file: path, owner: handle)
    }

    var graph: OpaquePointer? { nl_report_capture_flowgraph(handle.h) }

    /// TCP conversations of the flow graph (numbered 1, 2, ... among the TCP ones).
    public var flowCount: Int { nl_flowgraph_count(graph) }

    /// Flow-graph conversation i with its rows (copied).
    public func flow(_ i: Int) -> FlowConversation { FlowGraph.conversation(graph, i) }

    /// Flow-graph conversation i's number in the analysis (analyze's), without copying its rows.
    public func conversationNumber(_ i: Int) -> Int { Int(nl_flowgraph_conv(graph, i)?.pointee.conversation ?? 0) }

    /// Why conversation i is drawn.
    public func drawn(_ i: Int) -> Drawn { Drawn(rawValue: nl_report_capture_drawn(handle.h, i)) }

    /// Conversation i's throughput in `bins` bins (conv: flow(i)).
    public func throughput(_ i: Int, _ conv: FlowConversation, bins: Int) throws -> FlowThroughput {
        try FlowGraph.throughput(graph, i, conv, bins: bins)
    }
}

/// Where the report goes and its PDF (nl_report_output_check, nl_pdf_print).
public enum ReportFiles {
    /// Checks --out before anything is read: the folder the files go in and their name ("report" or NAME of NAME.pdf).
    public static func check(out: String, pdf: Bool) throws -> (dir: String, stem: String) {
        var o = nl_report_output()
        try nlCheck { nl_report_output_check(out, pdf ? 1 : 0, &o, $0) }
        return (tupleString(o.dir), tupleString(o.stem))
    }

    /// Prints html to pdf with the Chromium at `chrome` within `timeout` seconds (nl_pdf_print).
    public static func printPDF(chrome: String, html: String, pdf: String, timeout: Double) throws {
        try nlCheck { nl_pdf_print(chrome, html, pdf, timeout, $0) }
    }
}

/// The assignment's questions mapped to answer-sheet answers (nl_report_questions_load; docs/report.md).
public struct QuestionSheet {
    public struct Question {
        public let section, number, key, text: String
    }
    public let questions: [Question]

    public init(path: String) throws {
        var q: OpaquePointer?
        try nlCheck { nl_report_questions_load(path, &q, $0) }
        defer { nl_report_questions_free(q) }
        questions = (0..<nl_report_questions_count(q)).compactMap { i in
            var r = nl_report_question()
            guard nl_report_questions_get(q, i, &r) == 0 else { return nil }
            return Question(section: cString(r.section), number: cString(r.number), key: cString(r.key), text: cString(r.text))
        }
    }
}
