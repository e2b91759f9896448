// Batched real-to-complex FFTs of 400-sample frames through FFTW, in double precision.
// Why double: the clamp keeps mel energies down to 1e-8 of the loudest frame, where a float32 FFT's rounding noise
// (≈ 1e-7 of each frame's own peak) decides the value. A float32 FFTW result differs from torch's float32 (MKL) STFT
// there by up to 1.2e-4 after normalisation (SPEC Test B chirp); in float64 the difference is only torch's own error
// (≤ 6.6e-5), for +0.25 ms per 30 s.
// FFTW's planner is not thread-safe; execution with the new-array interface is (FFTW manual, "Thread safety").
// The plan is therefore made once per process under a lock, and each caller brings its own aligned buffers.
// FFTW_ESTIMATE keeps the plan, and so the output bits, the same in every run (FFTW_MEASURE may pick another
// algorithm each time it times them).

import CFFTW3
import Synchronization

/// FFTs of `batchSize` frames of `FrontEndConfiguration.fftLength` samples, output bin-major [201, batchSize].
final class BatchedRealFFT: @unchecked Sendable {  // the plan is immutable after creation; execution is thread-safe
    /// Frames per block: one SIMD8<Float> of frames per mel value downstream.
    static let batchSize = 8
    /// Frames per FFTW call: 4 doubles fill one AVX register, FFTW's fastest vector layout here.
    static let planBatch = 4
    static let shared = BatchedRealFFT()
    private static let plannerLock = Mutex(())

    let plan: fftw_plan

    private init() {
        let length = Int32(FrontEndConfiguration.fftLength)
        let bins = FrontEndConfiguration.frequencyBinCount
        plan = Self.plannerLock.withLock { _ in
            let input = fftw_alloc_real(Self.batchSize * Int(length))!
            let output = fftw_alloc_complex(Self.batchSize * bins)!
            defer { fftw_free(input); fftw_free(output) }
            var size = length
            // Input: frame after frame (idist 400). Output: element (bin b, frame k) at b·8 + k (ostride 8, odist 1),
            // so one bin of all 8 frames is contiguous. Two calls (frames 0–3, then 4–7) fill a block.
            return fftw_plan_many_dft_r2c(1, &size, Int32(Self.planBatch), input, nil, 1, length,
                                          output, nil, Int32(Self.batchSize), 1, UInt32(FFTW_ESTIMATE))!
        }
    }

    /// Transforms the 8 frames of `workspace.frames` [8, 400] into `workspace.spectra` [201, 8] complex.
    func execute(_ workspace: Workspace) {
        let half = Self.planBatch
        fftw_execute_dft_r2c(plan, workspace.frames, workspace.spectra)
        fftw_execute_dft_r2c(plan, workspace.frames + half * FrontEndConfiguration.fftLength, workspace.spectra + half)
    }

    /// Aligned per-caller buffers.
    final class Workspace {
        let frames: UnsafeMutablePointer<Double>
        let spectra: UnsafeMutablePointer<fftw_complex>
        init() {
            frames = fftw_alloc_real(BatchedRealFFT.batchSize * FrontEndConfiguration.fftLength)!
            spectra = fftw_alloc_complex(BatchedRealFFT.batchSize * FrontEndConfiguration.frequencyBinCount)!
            frames.initialize(repeating: 0, count: BatchedRealFFT.batchSize * FrontEndConfiguration.fftLength)
        }
        deinit {
            fftw_free(frames)
            fftw_free(spectra)
        }
    }
}
