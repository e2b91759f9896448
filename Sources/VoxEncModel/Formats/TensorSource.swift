// What `WeightReader` reads tensors from: a safetensors checkpoint (`Checkpoint`, one file or shards) or a
// CTranslate2 `model.bin` (`CTranslate2Model`). Both are memory-mapped and read only the tensors asked for.

/// A tensor's stored form, from the header alone.
struct StoredTensor: Sendable, Equatable {
    /// safetensors spelling ("F32", "F16", "BF16"; CTranslate2 also "I8", "I16"): digest labels and messages.
    var dtype: String
    var shape: [Int]
    /// Whether `floats(_:)` converts it to float32.
    var isLoadable: Bool
}

/// Named tensors, converted to float32 on request.
protocol TensorSource: AnyObject {
    /// The file (or index) named in errors about the whole set.
    var path: String { get }
    /// Every name the source answers to, sorted.
    var tensorNames: [String] { get }
    /// The file that holds `name`, for error messages.
    func path(of name: String) -> String
    /// dtype and shape; throws `missingTensor` when absent.
    func storedTensor(_ name: String) throws(ModelError) -> StoredTensor
    /// The tensor as float32, row-major.
    func floats(_ name: String) throws(ModelError) -> [Float]
    /// Work that returns SHA-256 of the tensor's stored bytes (a quantized CTranslate2 weight: its bytes, then its
    /// scale's), to run on another thread while the source is alive, after `floats(name)`: it then drops those bytes'
    /// pages from the resident set, so that a checkpoint is never resident beside its float32 copy.
    func storedBytesHash(_ name: String) throws(ModelError) -> @Sendable () -> [UInt8]
    /// Stored names that reading `name` uses too (a quantized CTranslate2 weight's `_scale`): not unused.
    func companions(of name: String) -> [String]
}

extension Checkpoint: TensorSource {
    func companions(of name: String) -> [String] { [] }

    func storedTensor(_ name: String) throws(ModelError) -> StoredTensor {
        let header = try self.info(name)
        return StoredTensor(dtype: header.dtype.rawValue, shape: header.shape, isLoadable: header.dtype.isLoadable)
    }

    func storedBytesHash(_ name: String) throws(ModelError) -> @Sendable () -> [UInt8] {
        let file = try file(holding: name)
        return {
            guard let hash = try? file.withRawBytes(name, { SHA256.hash($0) }) else { preconditionFailure("\(name) was read") }
            file.releaseStoredBytes(name)
            return hash
        }
    }
}

extension CTranslate2Model: TensorSource {
    var tensorNames: [String] { allNames }

    func path(of name: String) -> String { path }

    func companions(of name: String) -> [String] { scaleName(of: name).map { [$0] } ?? [] }

    func storedTensor(_ name: String) throws(ModelError) -> StoredTensor {
        guard let variable = variable(name) else { throw .missingTensor(path: path, tensor: name) }
        return StoredTensor(dtype: variable.dtype.label, shape: variable.shape, isLoadable: variable.dtype.isLoadable)
    }

    func storedBytesHash(_ name: String) throws(ModelError) -> @Sendable () -> [UInt8] {
        guard let variable = variable(name) else { throw .missingTensor(path: path, tensor: name) }
        let scale = variable.dtype.isQuantized ? scaleName(of: name) : nil
        return { [self] in
            var hash = SHA256()
            try? withRawBytes(name) { hash.update($0) }
            if let scale { try? withRawBytes(scale) { hash.update($0) } }
            releaseStoredBytes(name)
            return hash.finalize()
        }
    }
}
