// Typed errors of model loading. Each names the file (and the tensor, where there is one); `hint` says what to do.

/// A model directory or weights file that could not be turned into `EncoderWeights`.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing (or not a directory) exists at the path.
    case directoryNotFound(path: String)
    /// The directory holds none of the file sets of a known checkpoint layout; `found` lists what it does hold.
    case unrecognizedLayout(path: String, found: [String])
    /// A file the layout needs (a shard, the weights file, a config) is absent or a dangling symlink.
    case missingFile(path: String)
    /// The configuration file is not valid JSON, lacks a key, or describes a shape that cannot run.
    case invalidConfiguration(path: String, reason: String)
    /// The safetensors header is malformed (length, JSON, dtype name, shape, offsets, overlaps).
    case invalidHeader(path: String, reason: String)
    /// The tensor's dtype is a valid safetensors dtype, but not one the encoder loads (F32, F16, BF16).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor the layout needs is absent.
    case missingTensor(path: String, tensor: String)
    /// A tensor's shape disagrees with the configuration.
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// A tensor holds `count` NaN or infinite values.
    case nonFiniteWeights(path: String, tensor: String, count: Int)
    /// The operating system refused to open, stat or map the file.
    case ioError(path: String, reason: String)

    /// The file or directory the error is about.
    public var path: String {
        switch self {
        case .directoryNotFound(let path), .unrecognizedLayout(let path, _), .missingFile(let path),
             .invalidConfiguration(let path, _), .invalidHeader(let path, _), .unsupportedDType(let path, _, _),
             .missingTensor(let path, _), .shapeMismatch(let path, _, _, _), .nonFiniteWeights(let path, _, _),
             .ioError(let path, _):
            return path
        }
    }

    /// The tensor the error is about, if any.
    public var tensor: String? {
        switch self {
        case .unsupportedDType(_, let tensor, _), .missingTensor(_, let tensor), .shapeMismatch(_, let tensor, _, _),
             .nonFiniteWeights(_, let tensor, _):
            return tensor
        default:
            return nil
        }
    }

    /// What a model directory must contain, per layout.
    public static let expectedFiles = "config.json + model.safetensors or model.safetensors.index.json and its shards "
        + "(Hugging Face Voxtral or Whisper), or params.json + consolidated.safetensors (Mistral)"

    public var description: String {
        switch self {
        case .directoryNotFound(let path):
            return "\(path): no such model directory"
        case .unrecognizedLayout(let path, let found):
            let listing = found.isEmpty ? "nothing" : found.joined(separator: ", ")
            return "\(path): not a model directory: expected \(Self.expectedFiles); found \(listing)"
        case .missingFile(let path):
            return "\(path): missing file"
        case .invalidConfiguration(let path, let reason):
            return "\(path): invalid configuration: \(reason)"
        case .invalidHeader(let path, let reason):
            return "\(path): invalid safetensors header: \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype):
            return "\(path): tensor \(tensor) has dtype \(dtype); only F32, F16 and BF16 are supported"
        case .missingTensor(let path, let tensor):
            return "\(path): missing tensor \(tensor)"
        case .shapeMismatch(let path, let tensor, let expected, let actual):
            return "\(path): tensor \(tensor) has shape \(actual), expected \(expected) from the configuration"
        case .nonFiniteWeights(let path, let tensor, let count):
            return "\(path): tensor \(tensor) holds \(count) NaN or infinite value(s)"
        case .ioError(let path, let reason):
            return "\(path): cannot read: \(reason)"
        }
    }

    /// What the user can do about it, when there is something to say.
    public var hint: String? {
        switch self {
        case .directoryNotFound, .unrecognizedLayout:
            // The hub repo holds both layouts (≈ 9 GB each); "model-*" fetches only the Hugging Face one.
            return "download a model, e.g. `huggingface-cli download mistralai/Voxtral-Mini-3B-2507 --include "
                + "\"model-*.safetensors\" \"*.json\" --local-dir voxtral-mini` (a Hugging Face cache snapshot "
                + "directory works as is)"
        case .missingFile:
            return "the download is incomplete; fetch the missing file again (huggingface-cli download … --include …)"
        case .invalidHeader, .nonFiniteWeights:
            return "the weights file is damaged or truncated; download it again"
        case .unsupportedDType:
            return "convert the checkpoint to float32, float16 or bfloat16"
        case .missingTensor, .shapeMismatch:
            return "the weights do not match the configuration file; check that both come from the same checkpoint"
        default:
            return nil
        }
    }
}
