// `voxenc pull`: a model directory voxenc loads, from a Hugging Face-style hub, with only the bytes voxenc reads.
//   1. the listing pins the revision to a commit and gives every file's size and ETag;
//   2. the small config files are fetched whole (checked against their ETags) and the plan is made from them
//      (AudioWeightsPlan: the loaders' own layout detection and tensor prefixes);
//   3. safetensors headers are read with Range requests (huggingface_hub `get_safetensors_metadata`: the first
//      100,000 bytes, and the rest of a longer header with a second request), only for the shards holding kept tensors;
//   4. the kept tensors' bytes are fetched as Range requests of at most 16 MiB into the new file (SlicedCheckpoint),
//      each response's status, Content-Range, length, commit and ETag checked; a file that cannot be sliced is
//      fetched whole and its bytes checked against its sha256 ETag;
//   5. complete files are renamed into the directory (PullStaging), and a record of the pull is written beside them.

import Foundation
import NIOCore
import Synchronization
import VoxEncModel
#if canImport(Glibc)
import Glibc
#endif

public struct PullProgress: Sendable {
    public var bytesDone: Int
    public var bytesTotal: Int
}

public struct PullSummary: Sendable {
    public struct File: Sendable {
        public var name: String
        /// Bytes of the local file.
        public var size: Int
        /// Bytes of it fetched from the network (a sliced file's header is written locally).
        public var fetched: Int
        /// For a sliced file: tensors kept, and the repository files they come from.
        public var tensors: Int
        public var sources: [String]
    }
    public var repository: String
    public var commit: String
    public var layout: String
    public var family: String
    public var files: [File]
    /// Every body byte received in this run (listing, configs, headers, tensor data, retries included).
    public var bytesReceived: Int
    /// Bytes of the whole repository at that commit.
    public var repositoryBytes: Int
    /// Pieces found complete from an earlier, interrupted run.
    public var resumedPieces: Int
    /// The directory already held this pull of this commit.
    public var upToDate: Bool
    /// Bytes of the weights the plan fetches (what a full download of the directory's files takes).
    public var plannedFetch: Int { files.reduce(0) { $0 + $1.fetched } }
}

/// The record `DIR/.voxenc-pull.json` of a finished pull.
struct PullRecord: Codable, Equatable {
    var repository: String
    var endpoint: String
    var commit: String
    var files: [String: Int]
}

public final class ModelPuller {
    let client: HubClient
    var repository: HubRepository { client.repository }
    private let received = Mutex(0)

    public static let recordFile = ".voxenc-pull.json"

    public init(client: HubClient) {
        self.client = client
    }

