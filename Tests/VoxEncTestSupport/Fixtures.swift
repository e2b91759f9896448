// Locating and decoding the committed fixtures under Tests/Fixtures (made by Weights/tools/*.py from the reference).

import Foundation
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio

public enum Fixtures {
    /// Tests/Fixtures, found from this source file's path.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).path
    }

    public static func numpy(_ relative: String) throws -> NumpyArray {
        try NumpyArray(contentsOf: path(relative))
    }

    public static func frontEndIndex() throws -> FrontEndFixtureIndex {
        let data = try Data(contentsOf: URL(fileURLWithPath: path("frontend/frontend.json")))
        return try JSONDecoder().decode(FrontEndFixtureIndex.self, from: data)
    }

    /// SHA-256 model digests computed independently in Python (hashlib, from the fixture files alone) by
    /// Weights/tools/make_digest_fixtures.py: Tests/Fixtures/encoder/digests.json.
    public static let modelDigests: [String: String] = {
        struct File: Decodable { var digests: [String: String] }
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path("encoder/digests.json")))).digests
    }()

    /// The repository root (for running the built binaries and scripts).
    public static let repositoryRoot: URL = directory.deletingLastPathComponent().deletingLastPathComponent()
}

/// `Tests/Fixtures/frontend/frontend.json`.
public struct FrontEndFixtureIndex: Decodable, Sendable {
    public struct Mel: Decodable, Sendable {
        public var frameCount: Int
        public var frames: [Int]
        public var mean: Double
        public var file: String
        enum CodingKeys: String, CodingKey { case frameCount = "frame_count", frames, mean, file }
    }
    public struct Signal: Decodable, Sendable {
        public var name: String
        public var recipe: [String: JSONValue]
        public var sampleCount: Int
        public var audioSum: Double
        public var audioHead: [Double]
        public var mels: [String: Mel]
        enum CodingKeys: String, CodingKey {
            case name, recipe, sampleCount = "sample_count", audioSum = "audio_sum", audioHead = "audio_head", mels
        }
    }
    public struct Resampling: Decodable, Sendable {
        public var rate: Int
        public var frames: Int
        public var outputCount: Int
        enum CodingKeys: String, CodingKey { case rate, frames, outputCount = "output_count" }
    }
    public var signals: [Signal]
    public var resampler: [Resampling]
}

/// A JSON scalar, for loosely typed fixture fields.
public enum JSONValue: Decodable, Sendable, Equatable {
    case int(Int), double(Double), string(String), bool(Bool), null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else { self = .string(try container.decode(String.self)) }
    }

    public var int: Int? { if case .int(let v) = self { return v }; return nil }
    public var string: String? { if case .string(let v) = self { return v }; return nil }
}
