// Typed errors of model loading. Each names the file (and the tensor, where there is one); `hint` says what to do.

/// A model directory or weights file that could not be turned into `EncoderWeights`.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case directoryNotFound(path: String)
    /// The path is a file (a weights file, a config), not the directory that holds the model.
    case notADirectory(path: String)
    /// The directory holds none of the file sets of a known checkpoint layout; `found` lists what it does hold.
    case unrecognizedLayout(path: String, found: [String])
    /// A file the layout needs (a shard, the weights file, a config) is absent or a dangling symlink.
    case missingFile(path: String)
    /// A file the layout needs is a directory, a device or something else that is not a plain file.
    case notARegularFile(path: String)
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
    /// A CTranslate2 `model.bin` whose binary version this reader does not know (CTranslate2 4.x writes 6).
    case unsupportedFormatVersion(path: String, version: Int)
    /// A CTranslate2 model of another kind (`spec` "TransformerSpec", …) or a newer revision of the Whisper spec.
    case unsupportedSpec(path: String, spec: String, revision: Int)
    /// A CTranslate2 `model.bin` that is truncated or malformed (lengths, counts, dtype ids, names, scales).
    case invalidModelBinary(path: String, reason: String)

    /// The file or directory the error is about.
    public var path: String {
        switch self {
        case .directoryNotFound(let path), .notADirectory(let path), .unrecognizedLayout(let path, _),
             .missingFile(let path), .notARegularFile(let path),
             .invalidConfiguration(let path, _), .invalidHeader(let path, _), .unsupportedDType(let path, _, _),
             .missingTensor(let path, _), .shapeMismatch(let path, _, _, _), .nonFiniteWeights(let path, _, _),
             .ioError(let path, _), .unsupportedFormatVersion(let path, _), .unsupportedSpec(let path, _, _),
             .invalidModelBinary(let path, _):
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
        + "(Hugging Face Voxtral or Whisper), params.json + consolidated.safetensors (Mistral), or model.bin "
        + "(CTranslate2 / faster-whisper Whisper)"

    public var description: String {
        switch self {
        case .directoryNotFound(let path):
            return "\(path): no such model directory"
        case .notADirectory(let path):
            return "\(path): not a directory: --model takes the directory that holds the configuration and the weights"
        case .unrecognizedLayout(let path, let found):
            let listing = found.isEmpty ? "nothing" : found.joined(separator: ", ")
            return "\(path): not a model directory: expected \(Self.expectedFiles); found \(listing)"
        case .missingFile(let path):
            return "\(path): missing file"
        case .notARegularFile(let path):
            return "\(path): not a regular file"
        case .invalidConfiguration(let path, let reason):
            return "\(path): invalid configuration: \(reason)"
        case .invalidHeader(let path, let reason):
            return "\(path): invalid safetensors header: \(reason)"
        case .unsupportedDType(let path, let tensor, let dtype):
            return "\(path): tensor \(tensor) has dtype \(dtype); only F32, F16 and BF16 (and, in CTranslate2 files, "
                + "I8 and I16 with their scales) are supported"
        case .missingTensor(let path, let tensor):
            return "\(path): missing tensor \(tensor)"
        case .shapeMismatch(let path, let tensor, let expected, let actual):
            return "\(path): tensor \(tensor) has shape \(actual), expected \(expected) from the configuration"
        case .nonFiniteWeights(let path, let tensor, let count):
            return "\(path): tensor \(tensor) holds \(count) NaN or infinite value(s)"
        case .ioError(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .unsupportedFormatVersion(let path, let version):
            return "\(path): CTranslate2 binary version \(version) is not supported (only "
                + "\(CTranslate2Model.supportedBinaryVersions.lowerBound)–\(CTranslate2Model.supportedBinaryVersions.upperBound))"
        case .unsupportedSpec(let path, let spec, let revision):
            if spec == CTranslate2Whisper.specName {
                return "\(path): CTranslate2 \(spec) revision \(revision) is newer than the revisions voxenc reads "
                    + "(up to \(CTranslate2Whisper.maxSpecRevision))"
            }
            return "\(path): a CTranslate2 \(spec.isEmpty ? "model without a spec name" : "\"\(spec)\" model"); "
                + "only Whisper models (\(CTranslate2Whisper.specName)) have an audio encoder"
        case .invalidModelBinary(let path, let reason):
            return "\(path): invalid CTranslate2 model.bin: \(reason)"
        }
    }

    /// What the user can do about it, when there is something to say.
    public var hint: String? {
        switch self {
        case .directoryNotFound, .unrecognizedLayout:
            // The hub repo holds both layouts (≈ 9 GB each); "model-*" fetches only the Hugging Face one.
            return "get a model: `voxenc pull mistralai/Voxtral-Mini-3B-2507` fetches only its audio weights (1.3 GB); "
                + "or download it, e.g. `huggingface-cli download mistralai/Voxtral-Mini-3B-2507 --include "
                + "\"model-*.safetensors\" \"*.json\" --local-dir voxtral-mini` (a Hugging Face cache snapshot "
                + "directory works as is)"
        case .notADirectory:
            return "pass the directory that holds config.json (or params.json, or model.bin), not a file in it"
        case .missingFile, .notARegularFile:
            return "the download is incomplete; fetch the missing file again (huggingface-cli download … --include …)"
        case .invalidHeader, .nonFiniteWeights, .invalidModelBinary:
            return "the weights file is damaged or truncated; download it again"
        case .unsupportedFormatVersion, .unsupportedSpec(_, CTranslate2Whisper.specName, _):
            return "convert the model again with ctranslate2 4.x (`ct2-transformers-converter --model openai/whisper-… "
                + "--output_dir …`), or use the Hugging Face Whisper directory instead"
        case .unsupportedSpec:
            return "use a faster-whisper model directory (e.g. `huggingface-cli download Systran/faster-whisper-base "
                + "--local-dir whisper-base`) or a Hugging Face Whisper or Voxtral directory"
        case .unsupportedDType:
            return "convert the checkpoint to float32, float16 or bfloat16"
        case .missingTensor, .shapeMismatch:
            return "the weights do not match the configuration file; check that both come from the same checkpoint"
        default:
            return nil
        }
    }
}
