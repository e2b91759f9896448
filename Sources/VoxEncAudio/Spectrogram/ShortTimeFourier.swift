// Batched real-to-complex FFTs of 400-sample frames through FFTW (single precision).
// FFTW's planner is not thread-safe; execution with the new-array interface is (FFTW manual, "Thread safety").
// The plan is therefore made once per process under a lock, and each caller brings its own aligned buffers.
// FFTW_ESTIMATE keeps the plan, and so the output bits, the same in every run (FFTW_MEASURE may pick another
// algorithm each time it times them).

import CFFTW3
import Synchronization

/// A plan for `batchSize` FFTs of `FrontEndConfiguration.fftLength` real samples each.
final class BatchedRealFFT: @unchecked Sendable {  // the plan is immutable after creation; execution is thread-safe
    static let batchSize = 8  // one SIMD8 vector of frames per bin; FFTW is as fast at 8 as at 32 here
    static let shared = BatchedRealFFT()
    private static let plannerLock = Mutex(())

    let plan: fftwf_plan

    private init() {
        let length = Int32(FrontEndConfiguration.fftLength)
        let bins = Int32(FrontEndConfiguration.frequencyBinCount)
        let batch = Self.batchSize
        plan = Self.plannerLock.withLock { _ in
            let input = fftwf_alloc_real(batch * Int(length))!
            let output = fftwf_alloc_complex(batch * Int(bins))!
            defer { fftwf_free(input); fftwf_free(output) }
            var size = length
            // Input: frame after frame (idist 400). Output: bin-major [201, batch] (ostride batch, odist 1), so
            // the power of one bin for all frames of the batch is contiguous for the vectorised filterbank.
            return fftwf_plan_many_dft_r2c(1, &size, Int32(batch), input, nil, 1, length, output, nil, Int32(batch), 1,
                                           UInt32(FFTW_ESTIMATE))!
        }
    }

    /// Transforms `batchSize` frames: `input` [batch, 400] → `output` [201, batch] complex (re, im interleaved).
    /// Both buffers must come from `Workspace` (FFTW's SIMD alignment).
    func execute(_ workspace: Workspace) {
        fftwf_execute_dft_r2c(plan, workspace.frames, workspace.spectra)
    }

    /// Aligned per-caller buffers.
    final class Workspace {
        let frames: UnsafeMutablePointer<Float>
        let spectra: UnsafeMutablePointer<fftwf_complex>
        init() {
            frames = fftwf_alloc_real(BatchedRealFFT.batchSize * FrontEndConfiguration.fftLength)!
            spectra = fftwf_alloc_complex(BatchedRealFFT.batchSize * FrontEndConfiguration.frequencyBinCount)!
            frames.initialize(repeating: 0, count: BatchedRealFFT.batchSize * FrontEndConfiguration.fftLength)
        }
        deinit {
            fftwf_free(frames)
            fftwf_free(spectra)
        }
        /// The spectra as interleaved floats [201, batch, 2].
        var spectrumFloats: UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(spectra).assumingMemoryBound(to: Float.self)
        }
    }
}
