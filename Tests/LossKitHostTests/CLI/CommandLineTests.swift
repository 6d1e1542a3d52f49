import Foundation
import LossKitTestSupport
import XCTest

/// The `losskit` executable as a user runs it: listing, refusing, checking in a child process,
/// and training errors on the terminal.
final class CommandLineTests: XCTestCase {
    private var folder = ""
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        folder = try BuiltPlugins.folder(["ConvNet", "NCE"])
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func losskit(_ args: [String]) -> (Int32, String) {
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = nil
        // isolate from plugins installed beside the executable by scripts/build.sh
        let isolated = args.contains("--plugin-path") ? args + ["--only-plugin-path"] : args
        return PluginFixtures.run(losskit, isolated, environment: env)
    }

    func testPluginsListsBuiltInsAndReportsABrokenFileWithItsReason() throws {
        try "garbage".write(toFile: folder + "/libbroken.so", atomically: true, encoding: .utf8)
        let (status, out) = losskit(["plugins", "--plugin-path", folder])
        XCTAssertEqual(status, 0, out)
        for name in ["ce ", "convnet-s", "convnet-l", "nce "] { XCTAssertTrue(out.contains(name), "missing \(name) in:\n\(out)") }
        XCTAssertTrue(out.contains("Refused files:\n  \(folder)/libbroken.so\n    not an ELF shared library"), out)
    }

    func testOnlyPluginPathIgnoresTheOtherFolders() throws {
        let other = try PluginFixtures.makeFolder()
        try PluginFixtures.build("two_plugins", into: other)
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = other
        let (_, with) = PluginFixtures.run(losskit, ["plugins", "--plugin-path", folder], environment: env)
        XCTAssertTrue(with.contains("alpha"), "LOSSKIT_PLUGIN_PATH is searched: \(with)")
        let (_, without) = PluginFixtures.run(losskit, ["plugins", "--plugin-path", folder, "--only-plugin-path"], environment: env)
        XCTAssertFalse(without.contains("alpha"), without)
        XCTAssertTrue(without.contains("convnet-s"), without)
    }

    func testRemovingAPluginsLibraryRemovesItFromTheList() throws {
        try FileManager.default.removeItem(atPath: folder + "/libLossKitNCE.so")
        let (_, out) = losskit(["plugins", "--plugin-path", folder])
        XCTAssertFalse(out.contains("nce "), out)
        XCTAssertTrue(out.contains("convnet-s"), out)
    }

