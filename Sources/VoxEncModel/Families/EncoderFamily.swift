// The seam between the engine and a kind of encoder (after mlx-swift-lm's model registry, transformers'
// models/<family>/ + auto mappings, and WhisperKit's stage protocols). A family recognises its model directories and
// loads them; the loaded model states its front end and its output geometry, and makes sessions; a session owns the
// run state (workspace; for a causal model, KV and conv state too) and turns mel blocks into rows. The engine
// (VoxEnc: Embedder, BatchEncoder) knows only these three protocols. Adding a family: docs/architecture.md.

/// A kind of audio encoder: one folder under Families/ plus one line in `EncoderFamilies.all`.
public protocol EncoderFamily: SendableMetatype {
    /// Lower-case name ("whisper"), for messages and `voxenc info`.
    static var name: String { get }
    /// Whether `directory` holds a model of this family (reads its small config files at most).
    static func recognises(directory: String) -> Bool
    /// Reads the model in `directory` and makes its kernels as `policy` says, on the caller's threads
    /// (Parallel.withThreads).
    static func load(directory: String, policy: PrecisionPolicy) throws(EncoderLoadError) -> any EncoderModel
    /// What `load` would make, without keeping the weights (every tensor is still read and checked).
    static func describe(directory: String, threads: Int) throws(ModelError) -> ModelSummary
}

/// A loaded model: immutable weights and kernels, shared by every thread; the run state lives in sessions.
public protocol EncoderModel: Sendable {
    /// Where it came from, its shapes and the digest of its weights.
    var description: ModelDescription { get }
    /// The arithmetic its kernels were made with.
    var policy: PrecisionPolicy { get }
    /// What its mel input is: bins, clamp and how the audio is cut into steps.
    var frontEnd: FrontEndPolicy { get }
    /// Whether it has an adapter (otherwise every output is encoder states).
    var hasAdapter: Bool { get }
    /// The rows `kind` produces: width and rows per step.
    func output(_ kind: EmbeddingKind) -> OutputGeometry
    /// Run state for batches of up to `capacity` steps on `threads` threads.
    func makeSession(capacity: Int, threads: Int) -> any EncoderSession
}

/// One caller's run state: owned by one thread at a time, reused across batches; encoding allocates nothing once the
/// session exists (the adapter's buffers are made on first use).
public protocol EncoderSession: AnyObject {
    /// Steps one call can encode.
    var capacity: Int { get }
    /// `steps` mel blocks [M, framesPerStep] each (`frontEnd`'s) → `kind`'s rows [steps · rowsPerStep, width] in
    /// `output`. Returns the seconds spent in the encoder and in the adapter.
    func encode(mel: UnsafePointer<Float>, steps: Int, kind: EmbeddingKind,
                into output: UnsafeMutablePointer<Float>) -> (encoder: Double, adapter: Double)
    /// Encoder states [rows, D] (whole steps) → adapter rows, for callers that run the two stages apart.
    func adapt(states: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>)
}

/// A model whose encoder is causal (FrontEndPolicy.Steps.causalTokens): it runs on a stream of mel tokens, each
/// token's rows final as soon as it is encoded, and the whole-file output is the same stream run to its end.
public protocol CausalEncoderModel: EncoderModel {
    /// A new stream's run state, positions from 0 (the silent left pad comes first, as the model expects). `offset`
    /// (tokens, 0 ..< runTokens) moves where the stream's runs fall within a step: its whole runs end `offset` tokens
    /// later than offset 0's, and its rows are the same bits.
    func makeStream(kind: EmbeddingKind, threads: Int, offset: Int) -> any CausalEncoderStream
    /// Tokens one run of a stream computes without computing any twice (a block).
    var runTokens: Int { get }
    /// Whether makeStream honours `offset` (else it takes 0): true when every kernel gives a row the same bits
    /// wherever it sits in its call, which depends on the GEMM route and the CPU, so it is computed once per model.
    var takesOffsets: Bool { get }
    /// Encodes the pending tokens of several of this model's streams together, on `threads` threads: a kernel call
    /// serves blocks of every stream (each weight is read once for all of them), and each stream's rows are the ones
    /// it would get alone, bit for bit. Returns, per request, the seconds of the runs it took part in (encoder,
    /// adapter). A stream appears at most once.
    func encodePending(_ requests: [CausalEncodeRequest], threads: Int) -> [(encoder: Double, adapter: Double)]
}

/// One stream's share of an encoder run: its appended tokens not yet encoded, up to token `end` (all when nil),
/// their rows handed to `sink` in order ([tokens · rowsPerToken, width], possibly in several pieces).
public struct CausalEncodeRequest {
    public let stream: any CausalEncoderStream
    public let end: Int?
    public let sink: (UnsafeBufferPointer<Float>) -> Void

    public init(stream: any CausalEncoderStream, end: Int?, sink: @escaping (UnsafeBufferPointer<Float>) -> Void) {
        (self.stream, self.end, self.sink) = (stream, end, sink)
    }
}

/// One stream's run state: owned by one thread at a time. Fed normalised mel tokens in order; encodes the pending
/// ones on request. A token's rows do not depend on how the tokens were grouped into calls (bit for bit).
public protocol CausalEncoderStream: AnyObject {
    /// Tokens appended so far.
    var tokensAppended: Int { get }
    /// Tokens whose rows have been handed out.
    var tokensEncoded: Int { get }
    /// Appends `tokens` mel tokens, [tokens · framesPerToken, M] time-major (frame after frame).
    func append(mel: UnsafePointer<Float>, tokens: Int)
    /// Encodes the appended tokens not yet encoded, up to token `end` (all of them when nil), and hands their rows to
    /// `sink` in order ([tokens · rowsPerToken, width]). Returns the seconds spent in the encoder and in the adapter.
    func encodePending(upTo end: Int?, _ sink: (UnsafeBufferPointer<Float>) -> Void) -> (encoder: Double, adapter: Double)
    /// Bytes of the stream's own state (key/value rings; the work buffers of a run are the model's).
    var byteCount: Int { get }
}
