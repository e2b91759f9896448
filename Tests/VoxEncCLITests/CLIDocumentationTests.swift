// docs/cli.md (and docs/serve.md for `serve`) against the CLI's own `--help` and code, in both directions: every
// subcommand has a "## `voxenc CMD`" section and every section a subcommand; every flag of a command's --help is in its
// option table and every flag in the table is in --help; every parser default ("(default: X)" of --help, which
// ArgumentParser prints from the declared value) is the row's one "default: `X`", token for token, and a row claims
// no such default the parser does not declare; each synopsis names exactly the command's options; and the exit-code
// table gives, for every case of every typed error, the code the CLI exits with (ErrorReport). A flag added, removed
// or renamed, a default or an exit code changed, without the page fails here.

import Foundation
import Testing
import VoxEnc
import VoxEncAudio
import VoxEncModel
import VoxEncTestSupport

@Suite("docs/cli.md matches voxenc --help")
struct CLIDocumentationTests {
    static let page = try! String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent("docs/cli.md").path,
                                  encoding: .utf8)

    /// "## `voxenc CMD`" sections: command → the section's text.
    static var sections: [String: String] {
        var result: [String: String] = [:]
        let parts = page.components(separatedBy: "\n## ")
        for part in parts.dropFirst() {
            let heading = part.prefix { $0 != "\n" }
            if heading.hasPrefix("`voxenc "), heading.hasSuffix("`") {
                result[String(heading.dropFirst(8).dropLast())] = part
            }
        }
        return result
    }

    /// The rows of a section's option table: the flags named in the first cell → the whole row.
    static func optionRows(_ section: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for flag in flags(in: String(firstCell)) { rows[flag] = String(line) }
        }
        return rows
    }

    /// `--long-flag` and `-x` tokens in `text`.
    static func flags(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9-])(--[a-z][a-z0-9-]*|-[a-z])(?![a-z0-9-])")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range, in: text)!])
        }
    }

    static func help(_ arguments: [String]) throws -> String {
        let result = try VoxEncProcess.run(arguments + ["--help"])
        #expect(result.status == 0, "\(arguments) --help: \(result.stderr)")
        return result.stdout
    }

    /// The options of a --help text: flags that start an entry of OPTIONS, with the entry's text (for defaults).
    static func helpOptions(_ help: String) -> [String: String] {
        var options: [String: String] = [:]
        var current: [String] = []
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("OPTIONS:") { inOptions = true; continue }
            if inOptions, !line.isEmpty, !line.hasPrefix(" ") { inOptions = false }
            guard inOptions else { continue }
            let text = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("  "), !line.hasPrefix("   "), text.hasPrefix("-") {
                let head = text.prefix { $0 != " " || false }
                let names = text.components(separatedBy: "  ").first ?? String(head)
                current = flags(in: names)
                for flag in current { options[flag] = text }
            } else {
                for flag in current { options[flag, default: ""] += " " + text }
            }
        }
        return options
    }

    @Test("subcommands: voxenc --help and the page's sections name the same commands")
    func subcommands() throws {
        let help = try Self.help([])
        var commands: [String] = []
        var inList = false
        for line in help.split(separator: "\n") {
            if line.hasPrefix("SUBCOMMANDS:") { inList = true; continue }
            if inList, line.hasPrefix("  "), !line.hasPrefix("   "), !line.hasPrefix("  See ") {
                commands.append(String(line.dropFirst(2).prefix { $0 != " " }))
            }
        }
        #expect(!commands.isEmpty, "no SUBCOMMANDS in \(help)")
        #expect(Set(commands) == Set(Self.sections.keys), "--help: \(commands.sorted()); docs/cli.md: \(Self.sections.keys.sorted())")
        // --version and --help, common to every command, are stated once at the top of the page.
        #expect(Self.page.contains("`--version`") && Self.page.contains("`--help`"))
        #expect(try VoxEncProcess.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    .allSatisfy { $0.isNumber || $0 == "." })
    }

    /// Parser defaults of a --help entry: the "(default: X)" that ends it (the declared value, not prose).
    static func parserDefault(_ text: String) -> String? {
        let pattern = try! NSRegularExpression(pattern: "\\(default: ([^)]+)\\)\\s*$")
        guard let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        return String(text[Range(match.range(at: 1), in: text)!])
    }

    /// The values a row states as "default: `X`".
    static func documentedDefaults(_ row: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "default: `([^`]+)`")
        return pattern.matches(in: row, range: NSRange(row.startIndex..., in: row)).map { String(row[Range($0.range(at: 1), in: row)!]) }
    }

    /// The same token, or the same number (`3600` is `3600.0`).
    static func sameValue(_ a: String, _ b: String) -> Bool {
        a == b || (Double(a) != nil && Double(a) == Double(b))
    }

    /// The flags of a section's synopsis (the indented `voxenc CMD …` block under the heading).
    static func synopsisFlags(_ section: String) -> Set<String> {
        var lines: [Substring] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.hasPrefix("    ") { lines.append(line) } else if !lines.isEmpty { break }
        }
        return Set(flags(in: lines.joined(separator: " ")))
    }

    static let common: Set<String> = ["--help", "-h", "--version"]

    /// Checks one command's --help against its table rows and synopsis.
    static func compare(_ command: String, options: [String: String], rows: [String: String],
                        defaultCell: (String) -> [String], synopsis: Set<String>) {
        let inHelp = Set(options.keys).subtracting(common)
        let inDocs = Set(rows.keys).subtracting(common)
        #expect(!inHelp.isEmpty)
        #expect(inHelp.subtracting(inDocs).isEmpty, "\(command): in --help, not in the docs' table: \(inHelp.subtracting(inDocs).sorted())")
        #expect(inDocs.subtracting(inHelp).isEmpty, "\(command): in the docs' table, not in --help: \(inDocs.subtracting(inHelp).sorted())")
        for (flag, text) in options where !common.contains(flag) {
            let documented = defaultCell(rows[flag] ?? "")
            if let value = parserDefault(text) {
                #expect(documented.count == 1 && documented.allSatisfy { sameValue($0, value) },
                        "\(command) \(flag): the parser's default is \(value); the docs state \(documented) in: \(rows[flag] ?? "no row")")
            } else {
                #expect(documented.isEmpty, "\(command) \(flag): the docs state default \(documented), the parser declares none")
            }
        }
        // The synopsis: every option (any of its names) is in it, and it names no flag --help lacks.
        let entries = Dictionary(grouping: inHelp, by: { options[$0]! }).values
        for names in entries where names.allSatisfy({ !synopsis.contains($0) }) {
            Issue.record("\(command): the synopsis lacks \(names.sorted())")
        }
        #expect(synopsis.subtracting(inHelp).subtracting(common).isEmpty,
                "\(command): the synopsis names \(synopsis.subtracting(inHelp).sorted()), which --help lacks")
    }

    @Test("each command's flags: in --help exactly when in its table; parser defaults token for token; the synopsis",
          arguments: ["embed", "stream", "pull", "mel", "info", "bench"])
    func flagsAndDefaults(command: String) throws {
        let options = Self.helpOptions(try Self.help([command]))
        let section = try #require(Self.sections[command], "docs/cli.md has no ## `voxenc \(command)` section")
        Self.compare(command, options: options, rows: Self.optionRows(section), defaultCell: Self.documentedDefaults,
                     synopsis: Self.synopsisFlags(section))
    }

    @Test("serve: --help against docs/serve.md's option table (flag | default | meaning) and cli.md's synopsis")
    func serveFlagsAndDefaults() throws {
        let options = Self.helpOptions(try Self.help(["serve"]))
        let servePage = try String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent("docs/serve.md").path,
                                   encoding: .utf8)
        let optionsSection = try #require(servePage.components(separatedBy: "\n## Options").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let rows = Self.optionRows(optionsSection)
        // The default column, token for token: `X` or X; prose ("the cores", "none") means the parser declares none.
        func defaultCell(_ row: String) -> [String] {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { return [] }
            let cell = cells[1].hasPrefix("`") && cells[1].hasSuffix("`") ? String(cells[1].dropFirst().dropLast()) : cells[1]
            return cell.contains(" ") || cell == "none" ? [] : [cell]
        }
        let section = try #require(Self.sections["serve"], "docs/cli.md has no ## `voxenc serve` section")
        Self.compare("serve", options: options, rows: rows, defaultCell: defaultCell, synopsis: Self.synopsisFlags(section))
    }

    /// One value of every case of every typed error the CLI reports, named `Type.case`. A case the code adds must be
    /// added here (the test reads the enums' sources and fails on a case without a sample).
    static let errorSamples: [(name: String, error: any Error)] = [
        ("AudioError.fileNotFound", AudioError.fileNotFound(path: "a")),
        ("AudioError.notARegularFile", AudioError.notARegularFile(path: "a")),
        ("AudioError.unreadable", AudioError.unreadable(path: "a", reason: "r")),
        ("AudioError.unsupportedFormat", AudioError.unsupportedFormat(path: "a", detected: "d")),
        ("AudioError.corrupt", AudioError.corrupt(path: "a", reason: "r")),
        ("AudioError.noSamples", AudioError.noSamples(path: "a")),
        ("AudioError.shorterThanOneSample", AudioError.shorterThanOneSample(path: "a", frames: 1, sampleRate: 48000)),
        ("AudioError.nonFiniteSample", AudioError.nonFiniteSample(path: "a", frame: 0, channel: 0)),
        ("AudioError.channelOutOfRange", AudioError.channelOutOfRange(path: "a", requested: 2, available: 1)),
        ("AudioError.invalidSampleRate", AudioError.invalidSampleRate(path: "a", sampleRate: 0)),
        ("AudioError.resamplerFailed", AudioError.resamplerFailed(path: "a", reason: "r")),
        ("ModelError.directoryNotFound", ModelError.directoryNotFound(path: "m")),
        ("ModelError.notADirectory", ModelError.notADirectory(path: "m")),
        ("ModelError.unrecognizedLayout", ModelError.unrecognizedLayout(path: "m", found: [])),
        ("ModelError.missingFile", ModelError.missingFile(path: "m")),
        ("ModelError.notARegularFile", ModelError.notARegularFile(path: "m")),
        ("ModelError.invalidConfiguration", ModelError.invalidConfiguration(path: "m", reason: "r")),
        ("ModelError.invalidHeader", ModelError.invalidHeader(path: "m", reason: "r")),
        ("ModelError.unsupportedDType", ModelError.unsupportedDType(path: "m", tensor: "t", dtype: "d")),
        ("ModelError.missingTensor", ModelError.missingTensor(path: "m", tensor: "t")),
        ("ModelError.shapeMismatch", ModelError.shapeMismatch(path: "m", tensor: "t", expected: [1], actual: [2])),
        ("ModelError.nonFiniteWeights", ModelError.nonFiniteWeights(path: "m", tensor: "t", count: 1)),
        ("ModelError.ioError", ModelError.ioError(path: "m", reason: "r")),
        ("ModelError.unsupportedFormatVersion", ModelError.unsupportedFormatVersion(path: "m", version: 9)),
        ("ModelError.unsupportedSpec", ModelError.unsupportedSpec(path: "m", spec: "s", revision: 9)),
        ("ModelError.invalidModelBinary", ModelError.invalidModelBinary(path: "m", reason: "r")),
        ("OutputError.cannotCreate", OutputError.cannotCreate(path: "o", reason: "r")),
        ("OutputError.writeFailed", OutputError.writeFailed(path: "o", reason: "r")),
        ("OutputError.exists", OutputError.exists(path: "o")),
        ("OutputError.isDirectory", OutputError.isDirectory(path: "o")),
        ("OutputError.notARegularFile", OutputError.notARegularFile(path: "o")),
        ("PrecisionError.oneDNNUnavailable", PrecisionError.oneDNNUnavailable),
        ("PrecisionError.instructionSetTooOld", PrecisionError.instructionSetTooOld(found: "sse2")),
        ("PrecisionError.reductionTooLong", PrecisionError.reductionTooLong(tensor: "t", length: 1, limit: 0)),
        ("PrecisionError.nonFiniteWeight", PrecisionError.nonFiniteWeight(tensor: "t", row: 0)),
        ("PrecisionError.bfloat16Unsupported", PrecisionError.bfloat16Unsupported(found: "avx2")),
        ("PrecisionError.packingFailed", PrecisionError.packingFailed("r")),
        ("PrecisionError.unsupportedByFamily", PrecisionError.unsupportedByFamily(precision: "int8", family: "f")),
        ("JobError.manifestUnreadable", JobError.manifestUnreadable(path: "j", reason: "r")),
        ("JobError.manifestLine", JobError.manifestLine(path: "j", line: 1, reason: "r")),
        ("JobError.duplicateID", JobError.duplicateID(id: "i", lines: [1, 2])),
        ("JobError.outputCollision", JobError.outputCollision(output: "o", ids: ["a", "b"])),
        ("JobError.unsafeID", JobError.unsafeID(id: "../x")),
        ("JobError.inputDirectory", JobError.inputDirectory(path: "d", reason: "r")),
        ("JobError.invalidShard", JobError.invalidShard(text: "3/2", reason: "r")),
        ("StreamError.notCausal", StreamError.notCausal(model: "m", family: "f")),
        ("StreamError.finished", StreamError.finished),
        ("StreamError.invalidStep", StreamError.invalidStep(milliseconds: 7)),
        ("StreamError.invalidSampleRate", StreamError.invalidSampleRate(0)),
        ("StreamError.sampleRateChanged", StreamError.sampleRateChanged(from: 16000, to: 8000)),
        ("StreamError.nonFiniteSample", StreamError.nonFiniteSample(index: 0)),
        ("StreamError.tooLong", StreamError.tooLong(seconds: 2, limit: 1)),
        ("TarError.damaged", TarError.damaged(path: "t", offset: 0, reason: "r")),
        ("TarError.truncatedMember", TarError.truncatedMember(path: "t", member: "m", size: 2, available: 1)),
        ("TarError.unreadable", TarError.unreadable(path: "t", reason: "r")),
        ("TarError.busy", TarError.busy(path: "t")),
        ("TarError.duplicateKey", TarError.duplicateKey(key: "k", members: ["a", "b"])),
        ("TarError.absentFromFinishedShard", TarError.absentFromFinishedShard(path: "t", key: "k")),
        ("TarError.partialExists", TarError.partialExists(path: "t")),
        ("OutputEncodingError.noNumpyType", OutputEncodingError.noNumpyType(.bfloat16)),
        ("VoxEncError.noModel", VoxEncError.noModel),
        ("VoxEncError.cancelled", VoxEncError.cancelled),
    ]

    /// The error enums the table covers, and the source file that declares each.
    static let errorSources = [
        "AudioError": "Sources/VoxEncAudio/AudioError.swift", "ModelError": "Sources/VoxEncModel/ModelError.swift",
        "OutputError": "Sources/VoxEnc/Output/AtomicFileWriter.swift",
        "PrecisionError": "Sources/VoxEncModel/Precision/PrecisionError.swift", "JobError": "Sources/VoxEnc/Jobs/JobError.swift",
        "StreamError": "Sources/VoxEnc/Streaming/StreamError.swift", "TarError": "Sources/VoxEnc/Tar/TarError.swift",
        "OutputEncodingError": "Sources/VoxEnc/Output/OutputEncoding.swift", "VoxEncError": "Sources/VoxEnc/Errors/VoxEncError.swift",
    ]

    /// `Type.case` → code, from the table of "Errors and exit codes" (a row's `.case` continues the row's last type).
    static func documentedExitCodes() throws -> [String: Int32] {
        let section = try #require(page.components(separatedBy: "\n## Errors and exit codes").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        var codes: [String: Int32] = [:]
        let name = try NSRegularExpression(pattern: "`([A-Za-z]+)?\\.([a-zA-Z0-9]+)`")
        for line in section.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let code = Int32(cells[1]) else { continue }
            var type = ""
            let first = cells[0]
            for match in name.matches(in: first, range: NSRange(first.startIndex..., in: first)) {
                if let range = Range(match.range(at: 1), in: first) { type = String(first[range]) }
                codes["\(type).\(String(first[Range(match.range(at: 2), in: first)!]))"] = code
            }
        }
        return codes
    }

    @Test("exit codes: the table gives every case of every typed error, with the code the CLI exits with")
    func exitCodes() throws {
        let documented = try Self.documentedExitCodes()
        for (name, error) in Self.errorSamples {
            // The sample is the case it names (cases with values: the mirror's label).
            if let label = Mirror(reflecting: error).children.first?.label {
                #expect(name.hasSuffix(".\(label)"), "the sample for \(name) is .\(label)")
            }
            let code = ErrorReport(error).category.exitStatus
            #expect(documented[name] == code, "\(name) exits \(code); docs/cli.md says \(documented[name].map(String.init) ?? "nothing")")
        }
        // Every case in the sources has a sample (so a new case cannot skip the table).
        let sampled = Set(Self.errorSamples.map(\.name))
        let wrappers: Set<String> = ["audio", "model", "output", "precision", "stream", "tar", "outputEncoding"]  // VoxEncError's
        let caseLine = try NSRegularExpression(pattern: "^    case ([a-z][A-Za-z0-9]*)", options: .anchorsMatchLines)
        for (type, file) in Self.errorSources {
            let source = try String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent(file).path, encoding: .utf8)
            let body = try #require(source.components(separatedBy: "enum \(type)").dropFirst().first?.components(separatedBy: "\n}\n").first)
            let cases = caseLine.matches(in: body, range: NSRange(body.startIndex..., in: body)).map { String(body[Range($0.range(at: 1), in: body)!]) }
            #expect(!cases.isEmpty, "no cases read from \(file)")
            for member in cases where !(type == "VoxEncError" && wrappers.contains(member)) {
                #expect(sampled.contains("\(type).\(member)"), "\(type).\(member) (\(file)) has no sample here, so no row is checked")
            }
        }
        // And the table names nothing the code does not have.
        #expect(Set(documented.keys).subtracting(sampled).isEmpty, "docs/cli.md names \(Set(documented.keys).subtracting(sampled).sorted())")
    }
}