    func testConflictingOrImpossibleArgumentsAreRefusedBeforeAnyWork() {
        let cases: [([String], String)] = [
            (["train", "--steps", "5", "--epochs", "1", "--out", "/nonexistent/run"], "give --steps or --epochs, not both"),
            (["train", "--labels-per-class", "5", "--all-labels", "--out", "/nonexistent/run"], "give --labels-per-class or --all-labels, not both"),
            (["eval", "knn", "/nonexistent/run", "--raw-pixels"], "give a run folder or --raw-pixels, not both"),
            (["eval", "knn", "/nonexistent/run", "--data", "idx:/tmp"], "--data goes with --raw-pixels"),
            (["bench", "--windows", "0"], "--windows must be at least 1, got 0"),
            (["bench", "--by-shape", "--top", "0"], "--top must be at least 1, got 0"),
            (["bench", "--top", "5"], "--top goes with --by-shape"),
            (["bench", "--by-shape", "--conv-only"], "--by-shape profiles the training rows, which --conv-only skips"),
            (["bench", "--loops-only", "--threads", "1"], "--loops-only needs --threads 2 or more"),
            (["bench", "--threads", "0"], "--threads must be in 1...256, got 0"),
            (["bench", "--json", "/nonexistent/b.json"], "--json /nonexistent/b.json: no folder /nonexistent to write it in"),
            (["plugins", "--plugin-path", "/nonexistent/plugins"], "--plugin-path /nonexistent/plugins: no such file or folder"),
            // a negative number is read as the option's value, not as a missing one
            (["train", "--steps", "-3", "--out", "/nonexistent/run"], "steps must be ≥ 1, got -3"),
            (["eval", "knn", "/nonexistent/run", "--k", "-5"], "--k must be at least 1, got -5"),
            (["eval", "knn", "/nonexistent/run", "--tau", "0"], "--tau must be a positive number, got 0.0"),
            (["report", "/nonexistent/run", "--threads", "0"], "--threads must be in 1...256, got 0"),
            (["embed", "/nonexistent/run", "--out", "/tmp/x.npy", "--split", "val"], "--split is train or test, got 'val'"),
            (["plugins", "check", "/nonexistent.so", "--option", "width"], "--option takes key=value; got 'width'"),
            (["plugins", "check", "/nonexistent.so", "--term", "0.5*sc"], "--term takes one term without a weight, as name@tap(key=value, ...); got '0.5*sc'"),
            (["plugins", "check", "/nonexistent.so", "--term", "sc + nce"], "--term takes one term without a weight"),
            (["plugins", "check", "/nonexistent.so", "--term", "sc(region="], "--term: "),
            (["invert", "/nonexistent/run", "--unpool", "known,sideways"], "--unpool takes known, fixed and/or upsample; got 'known,sideways'"),
            (["invert", "/nonexistent/run", "--from", ","], "--from needs at least one layer"),
            (["invert", "/nonexistent/run", "--steps", "0"], "--steps must be in 1...1000000, got 0"),
            (["invert", "/nonexistent/run", "--lr", "-1"], "--lr must be a positive number, got -1.0"),
            (["eval", "samples", "/nonexistent/run", "--classifier", "/nonexistent/c", "--count", "1"], "--count must be in 2...100000, got 1"),
            (["report", "/nonexistent/run", "--tsne-points", "-1"], "--tsne-points must be in 0...10000, got -1"),
            (["report", "/nonexistent/run", "--merge-plugin-versions", "dim,"], "--merge-plugin-versions takes 'all' or plugin names separated by commas, got 'dim,'"),
        ]
        for (args, message) in cases {
            let (status, out) = losskit(args)
            XCTAssertNotEqual(status, 0, "\(args): \(out)")
            XCTAssertTrue(out.contains(message), "\(args):\n\(out)")
        }
    }

    func testTheInstallScriptRefusesWhatItCannotDo() {
        let script = PluginFixtures.repositoryRoot.appendingPathComponent("scripts/install.sh").path
        for (args, message) in [(["--frobnicate"], "error: unknown argument '--frobnicate' (see --help)"),
                                (["--configuration", "fast"], "error: --configuration is release or debug, not 'fast'")] {
            let (status, out) = PluginFixtures.run("/bin/bash", [script] + args)
            XCTAssertEqual(status, 2, out)
            XCTAssertTrue(out.contains(message), out)
        }
    }

