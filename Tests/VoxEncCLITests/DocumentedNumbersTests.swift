// Numbers in the docs that come from a committed results file or a committed table, recomputed here: a rerun that
// changes the file, or an edit that changes the prose, without the other fails.

import Foundation
import Testing
import VoxEncTestSupport

@Suite("Numbers in the docs match Benchmarks/results and their tables")
struct DocumentedNumbersTests {
    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent(relative).path, encoding: .utf8)
    }

    /// `bench-routes-*.log`: "== round N PRECISION [ROUTE]" lines, each followed by `voxenc bench --json` lines.
    static func benchRounds(_ relative: String) throws -> [String: [[String: Any]]] {
        var rounds: [String: [[String: Any]]] = [:]
        var current: String?
        for line in try text(relative).split(separator: "\n") {
            if line.hasPrefix("== ") {
                current = line.split(separator: " ", maxSplits: 3).dropFirst(3).first.map(String.init)
            } else if line.hasPrefix("{"), let current,
                      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                rounds[current, default: []].append(object)
            }
        }
        return rounds
    }

    @Test("scale-out.md's throughput table and node-hour arithmetic are the Zen 4 bench-routes log's, CPU named")
    func scaleOutThroughput() throws {
        let source = "Benchmarks/results/amd-epyc-zen4-avx512/bench-routes-1cb72f6.log"
        let rounds = try Self.benchRounds(source)
        let page = try Self.text("docs/scale-out.md")
        #expect(page.contains(source))
        let cpu = try #require(rounds["f32 onednn-matmul"]?.first?["cpu"] as? String)
        #expect(cpu.hasPrefix("AMD EPYC (family 25 model 17)") && page.contains("AMD EPYC (family 25 model 17"), "\(cpu)")
        func grouped(_ n: Int) -> String {  // 3744 → "3 744"
            n >= 1000 ? "\(n / 1000) \(String(format: "%03d", n % 1000))" : "\(n)"
        }
        for (key, label) in [("f32 onednn-matmul", "f32 (onednn-matmul"), ("f32 openblas", "f32 (openblas)"), ("bf16", "bf16 |")] {
            let runs = try #require(rounds[key], "\(source) has no \(key) rounds")
            #expect(runs.allSatisfy { $0["threads"] as? Int == 2 && $0["model"] as? String == "voxtral-mini" })
            let seconds = runs.compactMap { $0["secondsPerChunk"] as? Double }.reduce(0, +) / Double(runs.count)
            let row = String(format: "| 2 | %.2f | %.1f | %d |", seconds, 30 / seconds, Int((3600 / seconds).rounded()))
            let line = page.split(separator: "\n").first { $0.contains(label) && $0.hasPrefix("| Voxtral Mini") }
            #expect(line?.hasSuffix(row) == true, "\(key): expected a row ending \(row), found \(String(describing: line))")
            if key != "f32 openblas" {
                // 10 000 h = 1.2 M chunks; node-hours on 2 cores; hours on 64 × 32 cores = 1 024 two-core slots.
                let nodeHours = Int((1.2e6 * seconds / 3600).rounded())
                #expect(page.contains("≈ \(grouped(nodeHours))"), "\(key): \(grouped(nodeHours)) two-core node-hours")
                #expect(page.contains(String(format: "%.1f", 1.2e6 * seconds / 3600 / 1024)), "\(key): hours on 64 nodes")
            }
        }
    }

    @Test("datasets.md's output-cost and dtype-error tables are the Zen 5 results files', CPU named")
    func datasetsTables() throws {
        let page = try Self.text("docs/datasets.md")
        #expect(page.contains("AMD EPYC family 26 model 2 (Zen 5)"))
        for (model, label) in [("whisper-tiny.en", "Whisper tiny.en"), ("whisper-base", "Whisper base")] {
            let source = "Benchmarks/results/amd-epyc-zen5-avx512/datasets-outputs-\(model).json"
            let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(source).utf8)) as? [String: Any])
            let outputs = try #require(object["outputs"] as? [[String: Any]])
            let machine = object["machine"] as? [String: Any]
            #expect(machine?["cpu_family"] as? String == "26" && machine?["cpu_model"] as? String == "2", "\(source)")
            var cells = [String(format: "%.1f ms", 1000 * (object["median_embed_seconds"] as! Double))]
            for output in outputs {
                let write = String(format: "%.2f ms", 1000 * (output["median_write_seconds"] as! Double))
                let share = 100 * (output["added_share_of_file_time"] as! Double)
                cells.append(output["output"] as? String == "float32 files" ? write
                             : write + String(format: " (%@%.2f %%)", share < 0 ? "−" : "+", abs(share)))
            }
            let row = "| \(label), [\(object["rows"] as! Int), \(object["width"] as! Int)] | " + cells.joined(separator: " | ") + " |"
            #expect(page.contains(row), "datasets.md lacks the row \(row)")
        }
        let errors = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(
            "Benchmarks/results/amd-epyc-zen5-avx512/datasets-dtype-error.json").utf8)) as? [String: Any])
        let rows = try #require(errors["rows"] as? [[String: Any]])
        for row in rows {
            let bound = row["dtype"] as? String == "float16" ? 1.0 / 2048 : 1.0 / 256
            #expect((row["max_relative"] as! Double) <= bound && (row["overflowed"] as! Int) == 0, "\(row)")
        }
        // "| Whisper base (real) | float16 | 2.05–2.10e-4 |": each model's range of relative L2 over the recordings.
        for (model, label) in [("whisper-tiny.en (real)", "Whisper tiny.en (real)"), ("whisper-base (real)", "Whisper base (real)"),
                               ("voxtral tiny (random, adapter)", "Voxtral tiny (random)")] {
            for (dtype, scale, exponent) in [("float16", 1e4, "e-4"), ("bfloat16", 1e3, "e-3")] {
                let values = rows.filter { $0["model"] as? String == model && $0["dtype"] as? String == dtype }
                    .map { ($0["relative_l2"] as! Double) * scale }
                let cell = String(format: "%.2f–%.2f", values.min() ?? 0, values.max() ?? 0) + exponent
                #expect(values.count == 3 && page.contains("| \(label) | \(dtype) | \(cell) |"), "\(label) \(dtype): \(cell)")
            }
        }
    }

    @Test("the count of int8 cases within 2 % is the transcript table's, in precision.md, numerics.md and performance.md")
    func int8CasesWithinTwoPercent() throws {
        let precision = try Self.text("docs/precision.md")
        // Rows "| tiny.en | short-48k | 1.8 % (…) | …" and "| base | …": the voxenc int8 column is the third (the bf16
        // table's rows, "| tiny.en | 0.32 % | …", have a number where the int8 table names the audio).
        let rows = precision.split(separator: "\n").filter { $0.hasPrefix("| tiny.en |") || $0.hasPrefix("| base |") }
            .filter { !$0.split(separator: "|")[1].contains("%") }
        let errors = rows.compactMap { row -> Double? in
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.count > 2 ? Double(cells[2].prefix { $0 != " " }) : nil
        }
        #expect(errors.count == 10, "\(rows)")
        let within = errors.filter { $0 <= 2.0 }.count
        let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        #expect(precision.contains("\(words[within]) of them at or under 2 %"), "\(within) of \(errors.count): \(errors)")
        for page in ["docs/numerics.md", "docs/performance.md"] {
            let text = try Self.text(page).replacingOccurrences(of: "\n", with: " ")
            #expect(text.contains("in \(within) of 10 cases") || text.contains("in \(within) of \(errors.count) cases"),
                    "\(page) should say \(within) of 10")
        }
    }

    @Test("names in README and docs exist: docs/*.md links resolve, and a backticked `Type.member` of ours names a member the sources declare")
    func namesExist() throws {
        let root = Fixtures.repositoryRoot
        let sources = try FileManager.default.subpathsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { $0.hasSuffix(".swift") }
            .map { try String(contentsOfFile: root.appendingPathComponent("Sources/\($0)").path, encoding: .utf8) }
            .joined(separator: "\n")
        let declaration = try NSRegularExpression(pattern: #"(?:enum|struct|class|actor|protocol|typealias)\s+([A-Z][A-Za-z0-9]*)"#)
        let types = Set(declaration.matches(in: sources, range: NSRange(sources.startIndex..., in: sources))
            .map { String(sources[Range($0.range(at: 1), in: sources)!]) })
        let pages = ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/\($0)" })
        let qualified = try NSRegularExpression(pattern: #"`([A-Z][A-Za-z0-9]*)\.([a-z][A-Za-z0-9]*)"#)
        let link = try NSRegularExpression(pattern: #"(?:docs/|\]\()([a-z0-9-]+\.(?:md|yaml))"#)
        for page in pages {
            var text = try Self.text(page)
            // README's "Version notes" name the API as it was (removed or renamed members): not checked.
            if let notes = text.range(of: "\n## Version notes") {
                text = String(text[..<notes.lowerBound]) + (text[notes.upperBound...].range(of: "\n## ").map { String(text[notes.upperBound...][$0.lowerBound...]) } ?? "")
            }
            for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let file = String(text[Range(match.range(at: 1), in: text)!])
                #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("docs/\(file)").path),
                        "\(page) links docs/\(file), which does not exist")
            }
            for match in qualified.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let type = String(text[Range(match.range(at: 1), in: text)!])
                let member = String(text[Range(match.range(at: 2), in: text)!])
                guard types.contains(type), member != "swift" else { continue }  // not ours, or a file name
                let declared = try NSRegularExpression(pattern: #"(?:var|let|func|case)\s+(?:[A-Za-z0-9_]+,\s*)*"# + member + #"\b|case [^\n]*\b"# + member + #"\b"#)
                #expect(declared.firstMatch(in: sources, range: NSRange(sources.startIndex..., in: sources)) != nil,
                        "\(page) names `\(type).\(member)`, which the sources do not declare")
            }
        }
    }

    @Test("peak RSS: README's and performance.md's figures are the Zen 4 peak-rss results file's, CPU and commit named")
    func peakResidentSize() throws {
        let source = "Benchmarks/results/amd-epyc-zen4-avx512/peak-rss-8336d7d.json"
        let file = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(source).utf8)) as? [String: Any])
        #expect((file["cpu"] as? String)?.hasPrefix("AMD EPYC") == true && file["commit"] as? String == "8336d7d")
        let rows = try #require(file["rows"] as? [[String: Any]])
        func kB(_ precision: String, _ commit: String, _ chunks: Int) throws -> Int {
            try #require(rows.first { $0["precision"] as? String == precision && $0["commit"] as? String == commit
                && $0["chunks_per_batch"] as? Int == chunks }?["max_rss_kb"] as? Int)
        }
        func grouped(_ n: Int) -> String {  // 2819500 → "2 819 500"
            String(n / 1_000_000) + " " + String(format: "%03d %03d", n / 1000 % 1000, n % 1000)
        }
        // performance.md's table: every cell is the file's.
        let page = try Self.text("docs/performance.md")
        #expect(page.contains(source))
        for (label, precision) in [("| bf16 (layer 0 float32) |", "bf16"), ("| int8 (layer 0 float32) |", "int8"),
                                   ("| f32, packed matmul (`onednn-matmul`) |", "f32")] {
            let row = try #require(page.split(separator: "\n").first { $0.hasPrefix(label) }, "\(label)")
            for commit in ["6bdc82e", "8336d7d"] {
                let cell = "\(grouped(try kB(precision, commit, 1))) / \(grouped(try kB(precision, commit, 2))) kB"
                #expect(row.contains(cell), "performance.md \(precision) \(commit): \(cell) not in \(row)")
            }
        }
        // README: "GB" as the docs use it, 10⁶ kB.
        let readme = try Self.text("README.md")
        func gb(_ kB: Int) -> String { String(format: "%.2f GB", Double(kB) / 1e6) }
        #expect(readme.contains(source))
        #expect(readme.contains("peak RSS \(gb(try kB("f32", "8336d7d", 1))) for Voxtral Mini at 1 chunk per batch, "
                                + "\(gb(try kB("f32", "8336d7d", 2))) at the default 2"), "README's peak RSS")
        #expect(page.contains("the whole process peaks at \(gb(try kB("int8", "8336d7d", 1))) at 1 chunk per batch, "
                              + "\(gb(try kB("int8", "8336d7d", 2))) at 2"), "performance.md's int8 peak")
    }

    @Test("README's int8 speed-ups are peers-int8-2threads.json's: ≈ 2.3× f32, 1.28× CTranslate2 int8")
    func int8SpeedUps() throws {
        let source = "Benchmarks/results/peers-int8-2threads.json"
        let file = try #require(try JSONSerialization.jsonObject(with: Data(Self.text(source).utf8)) as? [String: Any])
        #expect(file["commit"] as? String != nil)
        let seconds = try #require(file["seconds_per_chunk"] as? [String: Double])
        let int8 = try #require(seconds["voxenc int8"]), f32 = try #require(seconds["voxenc"])
        let ctranslate2 = try #require(seconds["ctranslate2 int8 (encoder only)"])
        let readme = try Self.text("README.md")
        let expected = String(format: "≈ %.1f× f32 on the Voxtral-Mini shape (%.2f× CTranslate2 int8; `%@`", f32 / int8, ctranslate2 / int8, source)
        #expect(readme.contains(expected), "README should say: \(expected)")
    }
}
