// Named tolerances of the front-end tests, each with its reason.

enum FrontEndTolerance {
    /// Max |Δ| of normalised log-mel vs WhisperFeatureExtractor (issue bound). torch's own float32 STFT differs from an
    /// exact float64 computation by up to 4.5e-5; a wrong window, padding or clamp shows up as ≥ 1e-2.
    static let melMaxAbsolute = 1e-4
    /// Mean |Δ| over the compared values (issue bound); a careful float32 implementation lands near 2e-7.
    static let melMeanAbsolute = 1e-6
    /// |mean(ours) − mean(reference)| over the whole [M, F]: the frames between the stored ones.
    static let melWholeMean = 1e-6
    /// SPEC.md §1.8 values are printed with 6 decimals from a float64 computation; float32 FFTs agree to ≈ 1e-5.
    static let specTableValue = 3e-5
    /// Filterbank vs the reference's float32 filters: same float64 construction; libm log/exp may differ in the last
    /// float64 ulp, which is far below one float32 ulp (≈ 1e-9 at these magnitudes).
    static let filterbank: Float = 1e-7
    /// Resampled samples vs python-soxr (issue bound): both run libsoxr 0.1.3 HQ; builds may differ in FFT code.
    static let resampledMaxAbsolute = 1e-4
}
