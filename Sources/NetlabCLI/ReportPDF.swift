// The report's PDF: report.html printed by headless Chromium (A4; the page's print
// styles break pages between sections and print every table expanded). The print,
// its deadline, the profile folder and the clean-up are libnetlab's (nl_pdf.h).
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

    /// Prints the HTML (written by write()) to the PDF; returns its path.
    func writePDF() throws -> String {
        guard let chrome = Self.chromium() else {
            throw LabError(message: "the PDF needs Chromium (apt-get install chromium); \(safeLine(output.path("html"))) and the Markdown are written")
        }
        let pdf = output.path("pdf")
        try ReportFiles.printPDF(chrome: chrome, html: output.path("html"), pdf: pdf, timeout: pdfTimeout)
        return pdf
    }
}
