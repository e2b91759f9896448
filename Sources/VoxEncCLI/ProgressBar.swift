// One status line on a terminal's stderr, redrawn in place: files done/total, hours of audio, real-time factor, ETA.
// Only when stderr is a terminal (never in logs), and cleared before any other line is printed.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import VoxEnc

final class ProgressBar {
    private var lastDraw = 0.0
    private var visible = false

    /// Redraws at most ten times a second, and always for the last file.
    func show(_ progress: JobProgress) {
        let time = Date().timeIntervalSince1970
        guard time - lastDraw >= 0.1 || progress.filesDone == progress.filesTotal else { return }
        lastDraw = time
        FileHandleStderr.write("\r\u{1B}[K" + Self.line(progress))
        visible = true
    }

    func clear() {
        if visible { FileHandleStderr.write("\r\u{1B}[K"); visible = false }
    }

    func finish() { clear() }

    /// `[#######.............] 12/40 files · 0.53 h audio · 85.2× real time · ETA 0:03:12 · 1 failed`
    static func line(_ progress: JobProgress, width: Int = 20) -> String {
        let fraction = progress.filesTotal > 0 ? Double(progress.filesDone) / Double(progress.filesTotal) : 1
        let filled = min(width, Int(fraction * Double(width)))
        var line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line += "\(progress.filesDone)/\(progress.filesTotal) files · "
        line += String(format: "%.2f h audio · %.1f× real time", progress.audioSeconds / 3600, progress.realTimeFactor)
        if let left = progress.estimatedSecondsLeft { line += " · ETA " + duration(left) }
        if progress.failed > 0 { line += " · \(progress.failed) failed" }
        return line
    }

    /// 3:12 or 1:02:03.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}
