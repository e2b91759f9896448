// The local safetensors file a sliced pull writes: the kept tensors with their original names, dtypes, shapes and
// bytes, in a new header (offsets packed in source order, so that runs of tensors adjacent in a source file stay one
// Range request), padded with spaces to a multiple of 8 bytes as the safetensors writer does.
// Reference: the safetensors format (8-byte little-endian header length, JSON header, data area).

import Foundation
import VoxEncModel

/// A remote safetensors file's header, read with Range requests.
struct RemoteSafeTensorsHeader: Sendable {
    var file: SourceFile
    /// Where the data area starts in the file (8 + header length).
    var dataStart: Int
    var metadata: [String: String]
    var tensors: [String: SafeTensors.TensorInfo]
}

enum SlicedCheckpoint {
    /// The target holding `kept` tensors of `headers` (in the order of the headers, then by offset), named `name`.
    static func target(name: String, headers: [RemoteSafeTensorsHeader], keeps: (String) -> Bool,
                       provenance: String) -> DownloadTarget {
        struct Entry { var name: String; var info: SafeTensors.TensorInfo; var header: RemoteSafeTensorsHeader }
        var entries: [Entry] = []
        for header in headers {
            let kept = header.tensors.filter { keeps($0.key) }
                .sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
            entries += kept.map { Entry(name: $0.key, info: $0.value, header: header) }
        }
        var json: [String: Any] = [:]
        var offset = 0
        var runs: [Piece] = []
        for entry in entries {
            let count = entry.info.dataOffsets.count
            json[entry.name] = ["dtype": entry.info.dtype.rawValue, "shape": entry.info.shape,
                                "data_offsets": [offset, offset + count]]
            let start = entry.header.dataStart + entry.info.dataOffsets.lowerBound
            if var last = runs.last, last.source == entry.header.file.path, last.sourceRange.upperBound == start,
               last.destination + last.count == offset {
                last.count += count
                runs[runs.count - 1] = last
            } else if count > 0 {
                runs.append(Piece(source: entry.header.file.path, sourceStart: start, count: count, destination: offset))
            }
            offset += count
        }
        var metadata = headers.first?.metadata.filter { $0.key == "format" } ?? [:]
        metadata["voxenc_source"] = provenance
        json["__metadata__"] = metadata
        var text = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + text.count) % 8 != 0 { text.append(UInt8(ascii: " ")) }
        var prefix = Data(count: 8)
        let length = UInt64(text.count)
        for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
        prefix.append(text)
        let base = prefix.count
        var pieces: [Piece] = []
        for run in runs {
            var done = 0
            while done < run.count {
                let count = min(DownloadTarget.pieceSize, run.count - done)
                pieces.append(Piece(source: run.source, sourceStart: run.sourceStart + done, count: count,
                                    destination: base + run.destination + done))
                done += count
            }
        }
        return DownloadTarget(name: name, size: base + offset, prefix: prefix, pieces: pieces, wholeETag: nil,
                              tensorCount: entries.count)
    }
}
