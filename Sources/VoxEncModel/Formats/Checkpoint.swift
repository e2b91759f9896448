// The tensors of a checkpoint: one safetensors file, or a sharded set described by `model.safetensors.index.json`.
// Reference: transformers `modeling_utils` sharded checkpoints (index: {"metadata": {...}, "weight_map": {name: shard}};
// shard names are relative to the index's directory).

import Foundation

/// Tensors by name, whichever file they live in. Shards are opened (mapped, header parsed) on first use, once each.
/// Not thread-safe: a loader owns it while it reads, then drops it (which unmaps the files).
public final class Checkpoint {
    /// The single weights file, or the index of a sharded set (named in errors about the whole set).
    public let path: String
    private let shardPaths: [String]
    /// Tensor name → index into `shardPaths`.
    private let location: [String: Int]
    private var openShards: [Int: SafeTensors] = [:]

    /// One safetensors file.
    public init(file: String) throws(ModelError) {
        let single = try SafeTensors(contentsOf: file)
        path = file
        shardPaths = [file]
        location = Dictionary(uniqueKeysWithValues: single.tensorNames.map { ($0, 0) })
        openShards[0] = single
    }

    /// A sharded set. Every shard named by the index must exist (a partial download fails here, not halfway through).
    public init(index: String) throws(ModelError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: index)) } catch {
            if !FileManager.default.fileExists(atPath: index) { throw .missingFile(path: index) }
            throw .ioError(path: index, reason: error.localizedDescription)
        }
        struct Index: Decodable { var weightMap: [String: String]; enum CodingKeys: String, CodingKey { case weightMap = "weight_map" } }
        let map: [String: String]
        do { map = try JSONDecoder().decode(Index.self, from: data).weightMap } catch {
            throw .invalidConfiguration(path: index, reason: "not a safetensors index (expected a \"weight_map\" of "
                                        + "tensor name → shard file)")
        }
        // Resolve shards next to the index itself, not next to a symlink's target (Hugging Face cache snapshots
        // link every file into ../../blobs/<hash>).
        let directory = (index as NSString).deletingLastPathComponent
        let shardNames = Set(map.values).sorted()
        var shardPaths: [String] = []
        for name in shardNames {
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw .invalidConfiguration(path: index, reason: "shard name \"\(name)\" is not a file in its directory")
            }
            let shard = directory.isEmpty ? name : directory + "/" + name
            guard FileManager.default.fileExists(atPath: shard) else { throw .missingFile(path: shard) }
            shardPaths.append(shard)
        }
        let number = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
        path = index
        self.shardPaths = shardPaths
        location = map.mapValues { number[$0]! }
    }

    /// Every tensor of the checkpoint, sorted.
    public var tensorNames: [String] { location.keys.sorted() }

    /// The file that holds `name` (the index for unknown names), for error messages.
    public func path(of name: String) -> String {
        location[name].map { shardPaths[$0] } ?? path
    }

    /// The tensor's dtype and shape; throws `missingTensor` if the checkpoint lacks it.
    public func info(_ name: String) throws(ModelError) -> SafeTensors.TensorInfo {
        let (file, shard) = try self.shard(holding: name)
        guard let info = file.info(name) else { throw .missingTensor(path: shard, tensor: name) }
        return info
    }

    /// The tensor as float32, converted exactly as torch upcasts.
    public func floats(_ name: String) throws(ModelError) -> [Float] {
        try shard(holding: name).file.floats(name)
    }

    /// The opened file that holds `name` (for reading raw bytes concurrently: `SafeTensors` is immutable).
    func file(holding name: String) throws(ModelError) -> SafeTensors {
        try shard(holding: name).file
    }

    private func shard(holding name: String) throws(ModelError) -> (file: SafeTensors, path: String) {
        guard let number = location[name] else { throw .missingTensor(path: path, tensor: name) }
        if let open = openShards[number] { return (open, shardPaths[number]) }
        let opened = try SafeTensors(contentsOf: shardPaths[number])
        openShards[number] = opened
        return (opened, shardPaths[number])
    }
}
