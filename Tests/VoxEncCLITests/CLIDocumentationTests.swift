// docs/cli.md against the CLI's own `--help`, in both directions: every subcommand has a "## `voxenc CMD`" section
// and every section a subcommand; every flag of a command's --help is in its section's option table and every flag
// in the table is in --help; every "(default: X)" of --help appears in the flag's row. A flag added, removed or
// renamed, or a default changed, without the page fails here.

import Foundation
import Testing
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

    @Test("each command's flags: in --help exactly when in its table; --help's defaults in the rows",
          arguments: ["embed", "stream", "pull", "mel", "info", "bench"])
    func flagsAndDefaults(command: String) throws {
        let options = Self.helpOptions(try Self.help([command]))
        let section = try #require(Self.sections[command], "docs/cli.md has no ## `voxenc \(command)` section")
        let rows = Self.optionRows(section)
        let common: Set<String> = ["--help", "-h", "--version"]
        let inHelp = Set(options.keys).subtracting(common)
        let inDocs = Set(rows.keys).subtracting(common)
        #expect(!inHelp.isEmpty)
        #expect(inHelp.subtracting(inDocs).isEmpty, "\(command): in --help, not in docs/cli.md: \(inHelp.subtracting(inDocs).sorted())")
        #expect(inDocs.subtracting(inHelp).isEmpty, "\(command): in docs/cli.md, not in --help: \(inDocs.subtracting(inHelp).sorted())")
        // Defaults: ArgumentParser's "(default: X)" that ends an entry (the declared default value, not prose)
        // → X in the row (as `X` or plain), next to the word "default".
        let pattern = try NSRegularExpression(pattern: "\\(default: ([^)]+)\\)\\s*$")
        for (flag, text) in options where !common.contains(flag) {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let value = String(text[Range(match.range(at: 1), in: text)!])
                let row = rows[flag] ?? ""
                #expect(row.lowercased().contains("default") && (row.contains("`\(value)`") || row.contains(value)),
                        "\(command) \(flag): --help says default \(value); docs/cli.md row: \(row)")
            }
        }
    }
}
