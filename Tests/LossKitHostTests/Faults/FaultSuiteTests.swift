import Foundation
import LossKitFormats
import LossKitHost
import XCTest

/// The fault suite: bad inputs generated from good ones for every file LossKit reads — IDX
/// images and labels, a checkpoint, a run's config.json and metrics, a settings file, a plugin
/// library — and extreme values for every numeric flag of `train`, each run through the
/// executable under a memory and time bound (`BoundedRun`); and kill -9 at random moments of a
/// training, then resume, against the uninterrupted run, bit for bit. A case holds when the
/// process ends by itself with 0 or 1 (64 for a usage error) and a message. A plugin library's
/// bytes are flipped in the headers the loader judges; a flipped library that passes every check
/// may still crash the dynamic loader, and holds when the process names the file first.
///
/// `LOSSKIT_FAULT_SOAK=N` multiplies the random cases (flips and kills) by N, for a longer run
/// than CI's.
final class FaultSuiteTests: XCTestCase {
    private static let soak = max(1, Int(ProcessInfo.processInfo.environment["LOSSKIT_FAULT_SOAK"] ?? "") ?? 1)
    private var scratch = ""
    private var plugins = ""
    private var data = ""

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        scratch = try PluginFixtures.makeFolder()
        plugins = try BuiltPlugins.folder(["ConvNet"])
        data = try SyntheticData.makeFolder(train: 40, test: 8)
    }

    override func tearDown() {
        [scratch, plugins, data].forEach { try? FileManager.default.removeItem(atPath: $0) }
    }

    private var tinyTraining: [String] {
        ["--plugin-path", plugins, "--only-plugin-path", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
         "--labels-per-class", "2", "--batch-size", "8", "--threads", "1"]
    }

    /// Runs every mutation of `good` (written to `target` in a fresh copy of `folder`, or alone)
    /// through `command(copy)`; returns how many cases ran and the ones that did not hold.
    private func mutate(_ good: [UInt8], name: String, inCopyOf folder: String?, file: String, seed: UInt64, flipping: Range<Int>? = nil,
                        namedCrash: String? = nil, others: [(String, [UInt8])] = [], command: (String) -> [String]) throws -> (Int, [String]) {
        var generator = Mutations(seed: seed)
        var failures: [String] = []
        let cases = generator.of(good, flips: 8 * Self.soak, within: flipping, others: others)
        for (n, (label, bytes)) in cases.enumerated() {
            let place = scratch + "/\(name)-\(n)"
            if let folder { try FileManager.default.copyItem(atPath: folder, toPath: place) } else { try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: false) }
            try Data(bytes).write(to: URL(fileURLWithPath: place + "/" + file))
            let run = BoundedRun.run(command(place))
            if let fault = run.fault(namedCrash: namedCrash) { failures.append("\(name), \(label): \(fault)\n\(run.output.suffix(600))") }
            try? FileManager.default.removeItem(atPath: place)
        }
        return (cases.count, failures)
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    func testEveryFileFormatHoldsAgainstGeneratedBadInputs() throws {
        // a finished tiny run to take the checkpoint, config and metrics from
        let run = scratch + "/good-run"
        let trained = BoundedRun.run(["train"] + tinyTraining + ["--steps", "2", "--out", run])
        XCTAssertNil(trained.fault, trained.output)
        let yaml = Array("loss: ce\nsteps: 1\nbatch_size: 8\nlabels_per_class: 2\n".utf8)
        let library = try bytes(try PluginFixtures.build("two_plugins", into: scratch))
        let png = [UInt8]([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + Array(repeating: 0, count: 40))
        let others: [(String, [UInt8])] = [("a PNG header", png), ("a settings file", yaml), ("an ELF library", Array(library.prefix(4096)))]
        let knn = { (folder: String) in ["eval", "knn", "--raw-pixels", "--data", "idx:" + folder, "--k", "3", "--threads", "1"] }
        let accuracy = { (folder: String) in ["eval", "accuracy", folder, "--plugin-path", self.plugins, "--only-plugin-path", "--threads", "1"] }
        var total = 0
        var failures: [String] = []
        func add(_ result: (Int, [String])) { total += result.0; failures += result.1 }
        add(try mutate(bytes(data + "/train-images-idx3-ubyte"), name: "idx-images", inCopyOf: data, file: "train-images-idx3-ubyte", seed: 1, others: others, command: knn))
        add(try mutate(bytes(data + "/t10k-labels-idx1-ubyte"), name: "idx-labels", inCopyOf: data, file: "t10k-labels-idx1-ubyte", seed: 2, others: others, command: knn))
        add(try mutate(Gzip.deflateGzip(bytes(data + "/train-images-idx3-ubyte")), name: "idx-gzip", inCopyOf: data, file: "train-images-idx3-ubyte", seed: 3, command: knn))
        add(try mutate(bytes(run + "/checkpoint.safetensors"), name: "checkpoint", inCopyOf: run, file: "checkpoint.safetensors", seed: 4, others: others, command: accuracy))
        add(try mutate(bytes(run + "/config.json"), name: "config", inCopyOf: run, file: "config.json", seed: 5, others: others, command: accuracy))
        add(try mutate(bytes(run + "/metrics.jsonl"), name: "metrics", inCopyOf: run, file: "metrics.jsonl", seed: 6, others: others) {
            ["report", $0, "--no-eval", "--plugin-path", self.plugins, "--only-plugin-path", "--out", $0 + "/report"]
        })
        add(try mutate(yaml, name: "settings", inCopyOf: nil, file: "settings.yaml", seed: 7, others: others) {
            ["train", "--config", $0 + "/settings.yaml"] + self.tinyTraining + ["--out", $0 + "/run"]
        })
        // a library is judged by its headers and dynamic section before dlopen: flips in its
        // headers. One that passes every check and still crashes the loader (a segment's
        // permissions flipped, say) holds when the process says which file killed it; a flip in
        // its code is a broken plugin, which runs in the process as any plugin does
        let headers = 64 + Int(library[56]) * 56
        add(try mutate(library, name: "plugin", inCopyOf: nil, file: "libcase.so", seed: 8, flipping: 0..<headers,
                       namedCrash: "losskit: the process died while loading the plugin library ", others: others) {
            ["plugins", "--plugin-path", $0, "--only-plugin-path"]
        })
        print("fault suite: \(total) generated bad files, \(total - failures.count) held")
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(total) cases did not hold:\n" + failures.joined(separator: "\n---\n"))
    }

    func testEveryNumericFlagHoldsAgainstExtremeValues() throws {
        let flags = ["--steps", "--epochs", "--batch-size", "--labelled-per-batch", "--labelled-fraction-per-batch", "--labels-per-class",
                     "--lr", "--momentum", "--weight-decay", "--warmup-steps", "--seed", "--threads", "--crop-padding", "--crop-scale",
                     "--jitter", "--checkpoint-every", "--log-every", "--eval-every", "--knn-every"]
        let values = ["-1", "0", "1e300", "inf", "nan", "99999999999999999999", "abc", ""]
        var failures: [String] = []
        var total = 0
        for flag in flags {
            for value in values {
                let steps = flag == "--steps" || flag == "--epochs" ? [] : ["--steps", "1"]
                let run = BoundedRun.run(["train"] + tinyTraining + steps + [flag, value, "--out", scratch + "/flag-\(total)"])
                total += 1
                if let fault = run.fault { failures.append("\(flag) \(value.isEmpty ? "''" : value): \(fault)\n\(run.output.suffix(400))") }
            }
        }
        print("fault suite: \(total) flag values, \(total - failures.count) held")
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(total) flag values did not hold:\n" + failures.joined(separator: "\n---\n"))
    }

    /// kill -9 at random moments (mid-step, mid-checkpoint, mid-evaluation alike), then resume
    /// until done: the last checkpoint equals the uninterrupted run's, byte for byte.
    func testKillingATrainingAtRandomMomentsThenResumingIsBitIdentical() throws {
        let args = ["train"] + tinyTraining + ["--steps", "24", "--checkpoint-every", "4", "--log-every", "4"]
        let whole = scratch + "/whole"
        XCTAssertNil(BoundedRun.run(args + ["--out", whole]).fault)
        let reference = try bytes(whole + "/checkpoint.safetensors")
        var random = SystemRandomNumberGenerator()
        for trial in 0..<(3 * Self.soak) {
            let out = scratch + "/killed-\(trial)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: BoundedRun.losskit)
            p.arguments = args + ["--out", out]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 100_000...1_500_000, using: &random))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            for _ in 0..<10 {
                let resume = FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors") ? ["--resume"] : []
                let again = BoundedRun.run(args + resume + ["--out", out])
                XCTAssertNil(again.fault, again.output)
                if again.status == 0 { break }
            }
            XCTAssertEqual(try bytes(out + "/checkpoint.safetensors"), reference, "trial \(trial): the resumed run's last checkpoint")
        }
    }
}
