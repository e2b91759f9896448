// Writes real audio files with libsndfile itself, so the decoder is tested on every container and encoding
// without committing them.

import CSndFile
import Foundation

public enum TestAudioFormat: String, CaseIterable, Sendable {
    case wavPCM16, wavPCM24, wavPCM32, wavFloat, wavPCMU8, flac16, flac24, oggVorbis, opus, mp3

    var sndfileFormat: Int32 {
        switch self {
        case .wavPCM16: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .wavPCM24: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24)
        case .wavPCM32: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32)
        case .wavFloat: return Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .wavPCMU8: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8)
        case .flac16: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .flac24: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_24)
        case .oggVorbis: return Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        case .opus: return Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)
        case .mp3: return Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        }
    }

    public var fileExtension: String {
        switch self {
        case .wavPCM16, .wavPCM24, .wavPCM32, .wavFloat, .wavPCMU8: return "wav"
        case .flac16, .flac24: return "flac"
        case .oggVorbis: return "ogg"
        case .opus: return "opus"
        case .mp3: return "mp3"
        }
    }

    /// Lossless formats reproduce int16-grid samples exactly.
    public var isLossless: Bool {
        switch self {
        case .oggVorbis, .opus, .mp3, .wavPCMU8: return false
        default: return true
        }
    }
}

public enum TestAudioWriter {
    /// Writes interleaved float frames (values in [-1, 1]) to `path` as `format`.
    public static func write(_ interleaved: [Float], channels: Int, sampleRate: Int, format: TestAudioFormat,
                             to path: String) throws {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = format.sndfileFormat
        guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw TestAudioWriterError(reason: "sf_open(\(path), \(format)): " + String(cString: sf_strerror(nil)))
        }
        // Integer files: no clipping surprises for values on the int16 grid.
        let frames = interleaved.count / channels
        let written = interleaved.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(frames)) }
        sf_close(handle)
        guard written == frames else {
            throw TestAudioWriterError(reason: "wrote \(written) of \(frames) frames to \(path)")
        }
    }
}

public struct TestAudioWriterError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// A fresh temporary directory, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "voxenc-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
}
