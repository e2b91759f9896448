// Decoding through libsndfile: WAV (8/16/24/32-bit PCM, float), AIFF, FLAC, OGG Vorbis, Opus, MP3.
// Integer PCM reads as x / 2^(bits-1), what python-soundfile (used by mistral-common) returns with dtype="float32".

import CSndFile
import Foundation
import Synchronization

/// What libsndfile reports about an opened file.
public struct AudioFileInfo: Sendable, Equatable {
    public var path: String
    /// Native sample rate (Hz).
    public var sampleRate: Int
    public var channelCount: Int
    /// Frames the header declares; an estimate for MP3 and for damaged files. Decoding reads until the end.
    public var declaredFrameCount: Int
    /// Container and encoding, e.g. "WAV PCM_16" or "FLAC PCM_24".
    public var formatName: String
}

/// An open audio file, decoded in blocks of interleaved float frames. Not thread-safe: one reader per file.
public final class AudioFile {
    public let info: AudioFileInfo
    /// Damage libsndfile noticed but could read past (e.g. a WAV whose header declares more data than the file
    /// holds: truncated, or still being written). The readable frames are decoded; callers should warn.
    public let warnings: [String]
    private let handle: OpaquePointer
    /// The bytes libsndfile reads through its callbacks, for a file held in memory (kept alive with the handle).
    private let source: EncodedBytes?

    /// Opens `path` for decoding. Checks existence and file type first, so that each failure gets its own error.
    public convenience init(path: String) throws(AudioError) {
        try Self.checkIsReadableRegularFile(path)
        try self.init(label: path, source: nil) { info in sf_open(path, Int32(SFM_READ), &info) }
    }

    /// Opens an encoded file held in memory (libsndfile's virtual I/O: no temporary file). `name` stands for the
    /// path in errors and warnings, e.g. the upload's file name.
    public convenience init(bytes: [UInt8], name: String) throws(AudioError) {
        let source = EncodedBytes(bytes)
        try self.init(label: name, source: source) { info in source.open(&info) }
    }

    private init(label path: String, source: EncodedBytes?,
                 open: (inout SF_INFO) -> OpaquePointer?) throws(AudioError) {
        var sfInfo = SF_INFO()
        // libsndfile keeps a failed open's message in a process-wide buffer (sf_strerror(NULL)): opens are serialised
        // so that the message read is this open's, not a concurrent one's (seen under parallel tests).
        let opened = Self.openLock.withLock { _ -> Result<OpaquePointer, AudioError> in
            guard let handle = open(&sfInfo) else {
                let reason = String(cString: sf_strerror(nil))
                let head = source.map { Array($0.bytes.prefix(16)) } ?? Self.head(ofFileAt: path)
                return .failure(Self.classifyOpenFailure(path: path, head: head, libraryReason: reason))
            }
            return .success(handle)
        }
        let handle = try opened.get()
        guard sfInfo.channels > 0 else {
            sf_close(handle)
            throw .corrupt(path: path, reason: "header declares \(sfInfo.channels) channels")
        }
        guard sfInfo.samplerate >= Self.sampleRateRange.lowerBound, sfInfo.samplerate <= Self.sampleRateRange.upperBound else {
            sf_close(handle)
            throw .invalidSampleRate(path: path, sampleRate: Int(sfInfo.samplerate))
        }
        self.handle = handle
        self.source = source
        self.warnings = Self.damageWarnings(handle)
        self.info = AudioFileInfo(
            path: path, sampleRate: Int(sfInfo.samplerate), channelCount: Int(sfInfo.channels),
            declaredFrameCount: Int(max(0, sfInfo.frames)), formatName: Self.formatName(sfInfo.format))
    }

    private static let openLock = Mutex(())

    deinit { sf_close(handle) }

    /// Rates accepted (Hz). Below 1 kHz a header is damaged, not audio: resampling 1 Hz to 16 kHz would turn 16 kB
    /// into a gigabyte of samples (found by the audio fuzzer). Above 1.536 MHz no converter or codec exists.
    public static let sampleRateRange: ClosedRange<Int32> = 1_000...1_536_000

    /// Decodes up to `frameCapacity` frames (interleaved, `channelCount` floats each) into `buffer`.
    /// Returns the number of frames read; 0 at the end of the stream.
    public func readFrames(into buffer: UnsafeMutablePointer<Float>, frameCapacity: Int) throws(AudioError) -> Int {
        let count = sf_readf_float(handle, buffer, sf_count_t(frameCapacity))
        if count < 0 || (count == 0 && sf_error(handle) != 0) {
            throw .corrupt(path: info.path, reason: String(cString: sf_strerror(handle)))
        }
        return Int(count)
    }

