// report.pdf: report.html printed by headless Chromium (A4; the page's print
// styles break pages between sections and print every table expanded).
import Foundation
import Netlab

extension ReportWriter {
    /// chromium or chromium-browser on PATH (or in /usr/bin).
    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
                let p = dir + "/" + name
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    /// Prints report.html (written by write()) to report.pdf; returns its path.
    func writePDF() throws -> String {
        guard let chrome = Self.chromium() else {
            throw LabError(message: "report.pdf needs Chromium (apt-get install chromium); report.html and report.md are written")
        }
        let pdf = outPath("report.pdf")
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("netlab-pdf-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        try? FileManager.default.removeItem(atPath: pdf)
        let r = try Proc.run([chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                              "--user-data-dir=" + profile, "--print-to-pdf=" + pdf,
                              URL(fileURLWithPath: outPath("report.html")).absoluteString], timeout: 120)
        let size = (try? FileManager.default.attributesOfItem(atPath: pdf)[.size] as? Int) ?? 0
        guard r.status == 0, size > 0 else {
            throw LabError(message: "chromium could not print report.pdf (status \(r.status)): \(r.output.suffix(400))")
        }
        return pdf
    }
}
