// Library errors → one line on stderr + a sysexits(3) exit code.
//   64 usage · 65 bad input data · 66 input missing · 73 cannot create output · 74 I/O error;
//   3: a batch job finished but some files failed (listed in its JSON lines).

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import VoxEnc
import VoxEncAudio

enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74
    /// A batch job (--manifest / --input-dir) went through every file but some failed; each is in the JSON lines
    /// with its error. Distinct from the codes above (which end the job itself), like rsync's 23, so that a
    /// scheduler can tell "retrying will not help" from "the worker broke".
    static let someFilesFailed: Int32 = 3
}

/// Prints `voxenc: error: …` (with a hint when there is one) and returns the exit code to end with.
func report(_ error: any Error) -> ExitCode {
    let (message, hint, status) = describe(error)
    var line = "voxenc: error: \(message)"
    if let hint { line += " (hint: \(hint))" }
    FileHandleStderr.write(line + "\n")
    return ExitCode(status)
}

func describe(_ error: any Error) -> (String, String?, Int32) {
    switch error {
    case let error as AudioError:
        let status: Int32
        switch error {
        case .fileNotFound, .notARegularFile: status = ExitStatus.noInput
        case .unreadable: status = ExitStatus.noInput
        case .channelOutOfRange: status = ExitStatus.usage
        default: status = ExitStatus.dataError
        }
        return (error.description, error.hint, status)
    case let error as OutputError:
        switch error {
        case .cannotCreate, .exists, .isDirectory, .notARegularFile:
            return (error.description, error.hint, ExitStatus.cannotCreate)
        case .writeFailed: return (error.description, error.hint, ExitStatus.ioError)
        }
    case let error as VoxEncError:
        switch error {
        case .audio(let inner): return describe(inner)
        case .model(let inner): return describe(inner)
        case .output(let inner): return describe(inner)
        case .precision(let inner): return describe(inner)
        case .noModel: return (error.description, error.hint, ExitStatus.usage)
        case .cancelled: return (error.description, nil, 1)
        }
    case let error as ModelError:
        return (error.description, error.hint, error.exitStatus)
    case let error as JobError:
        switch error {
        case .manifestUnreadable, .inputDirectory: return (error.description, error.hint, ExitStatus.noInput)
        case .manifestLine, .duplicateID, .unsafeID: return (error.description, error.hint, ExitStatus.dataError)
        case .outputCollision, .invalidShard: return (error.description, error.hint, ExitStatus.usage)
        }
    case let error as QuantisationError:
        switch error {
        // The option cannot be used with this build or CPU → usage; these weights cannot be quantised → bad data.
        case .oneDNNUnavailable, .instructionSetTooOld, .bfloat16Unsupported:
            return (error.description, error.hint, ExitStatus.usage)
        case .reductionTooLong, .nonFiniteWeight, .packingFailed:
            return (error.description, error.hint, ExitStatus.dataError)
        }
    default:
        return (String(describing: error), nil, 1)
    }
}

enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

extension ModelError {
    /// Missing directory or file, or one of the wrong kind → 66 (no input); an I/O failure → 74; everything else
    /// about the weights → 65 (bad data).
    var exitStatus: Int32 {
        switch self {
        case .directoryNotFound, .notADirectory, .missingFile, .notARegularFile: return ExitStatus.noInput
        case .ioError: return ExitStatus.ioError
        default: return ExitStatus.dataError
        }
    }
}

/// `voxenc: warning: <file>: <what>` on stderr, one line each.
func warn(_ path: String, _ warnings: [String]) {
    for warning in warnings { FileHandleStderr.write("voxenc: warning: \(path): \(warning)\n") }
}

extension FloatGEMM {
    /// `--gemm`: a backend name this build can run.
    static func validate(option: String?) throws {
        guard let option else { return }
        guard let backend = FloatGEMM(rawValue: option) else {
            throw ValidationError("--gemm must be \(FloatGEMM.allCases.map(\.rawValue).joined(separator: " or ")), not \(option)")
        }
        if !backend.isAvailable { throw ValidationError("--gemm \(option): this build has no oneDNN (install libdnnl-dev and rebuild)") }
    }
}