    /// libsndfile's own log says "data : 160000 (should be 79979)" when a chunk's declared length disagrees with
    /// the file; turn that into one readable line.
    static func damageWarnings(_ handle: OpaquePointer) -> [String] {
        var log = [CChar](repeating: 0, count: 16384)
        _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(should be") else { return nil }
            let words = line.split(whereSeparator: { " :()".contains($0) })
            if words.first == "data", words.count >= 5, let declared = Int(words[1]), let present = Int(words[4]) {
                return "the header declares \(declared) bytes of audio data, the file holds \(present): decoded what is there (truncated, or still being written?)"
            }
            return nil  // RIFF/FORM size lines repeat what the data line says
        }
    }

    // MARK: - Classification of failures

    static func checkIsReadableRegularFile(_ path: String) throws(AudioError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        guard access(path, R_OK) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// The first 16 bytes of a file (nil: unreadable), to classify a failed open.
    static func head(ofFileAt path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: 16)) ?? Data())
    }

    /// libsndfile says "Format not recognised" for everything it cannot open; the magic bytes tell the user more.
    static func classifyOpenFailure(path: String, head: [UInt8]?, libraryReason: String) -> AudioError {
        guard let head else { return .unreadable(path: path, reason: libraryReason) }
        if head.isEmpty { return .corrupt(path: path, reason: "empty file (0 bytes)") }
        if let container = unsupportedContainer(magic: head) {
            return .unsupportedFormat(path: path, detected: container)
        }
        return .corrupt(path: path, reason: readableReason(libraryReason, head: head))
    }

    /// libsndfile's text for a decoder that gave up while opening (SFE_BAD_FILE, "File does not exist or is not a
    /// regular file (possibly a pipe?)") is wrong here: the file was checked to exist and be regular. It happens when
    /// bytes that look like an MPEG audio frame header (or an ID3 tag) lead libsndfile to hand the file to libmpg123,
    /// which finds no stream. Say that instead.
    static func readableReason(_ libraryReason: String, head: [UInt8]) -> String {
        guard libraryReason.contains("does not exist or is not a regular file") else { return "libsndfile: \(libraryReason)" }
        let looksLikeMPEG = (head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) || head.starts(with: Array("ID3".utf8))
        return looksLikeMPEG ? "not a recognised audio format (the first bytes look like MPEG audio, but no stream decodes)"
                             : "not a recognised audio format"
    }

    /// Names containers that libsndfile never decodes, from their first bytes.
    static func unsupportedContainer(magic head: [UInt8]) -> String? {
        func ascii(_ range: Range<Int>) -> String? {
            guard head.count >= range.upperBound else { return nil }
            return String(bytes: head[range], encoding: .ascii)
        }
        if ascii(4..<8) == "ftyp" { return "MP4/M4A container (AAC or ALAC)" }
        if head.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) { return "Matroska/WebM container" }
        if head.count >= 2, head[0] == 0xFF, head[1] & 0xF6 == 0xF0 { return "raw AAC (ADTS)" }
        if ascii(0..<4) == "RIFF", ascii(8..<12) == "AVI " { return "AVI container" }
        if ascii(0..<4) == "#!AM" { return "AMR" }
        if ascii(0..<4) == "fLaC" || ascii(0..<4) == "OggS" || ascii(0..<4) == "RIFF" { return nil }
        return nil
    }

    static func formatName(_ format: Int32) -> String {
        let major: [Int32: String] = [
            Int32(SF_FORMAT_WAV): "WAV", Int32(SF_FORMAT_WAVEX): "WAVE_EXTENSIBLE", Int32(SF_FORMAT_AIFF): "AIFF",
            Int32(SF_FORMAT_FLAC): "FLAC", Int32(SF_FORMAT_OGG): "OGG", Int32(SF_FORMAT_MPEG): "MPEG",
            Int32(SF_FORMAT_RF64): "RF64", Int32(SF_FORMAT_W64): "W64", Int32(SF_FORMAT_CAF): "CAF",
            Int32(SF_FORMAT_AU): "AU",
        ]
        let minor: [Int32: String] = [
            Int32(SF_FORMAT_PCM_S8): "PCM_S8", Int32(SF_FORMAT_PCM_U8): "PCM_U8", Int32(SF_FORMAT_PCM_16): "PCM_16",
            Int32(SF_FORMAT_PCM_24): "PCM_24", Int32(SF_FORMAT_PCM_32): "PCM_32", Int32(SF_FORMAT_FLOAT): "FLOAT",
            Int32(SF_FORMAT_DOUBLE): "DOUBLE", Int32(SF_FORMAT_VORBIS): "VORBIS", Int32(SF_FORMAT_OPUS): "OPUS",
            Int32(SF_FORMAT_MPEG_LAYER_III): "MP3", Int32(SF_FORMAT_ULAW): "ULAW", Int32(SF_FORMAT_ALAW): "ALAW",
        ]
        let majorName = major[format & Int32(SF_FORMAT_TYPEMASK)] ?? "0x\(String(format & Int32(SF_FORMAT_TYPEMASK), radix: 16))"
        let minorName = minor[format & Int32(SF_FORMAT_SUBMASK)] ?? "0x\(String(format & Int32(SF_FORMAT_SUBMASK), radix: 16))"
        return "\(majorName) \(minorName)"
    }
}
