// Which of a model's outputs a call asks for.

/// What `embed` returns.
public enum EmbeddingKind: String, Sendable, Codable {
    /// The adapter's output: the language model's width, the family's adapter rate (Voxtral: 375 rows per 30 s).
    case adapter
    /// The encoder's last hidden state, d_model wide (Whisper models, --encoder-only).
    case encoder
}
