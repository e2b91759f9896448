// Counts the encoder layers' float32 weight matrices alive while AudioEncoder is made: bytes read minus bytes
// released, and the peak. Lets tests check that a packed or quantised encoder read from a file never held every
// layer's float32 matrices at once (no timing, no RSS: a count the build keeps itself).

struct FloatMatrixCount: Sendable, Equatable {
    /// Bytes of every layer's matrices as read.
    private(set) var readBytes = 0
    /// Bytes alive now, and the most alive at once.
    private(set) var heldBytes = 0
    private(set) var peakBytes = 0

    mutating func read(_ bytes: Int) {
        readBytes += bytes
        heldBytes += bytes
        peakBytes = max(peakBytes, heldBytes)
    }

    mutating func released(_ bytes: Int) {
        heldBytes -= bytes
    }
}