    /// Pulls into `directory` (or, with `dryRun`, only plans and writes nothing). `progress` is called as bytes arrive.
    public func pull(into directory: String, dryRun: Bool,
                     progress: (PullProgress) -> Void = { _ in }) async throws(PullError) -> PullSummary {
        let listing = try await fetchListing()
        let files = Set(listing.files.keys)
        // Configs: whole, in memory, checked; written to a scratch folder for the plan.
        var configs: [String: Data] = [:]
        for name in AudioWeightsPlan.candidateConfigFiles where files.contains(name) {
            configs[name] = try await fetchSmall(name, listing: listing)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("voxenc-pull-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            for (name, data) in configs { try data.write(to: URL(fileURLWithPath: scratch + "/" + name)) }
        } catch {
            throw .cannotWrite(path: scratch, reason: error.localizedDescription)
        }
        let plan: AudioWeightsPlan
        do { plan = try AudioWeightsPlan.make(configDirectory: scratch, repositoryFiles: files) } catch {
            throw .notAModel(repository: repository.id, reason: Self.describe(error, scratch: scratch, repository: repository.id))
        }

        // The weights' target, then the configs (renamed last: a directory is not a model until they are in).
        var targets: [DownloadTarget] = []
        var sources: [String] = []
        switch plan.weights {
        case .whole(let name):
            let listed = listing.files[name]
            var (size, etag) = (listed?.size, listed?.etag)
            if size == nil { (size, etag) = try await probeSize(name, listing: listing) }
            targets.append(.whole(SourceFile(path: name, size: size ?? 0, etag: etag)))
            sources = [name]
        case .sliced(let source, let isIndex, _, let output):
            var shards = [source]
            var indexMap: [String: String] = [:]
            if isIndex {
                let data = try await fetchSmall(source, listing: listing)
                indexMap = try Self.weightMap(data, url: repository.resolveURL(source, revision: listing.commit))
                shards = Set(indexMap.filter { plan.keeps($0.key) }.values).sorted()
                if let missing = shards.first(where: { !files.contains($0) }) {
                    throw .notAModel(repository: repository.id,
                                     reason: "\(source) names shard \(missing), which the repository does not hold")
                }
            }
            var headers: [RemoteSafeTensorsHeader] = []
            for shard in shards { headers.append(try await readHeader(shard, listing: listing)) }
            // Every kept tensor the index places in a shard must be in that shard's header.
            for (name, shard) in indexMap where plan.keeps(name) {
                guard headers.first(where: { $0.file.path == shard })?.tensors[name] != nil else {
                    throw .notAModel(repository: repository.id, reason: "\(shard) lacks tensor \(name), which \(source) places there")
                }
            }
            let target = SlicedCheckpoint.target(name: output, headers: headers, keeps: plan.keeps,
                                                 provenance: "\(repository.id)@\(listing.commit)")
            guard target.tensorCount > 0 else {
                throw .notAModel(repository: repository.id, reason: "\(source) holds no audio-encoder tensor")
            }
            targets.append(target)
            sources = shards
        }
        for name in plan.configFiles {
            guard let data = configs[name] else { continue }
            targets.append(DownloadTarget(name: name, size: data.count, prefix: data, pieces: [], wholeETag: nil))
        }

        var summary = PullSummary(
            repository: repository.id, commit: listing.commit, layout: plan.layout.rawValue, family: plan.family,
            files: targets.map { target in
                PullSummary.File(name: target.name, size: target.size,
                                 fetched: target.pieces.isEmpty ? target.size : target.fetchedSize,
                                 tensors: target.tensorCount, sources: target.tensorCount > 0 ? sources : [target.name])
            },
            bytesReceived: 0, repositoryBytes: listing.totalSize, resumedPieces: 0, upToDate: false)
        if dryRun {
            summary.bytesReceived = received.withLock { $0 }
            return summary
        }

        let record = PullRecord(repository: repository.id, endpoint: repository.endpoint, commit: listing.commit,
                                files: Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0.size) }))
        if try isUpToDate(directory, record: record) {
            summary.upToDate = true
            summary.bytesReceived = received.withLock { $0 }
            return summary
        }
        let staging = PullStaging(directory: directory)
        var staged = record
        staged.endpoint = ""  // the same files from another mirror resume too
        let planData = (try? JSONEncoder.sorted.encode(StagedPlan(record: staged, targets: targets))) ?? Data()
        summary.resumedPieces = try staging.open(plan: planData)
        try await download(targets, listing: listing, staging: staging, progress: progress)
        try verify(targets, staging: staging)
        // The record first (hidden, and naming only what is about to be renamed in), then the files.
        let recordPath = directory + "/" + Self.recordFile
        do {
            try (try JSONEncoder.sorted.encode(record)).write(to: URL(fileURLWithPath: recordPath), options: .atomic)
        } catch {
            throw .cannotWrite(path: recordPath, reason: error.localizedDescription)
        }
        try staging.commit(targets)
        summary.bytesReceived = received.withLock { $0 }
        return summary
    }

    // MARK: - Steps

    private func fetchListing() async throws(PullError) -> RepositoryListing {
        var url = repository.modelInfoURL
        func fetch(_ url: String) async throws(PullError) -> Data {
            try await client.withRetries(url) {
                let response = try await client.get(url, subject: .listing)
                let data = try await response.readAll(limit: 64 << 20)
                received.withLock { $0 += data.count }
                return data
            }
        }
        let data: Data
        do {
            data = try await fetch(url)
        } catch .repositoryNotFound where !repository.revisionGiven {
            // A hub that serves only the /revision/{revision} form of the listing: ask that one (a repository that
            // does not exist is not found there either).
            url = repository.modelInfoURL(revision: repository.revision)
            data = try await fetch(url)
        }
        var listing = try RepositoryListing.parse(data, url: url)
        if !listing.pinned {
            // No "sha" in the listing: the commit the Hub names when it serves a file (hf_hub_download's way).
            listing.commit = repository.revision
            if let probe = listing.files.keys.sorted().first {
                let probeURL = repository.resolveURL(probe)
                let commit = try await client.withRetries(probeURL) { () async throws -> String? in
                    let response = try await client.get(probeURL, range: 0..<1, subject: .file(probe))
                    _ = try? await response.body.collect(upTo: 1 << 20)
                    return response.header("x-repo-commit")
                }
                if let commit, !commit.isEmpty, commit.allSatisfy(\.isHexDigit) {
                    listing.commit = commit.lowercased()
                    listing.pinned = true
                }
            }
        }
        return listing
    }

    /// A file's size from the server when the listing has none: the total of a one-byte Range request.
    private func probeSize(_ name: String, listing: RepositoryListing) async throws(PullError) -> (Int, String?) {
        let url = repository.resolveURL(name, revision: listing.commit)
        return try await client.withRetries(url) {
            let response = try await client.get(url, range: 0..<1, subject: .file(name))
            try checkIdentity(response, name: name, listing: listing)
            let total = try checkRange(response, 0..<1, size: nil)
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (total, normalizedETag(response.header("x-linked-etag") ?? response.header("etag")))
        }
    }

    /// A small file, whole, in memory; its size and content checked against the listing and the Hub's headers.
    private func fetchSmall(_ name: String, listing: RepositoryListing) async throws(PullError) -> Data {
        let url = repository.resolveURL(name, revision: listing.commit)
        let listed = listing.files[name]
        let data = try await client.withRetries(url) {
            let response = try await client.get(url, subject: .file(name))
            try checkIdentity(response, name: name, listing: listing)
            let data = try await response.readAll(limit: 256 << 20)
            received.withLock { $0 += data.count }
            return (data, normalizedETag(response.header("x-linked-etag") ?? response.header("etag")))
        }
        if let size = listed?.size, size != data.0.count {
            throw .protocolViolation(url: url, reason: "\(data.0.count) bytes received, the listing says \(size)")
        }
        if let etag = listed?.etag ?? data.1, let digest = ContentDigest(etag: etag, size: data.0.count) {
            data.0.withUnsafeBytes { digest.update($0) }
            let actual = digest.finish()
            guard actual == etag else { throw .checksumMismatch(file: name, url: url, expected: etag, actual: actual) }
        }
        return data.0
    }

    /// The commit and ETag a response names (when it names them) must be the listing's.
    private func checkIdentity(_ response: HubResponse, name: String, listing: RepositoryListing) throws(PullError) {
        if listing.pinned, let commit = response.header("x-repo-commit"), commit.lowercased() != listing.commit {
            throw .protocolViolation(url: response.finalURL, reason: "X-Repo-Commit \(commit), the listing's commit is \(listing.commit)")
        }
        let etag = normalizedETag(response.header("x-linked-etag") ?? response.header("etag"))
        if let etag, let listed = listing.files[name]?.etag, etag != listed {
            throw .protocolViolation(url: response.finalURL, reason: "ETag \(etag) for \(name), the listing says \(listed)")
        }
        if let size = response.header("x-linked-size").flatMap(Int.init), let listed = listing.files[name]?.size,
           size != listed {
            throw .protocolViolation(url: response.finalURL, reason: "X-Linked-Size \(size) for \(name), the listing says \(listed)")
        }
    }

    /// Checks a 206 for exactly `range` of a file of `size` bytes.
    private func checkRange(_ response: HubResponse, _ range: Range<Int>, size: Int?) throws(PullError) -> Int {
        guard response.status == 206 else {
            throw .protocolViolation(url: response.finalURL, reason: "HTTP \(response.status) to a Range request (206 expected: the Range was ignored)")
        }
        guard let (got, total) = response.contentRange() else {
            throw .protocolViolation(url: response.finalURL, reason: "a 206 without a valid Content-Range")
        }
        if let size, total != size {
            throw .protocolViolation(url: response.finalURL, reason: "Content-Range says the file is \(total) bytes, the listing says \(size)")
        }
        let wanted = range.lowerBound..<min(range.upperBound, total)
        guard got == wanted else {
            throw .protocolViolation(url: response.finalURL,
                                     reason: "Content-Range bytes \(got.lowerBound)-\(got.upperBound - 1) for a request of bytes \(wanted.lowerBound)-\(wanted.upperBound - 1)")
        }
        return total
    }

    /// A safetensors header with Range requests: the first 100,000 bytes, then the rest of a longer header.
    private func readHeader(_ name: String, listing: RepositoryListing) async throws(PullError) -> RemoteSafeTensorsHeader {
        let url = repository.resolveURL(name, revision: listing.commit)
        let listedSize = listing.files[name]?.size
        let firstRange = 0..<min(100_000, listedSize ?? 100_000)
        let (first, total, etag) = try await client.withRetries(url) {
            let response = try await client.get(url, range: firstRange, subject: .file(name))
            try checkIdentity(response, name: name, listing: listing)
            let total = try checkRange(response, firstRange, size: listedSize)
            let data = try await response.data(expected: min(firstRange.upperBound, total))
            received.withLock { $0 += data.count }
            return (data, total, normalizedETag(response.header("x-linked-etag") ?? response.header("etag")))
        }
        guard first.count >= 8 else { throw .notAModel(repository: repository.id, reason: "\(name) is \(total) bytes: not a safetensors file") }
        let length = first.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(SafeTensors.maxHeaderByteCount), 8 + Int(length) <= total else {
            throw .notAModel(repository: repository.id, reason: "\(name): header length \(length) does not fit the \(total)-byte file")
        }
        let headerEnd = 8 + Int(length)
        var header = first.count >= headerEnd ? first.subdata(in: 8..<headerEnd) : Data()
        if header.isEmpty && length > 0 {
            let rest = 8..<headerEnd
            header = try await client.withRetries(url) {
                let response = try await client.get(url, range: rest, subject: .file(name))
                try checkIdentity(response, name: name, listing: listing)
                _ = try checkRange(response, rest, size: total)
                let data = try await response.data(expected: rest.count)
                received.withLock { $0 += data.count }
                return data
            }
        }
        let parsed: (metadata: [String: String], tensors: [String: SafeTensors.TensorInfo])
        do { parsed = try SafeTensors.validateHeader(header, dataByteCount: total - headerEnd, path: url) } catch {
            throw .notAModel(repository: repository.id, reason: error.description)
        }
        return RemoteSafeTensorsHeader(file: SourceFile(path: name, size: total, etag: listing.files[name]?.etag ?? etag),
                                       dataStart: headerEnd, metadata: parsed.metadata, tensors: parsed.tensors)
    }

    static func weightMap(_ data: Data, url: String) throws(PullError) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw .notAModel(repository: url, reason: "not a safetensors index (expected a \"weight_map\" of tensor name → shard file)")
        }
        for shard in Set(map.values) where shard.isEmpty || shard.hasPrefix("/") || shard.split(separator: "/").contains("..") {
            throw .notAModel(repository: url, reason: "shard name \"\(shard)\" is not a file of the repository")
        }
        return map
    }

    private func isUpToDate(_ directory: String, record: PullRecord) throws(PullError) -> Bool {
        let recordPath = directory + "/" + Self.recordFile
        if let data = FileManager.default.contents(atPath: recordPath),
           let old = try? JSONDecoder().decode(PullRecord.self, from: data) {
            if old == record, record.files.allSatisfy({ Self.size(of: directory + "/" + $0.key) == $0.value }) { return true }
            return false  // another pull's directory: replaced file by file
        }
        // Files of ours already there, not from a pull: never overwritten.
        let staged = FileManager.default.fileExists(atPath: directory + "/" + PullStaging.folderName)
        if !staged, let clash = record.files.keys.sorted().first(where: { FileManager.default.fileExists(atPath: directory + "/" + $0) }) {
            throw .cannotWrite(path: directory + "/" + clash, reason: "the file exists and was not written by voxenc pull")
        }
        return false
    }

    static func size(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    }

    private func download(_ targets: [DownloadTarget], listing: RepositoryListing, staging: PullStaging,
                          progress: (PullProgress) -> Void) async throws(PullError) {
        let total = targets.reduce(0) { $0 + $1.fetchedSize }
        var done = 0
        for (t, target) in targets.enumerated() {
            for (p, piece) in target.pieces.enumerated() where staging.isDone(target: t, piece: p) { done += piece.count }
        }
        progress(PullProgress(bytesDone: done, bytesTotal: total))
        for (t, target) in targets.enumerated() {
            let fd = try staging.prepare(target)
            defer { close(fd) }
            let partPath = staging.partPath(target)
            for (p, piece) in target.pieces.enumerated() where !staging.isDone(target: t, piece: p) {
                let url = repository.resolveURL(piece.source, revision: listing.commit)
                let size = listing.files[piece.source]?.size
                let start = done
                try await client.withRetries(url) {
                    var offset = piece.destination
                    done = start
                    let response = try await client.get(url, range: piece.sourceRange, subject: .file(piece.source))
                    try checkIdentity(response, name: piece.source, listing: listing)
                    _ = try checkRange(response, piece.sourceRange, size: size)
                    try await response.read(expected: piece.count) { (buffer: ByteBuffer) in
                        try staging.write(fd, Data(buffer.readableBytesView), at: offset, path: partPath)
                        offset += buffer.readableBytes
                        done += buffer.readableBytes
                        received.withLock { $0 += buffer.readableBytes }
                        progress(PullProgress(bytesDone: done, bytesTotal: total))
                    }
                }
                try staging.markDone(target: t, piece: p, fd: fd)
            }
        }
    }

    /// Whole files against their ETags; sliced files through the safetensors validator. A bad file's staging is
    /// dropped, so that a rerun fetches it again.
    private func verify(_ targets: [DownloadTarget], staging: PullStaging) throws(PullError) {
        for target in targets {
            let part = staging.partPath(target)
            if let etag = target.wholeETag, !target.pieces.isEmpty {
                let actual = ContentDigest.of(file: part, etag: etag, size: target.size)
                if let actual, actual != etag {
                    try? FileManager.default.removeItem(atPath: staging.path)
                    throw .checksumMismatch(file: target.name, url: repository.resolveURL(target.name), expected: etag, actual: actual)
                }
            }
            if target.tensorCount > 0 {
                do {
                    let file = try SafeTensors(contentsOf: part)
                    guard file.tensorNames.count == target.tensorCount else {
                        throw ModelError.invalidHeader(path: part, reason: "\(file.tensorNames.count) tensors, \(target.tensorCount) planned")
                    }
                } catch {
                    try? FileManager.default.removeItem(atPath: staging.path)
                    throw .notAModel(repository: repository.id, reason: "the pulled \(target.name) does not read back: \(error)")
                }
            }
        }
    }

    /// A layout error about the scratch folder, told about the repository instead.
    static func describe(_ error: ModelError, scratch: String, repository: String) -> String {
        switch error {
        case .unrecognizedLayout(_, let found):
            return "not a model repository voxenc reads: expected \(ModelError.expectedFiles); found "
                + (found.isEmpty ? "nothing" : found.sorted().prefix(12).joined(separator: ", ") + (found.count > 12 ? ", …" : ""))
        default:
            return error.description.replacingOccurrences(of: scratch + "/", with: "").replacingOccurrences(of: scratch, with: repository)
        }
    }
}

/// What plan.json holds: the record and every target (a rerun resumes only the very same plan).
struct StagedPlan: Codable {
    var record: PullRecord
    var targets: [DownloadTarget]
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
