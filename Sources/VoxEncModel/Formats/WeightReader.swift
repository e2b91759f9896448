// Reads a layout's tensors for the loader: every shape is checked against the configuration before any data is
// read (a wrong config fails in milliseconds, not after gigabytes), every value is checked finite, and the tensors
// used are recorded, in order, for `ModelDescription.digest`.
//
// Digest (v1), over the stored bytes of the tensors used (not their float32 upcast: half the bytes to hash for a
// bf16 checkpoint, ≈ 1.3 GB for Voxtral, and reproducible with hashlib from the safetensors files alone):
//   for each tensor in the loader's fixed role order (conv1.weight, conv1.bias, conv2.weight, conv2.bias, positions,
//   then per layer its 15 tensors in `WhisperTensor`'s case order, then layer_norm.weight/.bias, then the adapter's
//   linear_1, linear_2):  feed "<DTYPE> <d0>,<d1>,…\n" (UTF-8, e.g. "BF16 64,128,3\n") and SHA-256(stored bytes)
//   (32 raw bytes) into one SHA-256; hex of the result. A computed positional table (Mistral) enters as
//   "F32 1500,1280\n" + SHA-256 of its little-endian float32 bytes.
// CTranslate2 model.bin (same recipe and role order, its own names): conv1.weight, conv1.bias, conv2.weight,
//   conv2.bias, position_encodings, then per layer its 12 variables in the same order (q/k/v are
//   one fused linear_0), then layer_norm gamma/beta. dtype spelled as in safetensors (F32, F16, BF16, I8, I16); the
//   bytes hashed are the variable's as stored, followed, for an I8/I16 weight, by its float32 `_scale` variable's.
// Equal digests mean bit-identical stored tensors, hence bit-identical float32 weights.

import Dispatch

/// One pass over the tensors a model uses. Owned by a single load.
final class WeightReader {
    let source: any TensorSource
    private let expectedShapes: [String: [Int]]
    /// Stored dtypes ("BF16", "I8", …) of the weights (not the positional table, a fixed table transformers keeps in
    /// float32).
    private(set) var weightDTypes: Set<String> = []
    /// Elements of the learned tensors read (weights and biases; not the positional table).
    private(set) var parameterCount = 0
    /// Names read, in order.
    private(set) var readNames: [String] = []

    /// "<DTYPE> <shape>\n" of each digest entry, in order; the entry's SHA-256 lands in `tensorHashes`.
    private var digestLabels: [String] = []
    /// 32 bytes per entry, written by background tasks (each only its own slot) while the loader converts the next
    /// tensors: hashing (≈ 260 MB/s per core) would otherwise add seconds to a Voxtral load.
    private let tensorHashes: UnsafeMutableBufferPointer<UInt8>
    private let hashing = DispatchGroup()

    /// Checks that every expected tensor exists with the expected shape and a loadable dtype (headers only).
    init(source: any TensorSource, expectations: [(name: String, shape: [Int])]) throws(ModelError) {
        self.source = source
        var shapes: [String: [Int]] = [:]
        for (name, shape) in expectations {
            let info = try source.storedTensor(name)
            guard info.shape == shape else {
                throw .shapeMismatch(path: source.path(of: name), tensor: name, expected: shape, actual: info.shape)
            }
            guard info.isLoadable else {
                throw .unsupportedDType(path: source.path(of: name), tensor: name, dtype: info.dtype)
            }
            shapes[name] = shape
        }
        expectedShapes = shapes
        // One slot per expected tensor, plus a computed positional table.
        tensorHashes = .allocate(capacity: 32 * (expectations.count + 1))
        tensorHashes.initialize(repeating: 0)
    }

    deinit {
        hashing.wait()  // the tasks write into tensorHashes
        tensorHashes.deallocate()
    }

    /// The tensor as float32. `isWeight` false for the positional table (kept out of dtype and parameter counts).
    func read(_ name: String, isWeight: Bool = true) throws(ModelError) -> [Float] {
        precondition(expectedShapes[name] != nil, "\(name) was not among the expectations")
        let values = try source.floats(name)
        let nonFinite = Self.nonFiniteCount(values)
        guard nonFinite == 0 else {
            throw .nonFiniteWeights(path: source.path(of: name), tensor: name, count: nonFinite)
        }
        let info = try source.storedTensor(name)
        if isWeight {
            weightDTypes.insert(info.dtype)
            parameterCount += values.count
        }
        readNames.append(name)
        hash(label: info.dtype, shape: info.shape, try source.storedBytesHash(name))
        return values
    }

    /// Records values the loader computed instead of reading (Mistral's positional table) for the digest.
    func include(computed values: [Float], shape: [Int]) {
        hash(label: "F32", shape: shape) {
            #if _endian(little)
            values.withUnsafeBytes { SHA256.hash($0) }
            #else
            values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { SHA256.hash($0) }
            #endif
        }
    }

    private func hash(label: String, shape: [Int], _ body: @escaping @Sendable () -> [UInt8]) {
        let slot = digestLabels.count
        precondition(32 * (slot + 1) <= tensorHashes.count, "more digest entries than expected tensors")
        digestLabels.append("\(label) \(shape.map(String.init).joined(separator: ","))\n")
        nonisolated(unsafe) let slots = tensorHashes  // this task writes only bytes 32·slot ..< 32·slot + 32
        DispatchQueue.global().async(group: hashing) {
            let hash = body()
            for offset in 0..<32 { slots[32 * slot + offset] = hash[offset] }
        }
    }

    /// SHA-256 (hex) as defined at the top of this file.
    func digest() -> String {
        hashing.wait()
        var combined = SHA256()
        for (slot, label) in digestLabels.enumerated() {
            combined.update(Array(label.utf8))
            combined.update(Array(tensorHashes[(32 * slot)..<(32 * slot + 32)]))
        }
        return SHA256.hex(combined.finalize())
    }

    /// "f32", "f16", "bf16"; for quantized CTranslate2 weights CTranslate2's own names of the combination
    /// (`Model::infer_compute_type`): "int8" (with float32 vectors), "int8_float16", "int8_bfloat16", "int16";
    /// anything else "mixed".
    var storedDType: String {
        if weightDTypes.isEmpty { return "none" }
        if weightDTypes.count == 1, let only = weightDTypes.first {
            switch only {
            case "I8": return "int8"
            case "I16": return "int16"
            default: return only.lowercased()
            }
        }
        let vectors = weightDTypes.subtracting(["I8", "I16"])
        guard weightDTypes.count == vectors.count + 1, vectors.count == 1, let float = vectors.first else { return "mixed" }
        switch (weightDTypes.contains("I8"), float) {
        case (true, "F32"): return "int8"
        case (true, "F16"): return "int8_float16"
        case (true, "BF16"): return "int8_bfloat16"
        case (false, "F32"): return "int16"
        default: return "mixed"
        }
    }

    /// NaN and ±Inf: exponent bits all ones.
    static func nonFiniteCount(_ values: [Float]) -> Int {
        values.withUnsafeBufferPointer { buffer in
            var count = 0
            for value in buffer { count &+= (value.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
            return count
        }
    }
}
