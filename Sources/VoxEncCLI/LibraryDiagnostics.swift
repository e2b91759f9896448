// C libraries under libsndfile print diagnostics of their own on stdio's `stderr`: libmpg123 writes
// "Note: Illegal Audio-MPEG-Header … Trying to resync…" or "[layer3.c:…] error: dequantization failed!" for each
// damaged MP3 frame, and libsndfile gives no way to make its mpg123 handle quiet (MPG123_QUIET is per handle).
// Those lines would turn voxenc's one-line errors into many. While a command runs, stdio's `stderr` points at
// /dev/null; voxenc's own messages are written to file descriptor 2 directly (`FileHandleStderr`) and are unaffected,
// and so is anything written to the descriptor itself (a Swift runtime error still shows).

// `stderr` is a C global: swapped on the main thread before the command starts its worker threads and after they end.
@preconcurrency import Glibc

enum LibraryDiagnostics {
    /// Points stdio's `stderr` at /dev/null; returns the stream to restore, or nil when nothing was changed.
    static func silence() -> UnsafeMutablePointer<FILE>? {
        guard let null = fopen("/dev/null", "w") else { return nil }
        let saved = stderr
        stderr = null
        return saved
    }

    /// Undoes `silence()`.
    static func restore(_ saved: UnsafeMutablePointer<FILE>?) {
        guard let saved else { return }
        let null = stderr
        stderr = saved
        if let null, null != saved { fclose(null) }
    }
}
