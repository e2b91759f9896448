// Any error of the library → one readable line, a hint, and a category with a sysexits(3) code. One place for every
// front door: the CLI's exit status, the C ABI's status code (voxenc.h), and the server's HTTP status.
//   64 usage · 65 bad input data · 66 input missing · 73 cannot create output · 74 I/O error; 1 cancelled or other.

import VoxEncAudio
import VoxEncModel

/// What kind of failure an error is, from the caller's side.
public enum ErrorCategory: Int32, Sendable, CaseIterable {
    /// The request cannot be met as asked (an option this build or CPU cannot run, a channel out of range).
    case usage = 64
    /// The input is there but bad: undecodable audio, damaged weights, a bad manifest line.
    case dataError = 65
    /// The input is missing or unreadable: no such file, not a regular file, permission denied.
    case noInput = 66
    /// The output cannot be created (exists, is a directory, no permission).
    case cannotCreate = 73
    /// Reading or writing failed part way.
    case ioError = 74
    /// Cancelled, or an error from outside the library.
    case other = 1

    /// The process exit status (sysexits.h) for this category.
    public var exitStatus: Int32 { rawValue }
}

/// An error as every front door reports it.
public struct ErrorReport: Sendable, Equatable {
    public var message: String
    public var hint: String?
    public var category: ErrorCategory

    /// "message (hint: …)", the line the CLI prints after "voxenc: error: ".
    public var line: String { hint.map { "\(message) (hint: \($0))" } ?? message }

    public init(message: String, hint: String?, category: ErrorCategory) {
        (self.message, self.hint, self.category) = (message, hint, category)
    }

    public init(_ error: any Error) {
        switch error {
        case let error as AudioError:
            let category: ErrorCategory
            switch error {
            case .fileNotFound, .notARegularFile, .unreadable: category = .noInput
            case .channelOutOfRange: category = .usage
            default: category = .dataError
            }
            self.init(message: error.description, hint: error.hint, category: category)
        case let error as OutputError:
            switch error {
            case .cannotCreate, .exists, .isDirectory, .notARegularFile:
                self.init(message: error.description, hint: error.hint, category: .cannotCreate)
            case .writeFailed: self.init(message: error.description, hint: error.hint, category: .ioError)
            }
        case let error as VoxEncError:
            switch error {
            case .audio(let inner): self.init(inner)
            case .model(let inner): self.init(inner)
            case .output(let inner): self.init(inner)
            case .precision(let inner): self.init(inner)
            case .stream(let inner): self.init(inner)
            case .tar(let inner): self.init(inner)
            case .outputEncoding(let inner): self.init(inner)
            case .noModel: self.init(message: error.description, hint: error.hint, category: .usage)
            case .cancelled: self.init(message: error.description, hint: nil, category: .other)
            }
        case let error as ModelError:
            // Missing directory or file, or one of the wrong kind → no input; an I/O failure → I/O; everything else
            // about the weights → bad data.
            let category: ErrorCategory
            switch error {
            case .directoryNotFound, .notADirectory, .missingFile, .notARegularFile: category = .noInput
            case .ioError: category = .ioError
            default: category = .dataError
            }
            self.init(message: error.description, hint: error.hint, category: category)
        case let error as OutputEncodingError:
            self.init(message: error.description, hint: error.hint, category: .usage)
        case let error as TarError:
            let category: ErrorCategory
            switch error {
            case .damaged, .truncatedMember, .duplicateKey, .absentFromFinishedShard: category = .dataError
            case .unreadable: category = .noInput
            case .busy, .partialExists: category = .cannotCreate
            }
            self.init(message: error.description, hint: error.hint, category: category)
        case let error as JobError:
            let category: ErrorCategory
            switch error {
            case .manifestUnreadable, .inputDirectory: category = .noInput
            case .manifestLine, .duplicateID, .unsafeID: category = .dataError
            case .outputCollision, .invalidShard: category = .usage
            }
            self.init(message: error.description, hint: error.hint, category: category)
        case let error as StreamError:
            let category: ErrorCategory
            switch error {
            case .notCausal, .finished, .invalidStep: category = .usage
            case .invalidSampleRate, .sampleRateChanged, .nonFiniteSample, .tooLong: category = .dataError
            }
            self.init(message: error.description, hint: error.hint, category: category)
        case let error as PrecisionError:
            switch error {
            // The option cannot be used with this build or CPU → usage; these weights cannot be quantised → bad data.
            case .oneDNNUnavailable, .instructionSetTooOld, .bfloat16Unsupported, .unsupportedByFamily:
                self.init(message: error.description, hint: error.hint, category: .usage)
            case .reductionTooLong, .nonFiniteWeight, .packingFailed:
                self.init(message: error.description, hint: error.hint, category: .dataError)
            }
        default:
            self.init(message: String(describing: error), hint: nil, category: .other)
        }
    }
}
