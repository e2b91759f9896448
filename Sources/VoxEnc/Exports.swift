// The facade's surface: `import VoxEnc` gives an app what it uses to embed audio — Embedder and its configuration,
// the results and their metadata, batch jobs, the serving queue, output files and the errors — and no kernel,
// routing, weight or front-end internals. The types below come from the modules underneath, named here once.
// The engine room (VoxEncModel: families, kernels, formats, precision; VoxEncAudio: decode, resample, log-mel) is
// imported by name where it is needed (the benchmarks, the tests): `@_spi(Engine) import VoxEnc` adds the
// Embedder's own engine-room accessors. Each type is re-exported alone (a scoped `@_exported import`), so a file that
// imports the module underneath too sees one declaration, not two.

import VoxEncAudio
import VoxEncModel

// MARK: - Audio in
/// 16 kHz mono float32 samples, decoded and resampled (VoxEncAudio).
@_exported import struct VoxEncAudio.Waveform
/// Which channel of the input to embed, or their average.
@_exported import enum VoxEncAudio.ChannelSelection
/// Why audio could not be read: names the file and the problem, with a hint.
@_exported import enum VoxEncAudio.AudioError
/// One step of log-mel [M, frames], for the stage calls (`Embedder.melChunks`, `encode`).
@_exported import struct VoxEncAudio.MelChunk

// MARK: - The model and its arithmetic
/// What a loaded model is: layout, shapes, stored dtype, parameter count, digest.
@_exported import struct VoxEncModel.ModelDescription
@_exported import struct VoxEncModel.EncoderConfiguration
@_exported import struct VoxEncModel.AdapterConfiguration
@_exported import struct VoxEncModel.CheckpointLayout
/// Why a model directory could not be read.
@_exported import enum VoxEncModel.ModelError
/// f32, bf16 or int8: the arithmetic of the large GEMMs.
@_exported import enum VoxEncModel.Precision
/// Why a precision cannot run here, or cannot quantise or pack these weights.
@_exported import enum VoxEncModel.PrecisionError
/// The float32 GEMM backend (nil in the configuration: chosen for this CPU).
@_exported import enum VoxEncModel.FloatGEMM
/// How a precision's GEMMs run here: backend, kernel, why (`Embedder.floatRoute`, `MachineSummary.routes`).
public typealias GEMMRoute = VoxEncModel.GEMMRouting.Route
/// Adapter output or encoder states.
@_exported import enum VoxEncModel.EmbeddingKind
/// Rows per step, width, seconds per step: the output's shape in time.
@_exported import struct VoxEncModel.OutputGeometry
/// A model directory described without loading it (`voxenc info`).
@_exported import struct VoxEncModel.ModelSummary
