// A live stream through a causal model (Voxtral Realtime): push samples as they arrive, pull each row as soon as it
// is final, finish at the end. The whole-file embedding of a causal model is this stream with all the audio pushed
// at once, so streamed output equals offline output bit for bit, whatever the push sizes and the step.
// Reference: mistral-common's streaming padding (32 silent tokens on the left; offline, zeros to whole tokens plus
// 17 tokens on the right) and VoxtralRealtimeFeatureExtractor (fixed clamp); docs/live.md.
// One token = 80 ms = 1280 samples at 16 kHz = 8 mel frames = one adapter row (or 4 encoder rows). Token t's frames
// read padded samples up to 1280·(t + 1) + 40, so a token is final 2.5 ms after it ends.

import VoxEncAudio
import VoxEncModel

/// Owned by one caller at a time (`@unchecked Sendable` so that an owner may hand it to a worker thread and back:
/// the C ABI serialises calls with a lock, the server awaits each call before the next).
public final class StreamingSession: @unchecked Sendable {
    public let embedder: Embedder
    public let kind: EmbeddingKind
    /// The encoder runs each time the stream reaches a multiple of this many tokens (one call reads every weight
    /// once: 6 tokens = 480 ms, one 24-position block).
    public let stepTokens: Int
    /// The step's boundaries fall at tokens offsetTokens + k · stepTokens of the stream (the left pad's counted):
    /// streams of different offsets run at different moments (StreamBatcher.offset spreads a server's streams).
    public let offsetTokens: Int
    /// Values per row, rows per token (80 ms).
    public let width: Int
    public let rowsPerToken: Int
    /// Rows before the audio (the silent left pad's tokens), the same for every stream of the model.
    public let leadingPadRows: Int
    /// Audio (16 kHz samples) the stream may take before push fails; nil for no limit.
    public let maximumSamples: Int?

    private let stream: any CausalEncoderStream
    private let spectrogram: LogMelSpectrogram
    private let top: Float
    let leftPadTokens: Int
    private let rightPadTokens: Int
    /// Padded samples [bufferStart, bufferStart + buffer.count).
    private var buffer: [Float]
    private var bufferStart = 0
    private var audioSamples = 0
    private var tokensWithMel = 0
    private var resampler: Resampler?
    private var inputRate: Int?
    private var ready: [Float] = []
    public private(set) var isFinished = false
    /// Rows handed out by `pull` and `finish` so far.
    public private(set) var rowsPulled = 0
    /// Seconds spent in the encoder and adapter so far.
    public private(set) var encoderSeconds = 0.0, adapterSeconds = 0.0
    private var melScratch: [Float] = [], melFrames: [Float] = []

    static let samplesPerToken = 1280
    static let framesPerToken = 8

    /// A stream on `embedder`'s model, which must be causal. `stepMilliseconds`: a positive multiple of 80.
    /// `offsetTokens` (taken modulo the step) moves the step's boundaries that many tokens later; the rows are the
    /// same bits whatever it is. It is 0 when the model's kernels cannot move (CausalEncoderModel.takesOffsets).
    public init(embedder: Embedder, stepMilliseconds: Int = 480, kind: EmbeddingKind? = nil,
                maximumSeconds: Double? = nil, offsetTokens: Int = 0) throws(VoxEncError) {
        guard let model = embedder.encoderModel as? any CausalEncoderModel,
              case .causalTokens(let frames, let left, let right) = model.frontEnd.steps,
              case .fixed(let top) = model.frontEnd.clamp else {
            throw .stream(.notCausal(model: embedder.model.path, family: embedder.familyName))
        }
        precondition(frames == Self.framesPerToken, "tokens of 8 mel frames")
        guard stepMilliseconds > 0, stepMilliseconds % 80 == 0 else {
            throw .stream(.invalidStep(milliseconds: stepMilliseconds))
        }
        self.embedder = embedder
        self.kind = embedder.resolvedKind(kind)
        stepTokens = stepMilliseconds / 80
        let offset = (offsetTokens % stepTokens + stepTokens) % stepTokens
        self.offsetTokens = offset != 0 && model.takesOffsets ? offset : 0
        let output = embedder.output(self.kind)
        width = output.width
        rowsPerToken = output.rowsPerStep
        leadingPadRows = left * output.rowsPerStep
        maximumSamples = maximumSeconds.map { Int($0 * 16_000) }
        stream = model.makeStream(kind: self.kind, threads: embedder.configuration.threadCount,
                                  offset: self.offsetTokens % model.runTokens)
        spectrogram = embedder.frontEnd
        self.top = top
        leftPadTokens = left
        rightPadTokens = right
        buffer = [Float](repeating: 0, count: left * Self.samplesPerToken)
    }

