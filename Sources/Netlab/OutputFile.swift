// OutputFile: write a whole output file through libnetlab's nl_outfile, so a
// regular file appears whole or not at all and a device, FIFO or "-" is
// written in place (Foundation's atomic write would replace them).
import CNetlab

public enum OutputFile {
    /// Write bytes to path (see nl_outfile.h).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        _ = try bytes.withUnsafeBytes { raw in
            try nlCheck { nl_outfile_write_all(path, raw.baseAddress, raw.count, $0) }
        }
    }

    /// Write a string as UTF-8 to path.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}
