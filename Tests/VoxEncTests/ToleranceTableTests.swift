// The one tolerance table (Tests/tolerances/tolerances.json) checked as a new contributor would read it: every entry
// says what it bounds, against which reference, why, and what was measured where; no entry is there twice or unused;
// no test compares against a bare literal instead; the C and Python tests read the same table.

import Foundation
import Testing
import VoxEncTestSupport

@Suite("The tolerance table")
struct ToleranceTableTests {
    static let root = Fixtures.repositoryRoot

    /// The test sources that may use a tolerance: Swift tests, the C binding tests, the Python package's tests.
    static func testSources() throws -> [(path: String, text: String)] {
        var sources: [(String, String)] = []
        func walk(_ relative: String, extensions: Set<String>) throws {
            let base = root.appendingPathComponent(relative)
            guard let files = FileManager.default.enumerator(atPath: base.path) else { return }
            for case let file as String in files where extensions.contains((file as NSString).pathExtension) {
                let path = "\(relative)/\(file)"
                sources.append((path, try String(contentsOfFile: root.appendingPathComponent(path).path, encoding: .utf8)))
            }
        }
        try walk("Tests", extensions: ["swift", "c", "h", "py"])
        try walk("python/tests", extensions: ["py"])
        return sources.filter { !$0.0.hasSuffix("VoxEncTestSupport/Tolerances.swift") && !$0.0.hasPrefix("Tests/tolerances/") }
    }

    /// Whether `text` mentions `name` as a whole identifier (so `specFilterWeight` is not found in `specFilterWeightSmall`).
    static func mentions(_ text: String, _ name: String) -> Bool {
        var range = text.startIndex..<text.endIndex
        while let found = text.range(of: name, range: range) {
            let after = found.upperBound < text.endIndex ? text[found.upperBound] : " "
            let before = found.lowerBound > text.startIndex ? text[text.index(before: found.lowerBound)] : " "
            if !(after.isLetter || after.isNumber || after == "_") && !(before.isLetter || before.isNumber || before == "_") { return true }
            range = found.upperBound..<text.endIndex
        }
        return false
    }

