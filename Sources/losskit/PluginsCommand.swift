import ArgumentParser
import Foundation
import LossKitCore
import LossKitHost
import LossKitLossExpression
import LossKitPlugins

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins found on the search path, and the files that were refused.",
        subcommands: [List.self, Info.self, Check.self, CheckChild.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Table of plugins: name, kind, version, ABI, file, summary.")
        @OptionGroup var plugins: PluginOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            let loader = plugins.load()
            if json {
                let rows: [[String: String]] = loader.plugins.map {
                    ["name": $0.name, "kind": $0.kind.rawValue, "version": $0.version, "abi": $0.abiVersion, "file": $0.path, "summary": $0.summary]
                }
                let rejected = loader.rejected.map { ["file": $0.path, "reason": $0.reason] }
                let data = try JSONSerialization.data(withJSONObject: ["plugins": rows, "rejected": rejected, "load_ms": loader.loadMilliseconds], options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            var rows = [["NAME", "KIND", "VERSION", "ABI", "FILE", "SUMMARY"], ["ce", "objective", "built-in", "-", "(host)", "cross-entropy of the linear head on the labelled rows"]]
            rows += loader.plugins.map { [$0.name, $0.kind.rawValue, $0.version, $0.abiVersion, $0.path, $0.summary] }
            print(Table.render(rows))
            if !loader.rejected.isEmpty {
                print("\nRefused files:")
                for r in loader.rejected { print("  \(r.path)\n    \(r.reason)") }
            }
            print(String(format: "\n%d plugins loaded in %.1f ms", loader.plugins.count, loader.loadMilliseconds))
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "A plugin's options (type, default, doc), the taps it reads, and its probes.")
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "Plugin name, as `losskit plugins` lists it.") var name: String

        func run() throws {
            let loader = plugins.load()
            guard let p = loader.plugin(named: name) else {
                throw CommandFailure("no plugin named '\(name)' (loaded: \(loader.plugins.map(\.name).joined(separator: ", ")))")
            }
            print("\(p.name) \(p.version) — \(p.kind.rawValue), ABI \(p.abiVersion)\n  \(p.summary)\n  file: \(p.path)")
            if p.kind == .objective {
                print("  reads taps: \(p.tapsRead.joined(separator: ", "))" + (p.defaultTap.map { "  (`\(p.name)@TAP` replaces \($0))" } ?? ""))
                if !p.tapsReadWithoutGradient.isEmpty {
                    print("  may send no gradient through: \(p.tapsReadWithoutGradient.joined(separator: ", "))")
                }
            }
            if p.options.isEmpty { print("\nOptions: none") } else {
                print("\nOptions (set as \(p.name)(key=value, ...) in \(p.kind == .objective ? "--loss" : "--encoder")):")
                print(Table.render([["NAME", "TYPE", "DEFAULT", "ACCEPTS", "DOC"]] + p.options.map { [$0.name, $0.type.rawValue, $0.defaultValue, $0.accepts, $0.doc] }, indent: 2))
            }
            if !p.probes.isEmpty {
                print("\nProbes (logged as \(p.name).NAME in metrics.jsonl):")
                print(Table.render([["NAME", "TYPE", "DOC"]] + p.probes.map { [$0.name, $0.type.rawValue, $0.doc] }, indent: 2))
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Load a plugin library in a child process, run it on a random batch, and gradient-check it.",
            discussion: "A crash inside the plugin is reported as a failed check; this process survives it.")
        @Argument(help: "Path of the plugin library (.so).") var path: String
        @Option(name: .customLong("option"), help: ArgumentHelp("key=value option for the plugin (repeatable).", valueName: "key=value")) var options: [String] = []
        @Option(help: ArgumentHelp("Check one term as a loss expression writes it: its tap and options, e.g. 'rotnet@conv5(angles=2)'.",
                                   valueName: "term")) var term: String?

        func validate() throws {
            for option in options where !option.contains("=") {
                throw ValidationError("--option takes key=value; got '\(option)'")
            }
            if let term {
                let parsed: LossExpression
                do { parsed = try LossExpression.parse(term) } catch { throw ValidationError("--term: \(error)") }
                guard parsed.terms.count == 1, parsed.terms[0].weight == 1 else {
                    throw ValidationError("--term takes one term without a weight, as name@tap(key=value, ...); got '\(term)'")
                }
            }
        }

        func run() throws {
            let exe = PluginLoader.defaultExecutableDirectory().map { $0 + "/losskit" } ?? CommandLine.arguments[0]
            let p = Process()
            p.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? exe)
            p.arguments = ["plugins", "check-child", path] + options.flatMap { ["--option", $0] } + (term.map { ["--term", $0] } ?? [])
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let output = String(decoding: data, as: UTF8.self)
            var lastPhase = "load"
            for line in output.split(separator: "\n") {
                if line.hasPrefix("phase: ") { lastPhase = String(line.dropFirst(7)) } else { print(line) }
            }
            if p.terminationReason == .uncaughtSignal {
                let sig = p.terminationStatus
                let name = [4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"][Int(sig)] ?? "signal \(sig)"
                print("FAILED: the plugin crashed (\(name)) during \(lastPhase); the host survived because the check ran in a child process")
                throw ExitCode(2)
            }
            if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
        }
    }

    /// The child side of `check`: everything that may crash runs here.
    struct CheckChild: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check-child", shouldDisplay: false)
        @Argument var path: String
        @Option(name: .customLong("option")) var options: [String] = []
        @Option var term: String?

        func run() throws {
            setvbuf(stdout, nil, _IOLBF, 0)
            // one thread: the check is thousands of tiny evaluations, and OpenBLAS left at its
            // default (a thread per core, spinning between calls) made convnet-s and convnet-l's
            // check 6× slower beside other work (21 s against 3.5 s at width 0.5; minutes at 1)
            Threads.set(1)
            print("phase: load")
            let loader = PluginLoader()
            let found = loader.loadLibrary(at: path)
            if let r = loader.rejected.first {
                print("FAILED: \(r.path): \(r.reason)")
                throw ExitCode(1)
            }
            // `check` validated them
            var pairs: [(key: String, value: String)] = options.map {
                let eq = $0.firstIndex(of: "=")!
                return (String($0[..<eq]), String($0[$0.index(after: eq)...]))
            }
            let termSpec = try term.map { try LossExpression.parse($0).terms[0] }
            if let termSpec {
                pairs = termSpec.options.map { ($0.key, $0.value) } + pairs
                guard found.contains(where: { $0.name == termSpec.plugin }) else {
                    print("FAILED: \(path) has no plugin '\(termSpec.plugin)' (it has \(found.map(\.name).joined(separator: ", ")))")
                    throw ExitCode(1)
                }
            }
            var failed = false
            for plugin in found where termSpec == nil || plugin.name == termSpec!.plugin {
                var checker = PluginChecker()
                checker.tap = termSpec?.tap
                checker.phase = { print("phase: \($0) of \(plugin.name)") }
                do {
                    let result = try checker.check(plugin, options: pairs)
                    print("\(result.passed ? "ok" : "FAILED"): \(result)")
                    for m in result.report.mismatches.prefix(10) { print("    \(m)") }
                    failed = failed || !result.passed
                } catch {
                    print("FAILED: \(plugin.name): \(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

/// Left-aligned columns with two spaces between them.
enum Table {
    static func render(_ rows: [[String]], indent: Int = 0) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            String(repeating: " ", count: indent) + row.enumerated().map { c, cell in
                c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
