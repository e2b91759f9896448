import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the `voxenc` executable built next to the test bundle.
enum VoxEncProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// True when the tests (and so the `voxenc` built with them) run under the thread sanitizer
    /// (`swift test --sanitize=thread`). Its runtime dies with SIGBUS at start-up under a tiny `ulimit -f`
    /// (exit 66, "ThreadSanitizer: BUS on unknown address"), before voxenc's code runs: the file-size-limit cases
    /// are skipped then.
    static let isThreadSanitized: Bool = dlsym(dlopen(nil, RTLD_NOW), "__tsan_init") != nil

    static var executable: URL {
        // The test runner lives in the build products directory, beside the `voxenc` executable.
        Bundle.main.bundleURL.appendingPathComponent("voxenc")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try launch(executable, arguments, environment: environment)
    }

    /// Runs a copy of the executable from `directory` (also the working directory), away from the checkout, so that
    /// no installed default model can be found.
    static func runDetached(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Result {
        let copy = URL(fileURLWithPath: directory).appendingPathComponent("voxenc")
        if !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.copyItem(at: executable, to: copy)
        }
        return try launch(copy, arguments, environment: environment, directory: directory)
    }

    /// Runs a /bin/sh script with $VOXENC set to the executable (for ulimit and friends).
    static func runShell(_ script: String, environment: [String: String] = [:]) throws -> Result {
        var environment = environment
        environment["VOXENC"] = executable.path
        return try launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script], environment: environment)
    }

    /// Starts the executable with stdout and stderr going to files (for workers that get killed midway).
    static func start(_ arguments: [String], stdout: String, stderr: String,
                      environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: stdout, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
        process.standardError = FileHandle(forWritingAtPath: stderr)
        try process.run()
        return process
    }

    private static func launch(_ url: URL, _ arguments: [String], environment: [String: String],
                               directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = url
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
