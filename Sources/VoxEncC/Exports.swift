// The C ABI's functions (Sources/CVoxEncABI/include/voxenc.h documents each), over the Swift library's Embedder.
// Arguments are checked here, before any library call, so that bad input from C is an error, never a trap.

import CVoxEncABI
import VoxEnc
#if canImport(Glibc)
import Glibc
#endif

public typealias ErrorOut = UnsafeMutablePointer<OpaquePointer?>?
public typealias ResultPointer = UnsafeMutablePointer<voxenc_result>?

/// Stores `handle` in *out (when the caller asked for errors) and returns nil.
private func fail<T>(_ out: ErrorOut, _ handle: ErrorHandle) -> T? {
    out?.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    return nil
}

private func fail<T>(_ out: ErrorOut, _ error: any Error) -> T? { fail(out, ErrorHandle(ErrorReport(error))) }

private func model(_ pointer: OpaquePointer?) -> ModelHandle? {
    pointer.map { Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private func errorHandle(_ pointer: OpaquePointer?) -> ErrorHandle? {
    pointer.map { Unmanaged<ErrorHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// `values` [rows, width] as a result block, or an error when memory runs out (the one place results are made).
private func deliver(_ values: [Float], rows: Int, width: Int, frameRate: Double, validRows: Int, chunks: Int,
                     duration: Double, precision: Precision, kind: UnsafePointer<CChar>, _ out: ErrorOut) -> ResultPointer {
    let block = ResultBlock.make(values, rows: rows, width: width, frameRate: frameRate, validRows: validRows,
                                 chunks: chunks, duration: duration, precision: precision, kind: kind)
    return block ?? fail(out, ErrorHandle(ErrorReport(message: "out of memory for a [\(rows), \(width)] result",
                                                      hint: nil, category: .other)))
}

/// An embedding as a result block, written as the model's options ask (dtype, pooling).
private func result(_ embeddings: Embeddings, _ handle: ModelHandle, _ out: ErrorOut) -> ResultPointer {
    let encoding = handle.encoding
    let rows = encoding.pooling == .mean ? 1 : embeddings.frameCount
    let block = encoding.encoded(embeddings).withUnsafeBytes { bytes in
        ResultBlock.make(bytes, dtype: encoding.dtype, rows: rows, width: embeddings.dimension,
                         frameRate: embeddings.frameRate, validRows: encoding.pooling == .mean ? 1 : embeddings.validFrameCount,
                         chunks: embeddings.chunkCount, duration: embeddings.durationSeconds,
                         precision: embeddings.precision, kind: StaticCString.kind(embeddings.kind))
    }
    return block ?? fail(out, ErrorHandle(ErrorReport(message: "out of memory for a [\(rows), \(embeddings.dimension)] result",
                                                      hint: nil, category: .other)))
}

// MARK: - Library

@_cdecl("voxenc_version")
public func voxenc_version() -> UnsafePointer<CChar> { UnsafePointer(BuildInfo.version.pointer) }

@_cdecl("voxenc_build_info")
public func voxenc_build_info() -> UnsafePointer<CChar> { UnsafePointer(BuildInfo.json.pointer) }

@_cdecl("voxenc_options_init")
public func voxenc_options_init(_ options: UnsafeMutablePointer<voxenc_options>?) {
    options?.pointee = voxenc_options(threads: 0, precision: nil, encoder_only: 0, chunks_per_batch: 0, dtype: nil, pool: nil)
}

enum BuildInfo {
    static let version = CString(VoxEncVersion.string)
    static let json: CString = {
        let machine = MachineSummary()
        return CString(JSON.line([
            "version": VoxEncVersion.string, "abi": Int(VOXENC_ABI_VERSION), "cpu": machine.cpuBrand,
            "vector_level": machine.vectorLevel, "float32_gemm": machine.routes[0].backend,
            "precisions": Precision.allCases.filter(\.isSupported).map(\.rawValue),
        ]))
    }()
}

// MARK: - Model

/// voxenc_options.dtype and .pool → OutputEncoding, or the reason they are not one.
private func outputEncoding(_ options: UnsafePointer<voxenc_options>?) -> Result<OutputEncoding, ErrorHandle> {
    var encoding = OutputEncoding()
    if let name = options?.pointee.dtype {
        let text = String(cString: name)
        guard let dtype = OutputDType(rawValue: text) else {
            return .failure(.usage("options.dtype is \"\(text)\": float32, float16 or bfloat16"))
        }
        encoding.dtype = dtype
    }
    if let name = options?.pointee.pool {
        let text = String(cString: name)
        guard let pooling = Pooling(rawValue: text) else { return .failure(.usage("options.pool is \"\(text)\": none or mean")) }
        encoding.pooling = pooling
    }
    return .success(encoding)
}

/// voxenc_options → EmbedderConfiguration, or the reason it cannot be one.
private func embedderConfiguration(_ options: UnsafePointer<voxenc_options>?) -> Result<EmbedderConfiguration, ErrorHandle> {
    var o = voxenc_options()
    voxenc_options_init(&o)
    if let options { o = options.pointee }
    guard o.threads >= 0 else { return .failure(.usage("options.threads is \(o.threads): 0 (all cores) or more")) }
    guard o.chunks_per_batch >= 0 else {
        return .failure(.usage("options.chunks_per_batch is \(o.chunks_per_batch): 0 (the default) or more"))
    }
    var precision = Precision.float32
    if let name = o.precision {
        let text = String(cString: name)
        guard let parsed = Precision(rawValue: text) else {
            return .failure(.usage("options.precision is \"\(text)\": f32, bf16 or int8"))
        }
        precision = parsed
    }
    return .success(EmbedderConfiguration(threadCount: o.threads == 0 ? nil : Int(o.threads),
                                          chunksPerBatch: o.chunks_per_batch == 0 ? 2 : Int(o.chunks_per_batch),
                                          kind: o.encoder_only != 0 ? .encoder : nil, precision: precision))
}

@_cdecl("voxenc_model_load")
public func voxenc_model_load(_ directory: UnsafePointer<CChar>?, _ options: UnsafePointer<voxenc_options>?,
                              _ error: ErrorOut) -> OpaquePointer? {
    guard let directory else { return fail(error, .usage("voxenc_model_load: directory is NULL")) }
    let configuration: EmbedderConfiguration
    switch embedderConfiguration(options) {
    case .success(let value): configuration = value
    case .failure(let handle): return fail(error, handle)
    }
    let encoding: OutputEncoding
    switch outputEncoding(options) {
    case .success(let value): encoding = value
    case .failure(let handle): return fail(error, handle)
    }
    do {
        let embedder = try Embedder(modelDirectory: String(cString: directory), configuration: configuration)
        return OpaquePointer(Unmanaged.passRetained(ModelHandle(embedder, encoding: encoding)).toOpaque())
    } catch let thrown {
        return fail(error, thrown)
    }
}

@_cdecl("voxenc_model_free")
public func voxenc_model_free(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@_cdecl("voxenc_model_describe")
public func voxenc_model_describe(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    model(pointer).map { UnsafePointer($0.description.pointer) }
}

// MARK: - Embedding

@_cdecl("voxenc_embed_file")
public func voxenc_embed_file(_ pointer: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_embed_file: model is NULL")) }
    guard let path else { return fail(error, .usage("voxenc_embed_file: path is NULL")) }
    do {
        return result(try handle.embedder.embed(fileAt: String(cString: path)), handle, error)
    } catch let thrown {
        return fail(error, thrown)
    }
}

@_cdecl("voxenc_embed_bytes")
public func voxenc_embed_bytes(_ pointer: OpaquePointer?, _ bytes: UnsafeRawPointer?, _ size: Int,
                               _ name: UnsafePointer<CChar>?, _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_embed_bytes: model is NULL")) }
    guard let bytes else { return fail(error, .usage("voxenc_embed_bytes: bytes is NULL")) }
    let label = name.map { String(cString: $0) } ?? "<memory>"
    let copy = [UInt8](UnsafeRawBufferPointer(start: bytes, count: size))
    do {
        return result(try handle.embedder.embed(bytes: copy, name: label), handle, error)
    } catch let thrown {
        return fail(error, thrown)
    }
}

/// Mono samples from C, checked: not NULL, not empty.
private func samples(_ pointer: UnsafePointer<Float>?, _ count: Int, _ function: String) -> Result<[Float], ErrorHandle> {
    guard let pointer else { return .failure(.usage("\(function): samples is NULL")) }
    guard count > 0 else { return .failure(.usage("\(function): no samples (count is 0)")) }
    return .success(Array(UnsafeBufferPointer(start: pointer, count: count)))
}

@_cdecl("voxenc_embed_samples")
public func voxenc_embed_samples(_ pointer: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int,
                                 _ sampleRate: Int32, _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_embed_samples: model is NULL")) }
    switch samples(values, count, "voxenc_embed_samples") {
    case .failure(let handle): return fail(error, handle)
    case .success(let samples):
        do {
            return result(try handle.embedder.embed(samples: samples, sampleRate: Int(sampleRate)), handle, error)
        } catch let thrown {
            return fail(error, thrown)
        }
    }
}

// MARK: - Stages

@_cdecl("voxenc_mel")
public func voxenc_mel(_ pointer: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int, _ sampleRate: Int32,
                       _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_mel: model is NULL")) }
    if handle.embedder.isCausal {
        return fail(error, .usage("voxenc_mel: \(handle.embedder.model.path) is a causal model, which runs as a stream (voxenc_stream_open)"))
    }
    switch samples(values, count, "voxenc_mel") {
    case .failure(let handle): return fail(error, handle)
    case .success(let samples):
        let waveform: Waveform
        do { waveform = try Waveform(samples: samples, sampleRate: Int(sampleRate)) } catch let thrown {
            return fail(error, thrown)
        }
        let chunks = handle.embedder.melChunks(samples: waveform.samples)
        let bins = handle.embedder.melBinCount
        let rows = chunks.count * bins
        return deliver(chunks.flatMap(\.values), rows: rows, width: handle.embedder.melFramesPerStep, frameRate: handle.embedder.melFrameRate,
                       validRows: rows, chunks: chunks.count, duration: waveform.durationSeconds, precision: .float32,
                       kind: StaticCString.of("mel"), error)
    }
}

@_cdecl("voxenc_encode")
public func voxenc_encode(_ pointer: OpaquePointer?, _ mel: UnsafePointer<Float>?, _ chunkCount: Int64,
                          _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_encode: model is NULL")) }
    if handle.embedder.isCausal {
        return fail(error, .usage("voxenc_encode: \(handle.embedder.model.path) is a causal model, which runs as a stream (voxenc_stream_open)"))
    }
    guard let mel else { return fail(error, .usage("voxenc_encode: mel is NULL")) }
    guard chunkCount > 0 else { return fail(error, .usage("voxenc_encode: chunks is \(chunkCount): 1 or more")) }
    let embedder = handle.embedder
    let bins = embedder.melBinCount, frames = embedder.melFramesPerStep
    let chunks = (0..<Int(chunkCount)).map { index in
        MelChunk(index: index, melBinCount: bins,
                 values: Array(UnsafeBufferPointer(start: mel + index * bins * frames, count: bins * frames)))
    }
    let states = embedder.encode(chunks)
    let output = embedder.output(.encoder)
    let rows = Int(chunkCount) * output.rowsPerStep
    return deliver(states, rows: rows, width: output.width, frameRate: output.rowsPerSecond,
                   validRows: rows, chunks: Int(chunkCount), duration: 0, precision: embedder.configuration.precision,
                   kind: StaticCString.kind(.encoder), error)
}

@_cdecl("voxenc_adapt")
public func voxenc_adapt(_ pointer: OpaquePointer?, _ states: UnsafePointer<Float>?, _ rowCount: Int64,
                         _ error: ErrorOut) -> ResultPointer {
    guard let handle = model(pointer) else { return fail(error, .usage("voxenc_adapt: model is NULL")) }
    if handle.embedder.isCausal {
        return fail(error, .usage("voxenc_adapt: \(handle.embedder.model.path) is a causal model, which runs as a stream (voxenc_stream_open)"))
    }
    guard let states else { return fail(error, .usage("voxenc_adapt: states is NULL")) }
    let embedder = handle.embedder
    guard embedder.hasAdapter else {
        return fail(error, .usage("voxenc_adapt: \(embedder.model.path) has no adapter (a Whisper encoder)"))
    }
    let encoder = embedder.output(.encoder), adapter = embedder.output(.adapter)
    let perChunk = encoder.rowsPerStep, d = encoder.width
    guard rowCount > 0, rowCount % Int64(perChunk) == 0 else {
        return fail(error, .usage("voxenc_adapt: rows is \(rowCount): a positive multiple of \(perChunk) (whole chunks)"))
    }
    let rows = Int(rowCount)
    let output = embedder.adapt(Array(UnsafeBufferPointer(start: states, count: rows * d)))!
    let outRows = rows / perChunk * adapter.rowsPerStep
    return deliver(output, rows: outRows, width: adapter.width, frameRate: adapter.rowsPerSecond, validRows: outRows,
                   chunks: rows / perChunk, duration: 0, precision: embedder.configuration.precision,
                   kind: StaticCString.kind(.adapter), error)
}

@_cdecl("voxenc_result_free")
public func voxenc_result_free(_ result: UnsafeMutablePointer<voxenc_result>?) {
    free(result)
}

// MARK: - Errors

@_cdecl("voxenc_error_code")
public func voxenc_error_code(_ pointer: OpaquePointer?) -> voxenc_status {
    errorHandle(pointer)?.status ?? VOXENC_OK
}

@_cdecl("voxenc_error_message")
public func voxenc_error_message(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    errorHandle(pointer).map { UnsafePointer($0.message.pointer) }
}

@_cdecl("voxenc_error_free")
public func voxenc_error_free(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<ErrorHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}