    /// Bytes of this stream's run state (key/value rings and buffers).
    public var stateBytes: Int { stream.byteCount }

    /// Appends samples (mono, any rate, the same rate for the whole stream; resampled to 16 kHz with soxr HQ as
    /// they come) and runs the encoder each time the final tokens reach a multiple of the step. Refused input (NaN,
    /// a changed rate, over the limit) leaves the stream as it was.
    public func push(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int = 16_000) throws(VoxEncError) {
        try appendAudio(samples, sampleRate: sampleRate)
        Self.encode([(self, .wholeSteps)])
    }

    /// `push` without running the encoder: the audio is taken and its mel computed; `encode` (or a StreamBatcher)
    /// runs the encoder later, for this stream alone or together with others.
    public func appendAudio(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int = 16_000) throws(VoxEncError) {
        guard !isFinished else { throw .stream(.finished) }
        guard sampleRate > 0 && sampleRate <= 1_000_000 else { throw .stream(.invalidSampleRate(sampleRate)) }
        if let inputRate, inputRate != sampleRate { throw .stream(.sampleRateChanged(from: inputRate, to: sampleRate)) }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) { throw .stream(.nonFiniteSample(index: bad)) }
        if let maximumSamples {  // refused before anything is appended: the stream stays as it was
            let incoming = Int((Double(samples.count) * 16_000 / Double(sampleRate)).rounded(.up))
            if audioSamples + incoming > maximumSamples {
                throw .stream(.tooLong(seconds: Double(audioSamples + incoming) / 16_000,
                                       limit: Double(maximumSamples) / 16_000))
            }
        }
        if inputRate == nil {
            inputRate = sampleRate
            if sampleRate != 16_000 {
                do { resampler = try Resampler(inputRate: Double(sampleRate), outputRate: 16_000) } catch {
                    throw .audio(.resamplerFailed(path: "<stream>", reason: error.reason))
                }
            }
        }
        var added = 0
        if let resampler {
            let before = buffer.count
            do { try resampler.process(samples, appendingTo: &buffer) } catch {
                throw .audio(.resamplerFailed(path: "<stream>", reason: error.reason))
            }
            added = buffer.count - before
        } else {
            buffer.append(contentsOf: samples)
            added = samples.count
        }
        audioSamples += added
        // Whole tokens whose frames have all their samples: token t reads up to 1280·(t + 1) + 40.
        let available = bufferStart + buffer.count
        let complete = max(0, (available - 40) / Self.samplesPerToken)
        appendMel(upTo: complete, totalCount: nil)
    }

    public func push(_ samples: [Float], sampleRate: Int = 16_000) throws(VoxEncError) {
        try samples.withUnsafeBufferPointer { buffer throws(VoxEncError) in try push(buffer, sampleRate: sampleRate) }
    }

    public func appendAudio(_ samples: [Float], sampleRate: Int = 16_000) throws(VoxEncError) {
        try samples.withUnsafeBufferPointer { buffer throws(VoxEncError) in try appendAudio(buffer, sampleRate: sampleRate) }
    }

    /// Runs the encoder now on every whole token pending, step or not (a client's commit): the rows of all audio
    /// pushed so far that is final (up to 2.5 ms before its end) become ready.
    public func flush() { Self.encode([(self, .everything)]) }

    /// Every row final so far and not yet pulled, [rows, width] flattened (empty when none).
    public func pull() -> [Float] {
        defer { ready.removeAll(keepingCapacity: true) }
        rowsPulled += ready.count / width
        return ready
    }

    /// Ends the audio: the offline right pad (zeros to a whole token, then the model's right-pad tokens) is added and
    /// every remaining row is computed. Returns the rows not yet pulled.
    @discardableResult
    public func finish() throws(VoxEncError) -> [Float] {
        try endAudio()
        Self.encode([(self, .everything)])
        return pull()
    }

    /// `finish` without running the encoder: the right pad is appended and no audio is taken after it; an encode of
    /// `.everything` then computes the remaining rows.
    public func endAudio() throws(VoxEncError) {
        guard !isFinished else { throw .stream(.finished) }
        isFinished = true
        if let resampler {
            let before = buffer.count
            do { try resampler.finish(appendingTo: &buffer) } catch { throw .audio(.resamplerFailed(path: "<stream>", reason: error.reason)) }
            audioSamples += buffer.count - before
        }
        let t = Self.samplesPerToken
        let audioTokens = (audioSamples + t - 1) / t
        let total = (leftPadTokens + audioTokens + rightPadTokens) * t
        buffer += repeatElement(0, count: total - (bufferStart + buffer.count))
        appendMel(upTo: total / t, totalCount: total)
    }

    /// Rows covering the audio pushed so far (whole tokens, rounded up), after the leading pad rows.
    public var audioRows: Int { (audioSamples + Self.samplesPerToken - 1) / Self.samplesPerToken * rowsPerToken }
    /// 16 kHz samples of audio pushed so far.
    public var audioSampleCount: Int { audioSamples }

    /// How much of a stream's pending tokens an encoder run takes.
    public enum EncodeScope: Sendable {
        /// Up to the step's last boundary (tokens offset + 6, offset + 12, … for 480 ms), so that a run covers whole
        /// 24-position blocks and never computes a block twice: what `push` runs.
        case wholeSteps
        /// Every whole token pending: what `flush` and `finish` run.
        case everything
        /// Every whole token pending up to the end of the audio, not the right pad after it: after `endAudio`, the
        /// rows a live client is waiting for, one short run before `.everything` computes the pad's (which computes
        /// the audio's last block again, with the same bits).
        case audio
    }

    /// The token a run of `scope` reaches, or nil when it has nothing to compute.
    func encodeTarget(_ scope: EncodeScope) -> Int? {
        let target = switch scope {
        case .wholeSteps:
            stream.tokensAppended < offsetTokens ? 0
                : offsetTokens + (stream.tokensAppended - offsetTokens) / stepTokens * stepTokens
        case .everything: stream.tokensAppended
        case .audio: min(stream.tokensAppended, leftPadTokens + (audioSamples + Self.samplesPerToken - 1) / Self.samplesPerToken)
        }
        return target > stream.tokensEncoded ? target : nil
    }

    /// Whether a run of `scope` has anything to compute for this stream.
    public func hasPending(_ scope: EncodeScope) -> Bool { encodeTarget(scope) != nil }

    /// Runs the encoder for several streams at once (each at most once): the streams of one model share every
    /// kernel call, each weight read once for all of them, and each gets the rows it would get alone, bit for bit.
    /// Their rows become ready to pull.
    public static func encode(_ work: [(StreamingSession, EncodeScope)]) {
        var groups: [ObjectIdentifier: [(StreamingSession, Int)]] = [:]
        var order: [ObjectIdentifier] = []
        for (session, scope) in work {
            guard let target = session.encodeTarget(scope) else { continue }
            let key = ObjectIdentifier(session.embedder.encoderModel as AnyObject)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((session, target))
        }
        for key in order {
            let group = groups[key]!
            // A session exists only on a causal model (init checks it).
            let model = group[0].0.embedder.encoderModel as! any CausalEncoderModel
            let requests = group.map { session, target in
                CausalEncodeRequest(stream: session.stream, end: target) { rows in session.ready.append(contentsOf: rows) }
            }
            let seconds = model.encodePending(requests, threads: group[0].0.embedder.configuration.threadCount)
            for ((session, _), spent) in zip(group, seconds) {
                session.encoderSeconds += spent.encoder
                session.adapterSeconds += spent.adapter
            }
        }
    }

    /// Computes the mel of tokens tokensWithMel ..< `tokens` and hands it to the encoder's stream; drops the samples
    /// no later frame reads.
    private func appendMel(upTo tokens: Int, totalCount: Int?) {
        guard tokens > tokensWithMel else { return }
        let frames = (tokensWithMel * Self.framesPerToken)..<(tokens * Self.framesPerToken)
        let melBins = spectrogram.configuration.melBinCount
        if melFrames.count < frames.count * melBins {
            melFrames = [Float](repeating: 0, count: frames.count * melBins)
            melScratch = melFrames
        }
        buffer.withUnsafeBufferPointer { samples in
            melScratch.withUnsafeMutableBufferPointer { scratch in
                melFrames.withUnsafeMutableBufferPointer { out in
                    spectrogram.fixedClampFrames(samples: samples, start: bufferStart, totalCount: totalCount,
                                                 frames: frames, top: top, scratch: scratch.baseAddress!,
                                                 into: out.baseAddress!)
                }
            }
        }
        melFrames.withUnsafeBufferPointer { stream.append(mel: $0.baseAddress!, tokens: tokens - tokensWithMel) }
        tokensWithMel = tokens
        // The next frame, 8·tokens, reads from 160·8·tokens − 200.
        let keepFrom = max(0, tokens * Self.samplesPerToken - FrontEndConfiguration.fftLength / 2)
        if keepFrom > bufferStart {
            buffer.removeFirst(keepFrom - bufferStart)
            bufferStart = keepFrom
        }
    }
}