    @Test("every entry states its bound, metric, reference, reason, and a measurement (value, command, CPU) within the bound")
    func entriesAreComplete() {
        #expect(ToleranceTable.list.count >= 60)
        for e in ToleranceTable.list {
            #expect(e.bound.isFinite && e.bound > 0, "\(e.name): bound \(e.bound)")
            #expect(e.kind == "upper" || e.kind == "lower", "\(e.name): kind \(e.kind)")
            for (field, value) in [("metric", e.metric), ("reference", e.reference), ("reason", e.reason),
                                   ("command", e.command ?? ""), ("cpu", e.cpu ?? "")] {
                #expect(value.count >= 8, "\(e.name): no \(field)")
            }
            guard let measured = e.measured else { Issue.record("\(e.name): no measured value"); continue }
            #expect(e.kind == "upper" ? measured <= e.bound : measured >= e.bound,
                    "\(e.name): measured \(measured) is outside its own \(e.kind) bound \(e.bound)")
            if let avx2 = e.boundAVX2 {
                let measuredAVX2 = e.measuredAVX2 ?? .nan
                #expect(measuredAVX2 <= avx2, "\(e.name): AVX2 measured \(measuredAVX2) vs bound \(avx2)")
            }
        }
    }

    @Test("no entry twice: names are unique, and no two entries bound the same metric against the same reference")
    func noDuplicates() {
        var names = Set<String>(), pairs = Set<String>()
        for e in ToleranceTable.list {
            #expect(names.insert(e.name).inserted, "\(e.name) is in the table twice")
            #expect(pairs.insert("\(e.metric) | \(e.reference)").inserted, "\(e.name) bounds what another entry bounds: \(e.metric) against \(e.reference)")
        }
    }

    @Test("every entry is used by a test (Swift, C or Python), and the Swift names are the table's")
    func everyEntryIsUsed() throws {
        let sources = try Self.testSources()
        for e in ToleranceTable.list {
            let users = sources.filter { Self.mentions($0.text, e.name) }.map(\.path)
            #expect(!users.isEmpty, "\(e.name) is in Tests/tolerances/tolerances.json but no test uses it: delete it")
        }
        // Tolerances.swift: `static let p = Tolerance("E.p")` (or `Bound("E.p")`) inside `enum E`, for every name.
        let declarations = try String(contentsOfFile: Self.root.appendingPathComponent("Tests/VoxEncTestSupport/Tolerances.swift").path,
                                      encoding: .utf8)
        var currentEnum = "", declared = Set<String>()
        for line in declarations.split(separator: "\n") {
            let words = line.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" && $0 != "." })
            if let i = words.firstIndex(of: "enum"), i + 1 < words.count { currentEnum = String(words[i + 1]) }
            guard line.contains("static let"), let open = line.range(of: "(\""), let close = line.range(of: "\")") else { continue }
            let name = String(line[open.upperBound..<close.lowerBound])
            let property = words[words.firstIndex(of: "let")! + 1]
            #expect(name == "\(currentEnum).\(property)", "Tolerances.swift declares \(currentEnum).\(property) as \(name)")
            declared.insert(name)
        }
        for e in ToleranceTable.list where !declared.contains(e.name) {
            // An entry Swift does not declare must be one the C or Python tests read by name.
            let nonSwift = sources.filter { !$0.path.hasSuffix(".swift") && Self.mentions($0.text, e.name) }
            #expect(!nonSwift.isEmpty, "\(e.name) is neither declared in Tolerances.swift nor read by the C or Python tests")
        }
    }

    @Test("no test compares against a bare literal tolerance (an exponent like 1e-4, or a fraction like 0.1)")
    func noInlineBounds() throws {
        // A comparison or product with a small literal inside an expectation or a bound: `<= 1e-4`, `< 0.1`,
        // `* 0.5001`. Exact facts (`== 0`, a clamp at `> 2.4e38`) are not tolerances and do not match.
        let pattern = try NSRegularExpression(pattern: #"(<=|>=|<|>|\*)\s*\(?\s*(\d+(\.\d+)?e-\d+|0\.\d+)"#)
        var found: [String] = []
        for (path, text) in try Self.testSources() where path.hasSuffix(".swift") || path.hasSuffix(".c") || path.hasSuffix(".py") {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                guard code.contains("#expect") || code.contains("#require") || code.contains("check(") || code.contains("assert")
                      || code.contains("bound") else { continue }
                if line.contains("not a tolerance:") { continue }  // a byte budget or a timing precondition, said why
                if pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    found.append("\(path):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(found.isEmpty, "bare literal bounds (name them in Tests/tolerances/tolerances.json):\n\(found.joined(separator: "\n"))")
    }

    @Test("the C and Python tests read the table, and name no constant that does not exist")
    func bindingsReadTheTable() throws {
        let c = try String(contentsOfFile: Self.root.appendingPathComponent("Tests/bindings/embed_test.c").path, encoding: .utf8)
        let python = try String(contentsOfFile: Self.root.appendingPathComponent("python/tests/test_voxenc.py").path, encoding: .utf8)
        let runner = try String(contentsOfFile: Self.root.appendingPathComponent("Tests/bindings/run.sh").path, encoding: .utf8)
        #expect(c.contains("tolerance(\"EncoderTolerance.endToEndRelativeL2\")") && c.contains("#include \"voxenc_tolerances.h\""))
        #expect(runner.contains("Tests/tolerances/tolerances.py --c-header"))
        #expect(python.contains("bound(\"EncoderTolerance.endToEndRelativeL2\")"))
        // A Name.member the C or Python tests cite must be an entry of the table.
        let cited = try NSRegularExpression(pattern: #"\b([A-Z][A-Za-z0-9]*Tolerance|[A-Z][A-Za-z]*Tests)\.([a-z][A-Za-z0-9]*)\b"#)
        for text in [c, python] {
            for match in cited.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(match.range, in: text)!])
                #expect(ToleranceTable.entries[name] != nil, "the bindings cite \(name), which the table does not have")
            }
        }
    }

    @Test("the generated C header and the Python module give the table's values")
    func generatedCopiesAgree() throws {
        let result = try Self.python(["Tests/tolerances/tolerances.py", "--c-header"])
        for e in ToleranceTable.list {
            #expect(result.contains("{\"\(e.name)\", "), "\(e.name) missing from the C header")
        }
        let printed = try Self.python(["-c", "import sys; sys.path.insert(0, 'Tests/tolerances'); import tolerances; "
                                          + "print(repr(tolerances.bound('EncoderTolerance.endToEndRelativeL2')))"])
        #expect(Double(printed.trimmingCharacters(in: .whitespacesAndNewlines)) == EncoderTolerance.endToEndRelativeL2.value)
    }

    @Test("tests and the table cite only files in the repository: docs/*.md (with their #sections), not the notes outside it")
    func citationsExist() throws {
        var sources = try Self.testSources()
        sources.append(("Tests/tolerances/tolerances.json",
                        try String(contentsOfFile: ToleranceTable.path, encoding: .utf8)))
        let cited = try NSRegularExpression(pattern: #"docs/([a-z0-9-]+\.(md|yaml))(#[a-z0-9-]+)?"#)
        for (path, text) in sources {
            let outside = ["SPEC" + ".md", "SPEC" + " §"]  // the project's notes outside the repository
            #expect(!outside.contains { text.contains($0) }, "\(path) cites \(outside[0]), which is not in the repository")
            for match in cited.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let file = String(text[Range(match.range(at: 1), in: text)!])
                let page = try? String(contentsOfFile: Self.root.appendingPathComponent("docs/\(file)").path, encoding: .utf8)
                #expect(page != nil, "\(path) cites docs/\(file), which does not exist")
                guard let page, let anchorRange = Range(match.range(at: 3), in: text) else { continue }
                // A GitHub anchor: the heading lower-cased, spaces to hyphens, punctuation dropped.
                let anchors = page.split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
                    String(heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                        .filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }.map { $0 == " " ? "-" : $0 })
                }
                let anchor = String(text[anchorRange].dropFirst())
                #expect(anchors.contains(anchor), "\(path) cites docs/\(file)#\(anchor), a section that does not exist")
            }
        }
    }

    static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }
}
