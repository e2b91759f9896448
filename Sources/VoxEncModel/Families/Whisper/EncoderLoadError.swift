// Why an encoder read from a model directory (AudioEncoder(reading:…)) could not be made: the file (a ModelError:
// a missing or damaged tensor) or the precision (a QuantisationError: refused here, or a weight oneDNN would not
// pack), kept apart so that callers report each as they already do (VoxEncError.model / .precision).

public enum EncoderLoadError: Error, Sendable {
    case model(ModelError)
    case kernels(QuantisationError)
}