    func testBenchByShapePrintsTheLargestLinesAndWritesEveryLineToTheJSON() throws {
        let json = TemporaryFolders.path("losskit-bench", suffix: ".json")
        defer { try? FileManager.default.removeItem(atPath: json) }
        let (status, out) = losskit(["bench", "--plugin-path", folder, "--rows", "ce", "--by-shape", "--top", "2",
                                     "--steps", "1", "--windows", "1", "--threads", "1", "--json", json])
        XCTAssertEqual(status, 0, out)
        let lines = out.split(separator: "\n").map(String.init)
        let title = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("ce, per op and operand shapes") }, out)
        let total = try XCTUnwrap(lines[title].components(separatedBy: "largest 2 of ").last.flatMap { Int($0.prefix { $0.isNumber }) }, lines[title])
        XCTAssertGreaterThan(total, 5, "convnet-s's five convolutions alone")
        XCTAssertTrue(lines[title + 1].contains("OP OPERANDS → RESULT"), out)
        XCTAssertTrue(lines[title + 2].contains("conv [128, "), "the largest line is a convolution:\n\(out)")
        XCTAssertTrue(lines[title + 4].hasPrefix("peak resident memory"), "two lines only:\n\(out)")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let row = try XCTUnwrap((report["rows"] as? [String: Any])?["ce"] as? [String: Any])
        let shapes = try XCTUnwrap(row["by_shape"] as? [[String: Any]])
        XCTAssertEqual(shapes.count, total, "every line goes to the JSON")
        for line in shapes {
            XCTAssertNotNil(line["op_shapes"] as? String, "\(line)")
            XCTAssertNotNil(line["backward_ms"] as? Double, "\(line)")
            XCTAssertTrue(line["forward_ms"] is Double || line["forward_ms"] is NSNull, "a time, or null for an untimed forward: \(line)")
        }
        // what the figures depend on: in the table's first lines and in the JSON
        let cpu = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("CPU: ") }, out)
        XCTAssertTrue(lines[cpu + 1].hasPrefix("OpenBLAS core: ") && lines[cpu + 2].hasPrefix("engine kernels: "), out)
        let machine = try XCTUnwrap(report["machine"] as? [String: Any])
        XCTAssertFalse(try XCTUnwrap(machine["cpu_model"] as? String).isEmpty)
        XCTAssertNotNil(machine["cpu_features"] as? [String])
        XCTAssertNotNil(machine["kernel_path"] as? String)
        let blas = try XCTUnwrap(machine["blas"] as? [String: Any])
        XCTAssertTrue(lines[cpu + 1].hasPrefix("OpenBLAS core: \(try XCTUnwrap(blas["core"] as? String)) (\(try XCTUnwrap(blas["chosen_by"] as? String))"), "\(blas)")
    }

    func testAFailureAfterTheArgumentsParsedPrintsItsMessageWithoutAnotherCommandsUsage() {
        let (status, out) = losskit(["plugins", "info", "nosuch", "--plugin-path", folder])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("Error: no plugin named 'nosuch' (loaded: "), out)
        XCTAssertFalse(out.contains("Usage: losskit <subcommand>"), "not the top-level usage: \(out)")
    }

    func testPluginsInfoPrintsOptionsTapsAndProbes() {
        let (status, out) = losskit(["plugins", "info", "nce", "--plugin-path", folder])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("tau        double  0.07     > 0        temperature"), out)
        XCTAssertTrue(out.contains("reads taps: features"), out)
        XCTAssertTrue(out.contains("positive_similarity"), out)
    }

    func testPluginsCheckSurvivesAPluginThatCrashes() throws {
        let lib = try PluginFixtures.build("crash_in_loss", into: folder)
        let (status, out) = losskit(["plugins", "check", lib])
        XCTAssertEqual(status, 2, out)
        XCTAssertTrue(out.contains("FAILED: the plugin crashed (SIGABRT) during loss of crasher; the host survived"), out)
    }

    func testPluginsCheckPassesTheExampleAndFailsAWrongGradient() throws {
        let good = try PluginFixtures.build("entropy_min", into: folder, source: PluginFixtures.repositoryRoot.appendingPathComponent("Examples/entropy-min/entropy_min.c").path)
        var (status, out) = losskit(["plugins", "check", good])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.hasPrefix("ok: entropy-min"), out)
        let bad = try PluginFixtures.build("custom_bad_grad", into: folder)
        (status, out) = losskit(["plugins", "check", bad])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("FAILED: custom-bad-grad"), out)
    }

    func testTheCExampleTrainsWithoutRebuildingTheHost() throws {
        try PluginFixtures.build("entropy_min", into: folder, source: PluginFixtures.repositoryRoot.appendingPathComponent("Examples/entropy-min/entropy_min.c").path)
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let (status, out) = losskit(["train", "--plugin-path", folder, "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                     "--loss", "ce + 0.3*entropy-min(temperature=2)", "--labels-per-class", "2", "--batch-size", "8",
                                     "--labelled-per-batch", "4", "--steps", "2", "--log-every", "1", "--threads", "1", "--out", SyntheticData.runFolder()])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("entropy-min "), "the term is shown on the progress line: \(out)")
    }

    func testTheHeadersOwnExamplePluginCompilesAndLoads() throws {
        // the minimal plugin in losskit.h's first comment, extracted and built as a user would
        let header = try String(contentsOfFile: PluginFixtures.headerDirectory + "/losskit.h", encoding: .utf8)
        guard let start = header.range(of: " *   #include <losskit.h>"), let end = header.range(of: " * Build: ") else {
            return XCTFail("the header lost its example")
        }
        let source = header[start.lowerBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(" *   ") ? String($0.dropFirst(5)) : $0.hasPrefix(" *") ? String($0.dropFirst(2)) : String($0) }
            .joined(separator: "\n")
        // the issue's bound on a minimal plugin: a complete objective with a declared option in ≤ 30 lines
        XCTAssertLessThanOrEqual(source.split(separator: "\n").count, 30, source)
        let path = folder + "/energy.c"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let library = try PluginFixtures.build("energy", into: folder, source: path)
        try FileManager.default.removeItem(atPath: path)
        var (status, out) = losskit(["plugins", "info", "energy", "--plugin-path", folder])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("scale  double  1.0      ≥ 0      multiplies the energy"), out)
        (status, out) = losskit(["plugins", "check", library, "--term", "energy(scale=2)"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.hasPrefix("ok: energy"), out)
        (status, out) = losskit(["plugins", "check", library, "--term", "energy(scale=-1)"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("energy(scale=-1): scale must be ≥ 0, got -1.0"), out)
    }

    func testATypoInTheLossPointsAtTheCharacter() throws {
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let (status, out) = losskit(["train", "--plugin-path", folder, "--data", "idx:" + data, "--loss", "ce + 0.5*ncee",
                                     "--out", SyntheticData.runFolder(), "--steps", "1"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("unknown objective 'ncee' — did you mean 'nce'?"), out)
        XCTAssertTrue(out.contains("ce + 0.5*ncee\n         ^"), out)
    }

    func testTrainingPrintsTestAccuracyAndTheHelpDocumentsTheLossSyntax() throws {
        let data = try SyntheticData.makeFolder(train: 64, test: 16)
        let run = SyntheticData.runFolder()
        let (status, out) = losskit(["train", "--plugin-path", folder, "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                     "--loss", "ce + 0.2*nce(negatives=16)", "--labels-per-class", "4", "--batch-size", "16",
                                     "--labelled-per-batch", "8", "--steps", "4", "--log-every", "2", "--threads", "1", "--out", run])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("step 4/4"), out)
        XCTAssertTrue(out.contains("test accuracy: "), out)
        for file in ["config.json", "metrics.jsonl", "checkpoint.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(run)/\(file)"), file)
        }
        let (_, help) = losskit(["train", "--help"])
        XCTAssertTrue(help.contains("'ce + 0.5*nce + 0.1*sc@conv4(region=0.5)'"), help)
        let (s2, embed) = losskit(["embed", run, "--plugin-path", folder, "--out", run + "/f.npy"])
        XCTAssertEqual(s2, 0, embed)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/f.npy"))
        let (s3, knn) = losskit(["eval", "knn", run, "--plugin-path", folder, "--k", "5"])
        XCTAssertEqual(s3, 0, knn)
        XCTAssertTrue(knn.contains("kNN accuracy: "), knn)
    }

    /// A pretraining run without labelled rows leaves the head at its random weights: the closing
    /// line says so instead of printing that head's chance-level accuracy as a result.
    func testAnUnsupervisedRunSaysItsHeadWasNotTrained() throws {
        let data = try SyntheticData.makeFolder(train: 64, test: 16)
        let run = SyntheticData.runFolder()
        let (status, out) = losskit(["train", "--plugin-path", folder, "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                     "--loss", "nce(negatives=16)", "--batch-size", "16", "--labelled-per-batch", "0", "--steps", "2",
                                     "--knn-every", "2", "--threads", "1", "--out", run])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("test accuracy: not measured: the head was not trained"), out)
        XCTAssertFalse(out.contains("test accuracy: 1"), out)
        XCTAssertTrue(out.contains("kNN accuracy: "), out)
        // and `eval accuracy` refuses the untrained head, pointing at kNN, without another command's usage
        let (evalStatus, evalOut) = losskit(["eval", "accuracy", run, "--plugin-path", folder])
        XCTAssertEqual(evalStatus, 1, evalOut)
        XCTAssertTrue(evalOut.contains("did not train its head") && evalOut.contains("losskit eval knn \(run)"), evalOut)
        XCTAssertFalse(evalOut.contains("Usage: losskit <subcommand>"), evalOut)
    }
}
