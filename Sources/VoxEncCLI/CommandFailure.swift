// Library errors → one line on stderr + a sysexits(3) exit code (ErrorReport, in the library);
//   3: a batch job finished but some files failed (listed in its JSON lines).

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import VoxEnc

enum ExitStatus {
    static let usage = ErrorCategory.usage.exitStatus
    /// A batch job (--manifest / --input-dir) went through every file but some failed; each is in the JSON lines
    /// with its error. Distinct from the categories' codes (which end the job itself), like rsync's 23, so that a
    /// scheduler can tell "retrying will not help" from "the worker broke".
    static let someFilesFailed: Int32 = 3
}

/// Prints `voxenc: error: …` (with a hint when there is one) and returns the exit code to end with.
func report(_ error: any Error) -> ExitCode {
    let report = ErrorReport(error)
    FileHandleStderr.write("voxenc: error: \(report.line)\n")
    return ExitCode(report.category.exitStatus)
}

enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

/// `voxenc: warning: <file>: <what>` on stderr, one line each.
func warn(_ path: String, _ warnings: [String]) {
    for warning in warnings { FileHandleStderr.write("voxenc: warning: \(path): \(warning)\n") }
}
