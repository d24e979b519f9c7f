// What the netlab prove test classes share: the netlab under test and a script written into a
// test's temporary folder.
import Foundation

protocol ProveScriptTests {}

extension ProveScriptTests {
    var netlab: String { TestSupport.product("netlab") }

    /// Writes text as dir/name and returns the path.
    func write(_ text: String, _ name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
