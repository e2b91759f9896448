// Why a family could not load a model directory: the file (a ModelError: a missing or damaged tensor) or the
// precision (a PrecisionError: refused here, or a weight oneDNN would not pack), kept apart so that callers report
// each as they already do (VoxEncError.model / .precision).

public enum EncoderLoadError: Error, Sendable {
    case model(ModelError)
    case precision(PrecisionError)
}
