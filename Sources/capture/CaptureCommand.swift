// capture: record traffic with libpcap (tcpdump-style filter, the "any"
// interface by default) into pcap or pcapng. Arguments and output only; the
// capture itself is libnetlab's.
import ArgumentParser
import Foundation
import Netlab

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record packets with libpcap into a pcap or pcapng file.",
        discussion: """
        The filter is a BPF expression as tcpdump takes it, e.g. `capture -w chat.pcap tcp port 12345`. \
        Ctrl-C or SIGTERM stops cleanly: everything captured so far is flushed and the file is valid. \
        Needs CAP_NET_RAW and CAP_NET_ADMIN (root).
        """)

    @Option(name: [.short, .customLong("interface")], help: "Interface to capture on.")
    var interface = "any"

    @Flag(name: .customLong("list-interfaces"), help: "List the interfaces libpcap can capture on, then exit.")
    var listInterfaces = false

    @Option(name: [.short, .customLong("write")], help: ArgumentHelp(
        "Output file; .pcapng selects pcapng; '-' writes to standard output (as tcpdump -w -).",
        discussion: "A regular file appears whole when the capture ends (nothing if it is killed); a FIFO or device is written in place."))
    var write = "capture.pcap"

    @Flag(help: "Write pcapng even if the file name does not end in .pcapng.")
    var pcapng = false

    @Option(name: [.short, .customLong("snaplen")], help: "Bytes to keep of each packet.")
    var snaplen: UInt32 = 262_144

    @Flag(inversion: .prefixedNo, help: "Promiscuous mode (not available on 'any').")
    var promisc = false

    @Option(name: [.short, .customLong("count")], help: "Stop after this many packets.")
    var count: UInt64 = 0

    @Option(name: .customLong("duration"), help: "Stop after this many seconds.")
    var duration: Double = 0

    @Option(name: .customLong("max-size"), help: "Stop before the file exceeds this size (bytes; K, M, G suffixes).")
    var maxSize: String?

    @Flag(help: "Print the final summary as JSON on stdout.")
    var json = false

    @Argument(parsing: .captureForPassthrough, help: "Capture filter, as tcpdump takes it (e.g. tcp port 12345).")
    var filter: [String] = []

    mutating func validate() throws {
        // The filter takes every word after the options, so --help and -h arrive here: no BPF
        // expression uses them, so they are the user asking for help (issue 8 item 10).
        if filter.contains(where: { $0 == "--help" || $0 == "-h" || $0 == "-help" }) { throw CleanExit.helpRequest(self) }
        if snaplen < 14 || snaplen > 262_144 { throw ValidationError("--snaplen \(snaplen): give 14-262144") }
        if duration < 0 { throw ValidationError("--duration must not be negative") }
        if json && write == "-" { throw ValidationError("--json prints on standard output, which -w - already writes the capture to") }
        if let maxSize, parseSize(maxSize) == nil {
            throw ValidationError("--max-size '\(maxSize)': give bytes, optionally with K, M or G (e.g. 10M)")
        }
    }

    func parseSize(_ s: String) -> UInt64? {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = s.uppercased()
        var mult: UInt64 = 1
        if let last = digits.last, let m = units[last] {
            mult = m
            digits.removeLast()
        }
        guard let v = UInt64(digits), v > 0 else { return nil }
        return v * mult
    }

    func run() throws {
        guard try reportingFailure("capture", {
            try execute()
        }) else { throw ExitCode.failure }
    }

    func execute() throws {
        if listInterfaces {
            for i in try Capture.interfaces() {
                let flags = [i.up ? "up" : "down", i.running ? "running" : nil, i.loopback ? "loopback" : nil]
                    .compactMap { $0 }.joined(separator: ",")
                // Interface names and descriptions are the system's words: shown through the text path.
                print("\(Fmt.pad(safeLine(i.name), 18)) [\(flags)] \(i.addresses)"
                      + (i.description.isEmpty ? "" : "  (\(safeLine(i.description)))"))
            }
            return
        }
        var o = CaptureOptions()
        o.interface = interface
        o.filter = filter.isEmpty ? nil : filter.joined(separator: " ")
        o.snaplen = snaplen
        o.promiscuous = promisc
        o.maxPackets = count
        o.maxSeconds = duration
        o.maxBytes = maxSize.flatMap(parseSize) ?? 0
        o.path = write
        o.pcapng = pcapng || write.hasSuffix(".pcapng")
        try Capture.stopOnSignals()
        let cap = try Capture(o)
        let tty = isatty(STDERR_FILENO) == 1
        FileHandle.standardError.write(Data(("capture: listening on \(interface) (\(cap.linkTypeName))"
            + (o.filter.map { ", filter \"\($0)\"" } ?? "") + ", writing \(write == "-" ? "standard output" : write)\n").utf8))
        try cap.run(status: tty ? { st in
            let line = String(format: "\r\u{1b}[K  %llu packets, %@ bytes, kernel drops %llu, %.1f s",
                              st.packets, Fmt.grouped(st.bytes), st.kernelDropped, st.seconds)
            FileHandle.standardError.write(Data(line.utf8))
        } : nil)
        let st = try cap.close()
        if tty { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
        let why = Capture.stopSignal == 2 ? "interrupted (SIGINT)" : Capture.stopSignal == 15 ? "terminated (SIGTERM)"
            : "limit reached"
        if json {
            var w = JSONWriter(streaming: false)
            w.beginObject()
            w.field("bytes", st.bytes)
            w.field("file", write)
            w.field("file_bytes", st.fileBytes)
            w.field("filter", o.filter ?? "")
            w.field("format", o.pcapng ? "pcapng" : "pcap")
            w.field("interface", interface)
            w.field("interface_dropped", st.interfaceDropped)
            w.field("kernel_dropped", st.kernelDropped)
            w.field("kernel_received", st.kernelReceived)
            w.field("link_type", cap.linkTypeName)
            w.field("packets", st.packets)
            w.field("seconds", st.seconds)
            w.field("stopped_by", why)
            w.endObject()
            print(w.text)
        }
        FileHandle.standardError.write(Data(String(format: "capture: %@: %llu packets (%@ bytes) in %.1f s, written to %@ (%@ bytes)\ncapture: kernel: %llu received by the filter, %llu dropped (buffer full), %llu dropped by the interface\n",
            why, st.packets, Fmt.grouped(st.bytes), st.seconds, write == "-" ? "standard output" : write, Fmt.grouped(st.fileBytes),
            st.kernelReceived, st.kernelDropped, st.interfaceDropped).utf8))
    }

}
