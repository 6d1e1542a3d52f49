import Foundation
import LossKitHost
import LossKitRun
import XCTest

/// `mpirun -np N losskit ...` as a user starts it on one machine: Open MPI's mpirun (installed by
/// scripts/setup.sh), as root where CI runs (`--allow-run-as-root`), more ranks than cores
/// allowed (`--oversubscribe`), under a time limit so that a hang fails the test instead of
/// stalling the suite.
struct MPIJob {
    let status: Int32
    let output: String
    let seconds: Double
    let timedOut: Bool

    static let mpirun = "/usr/bin/mpirun"

    /// The training command's arguments shared by these tests: the generated data set, a
    /// quarter-width encoder, one thread per rank.
    static func trainArguments(data: String, out: String, loss: String = "ce", steps: Int, batch: Int = 32, extra: [String] = []) -> [String] {
        ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--loss", loss, "--labels-per-class", "10",
         "--batch-size", String(batch), "--labelled-per-batch", "16", "--steps", String(steps), "--threads", "1", "--lr", "0.05",
         "--schedule", "constant", "--crop-padding", "1", "--log-every", "1", "--out", out] + extra
    }

    /// Starts `losskit args` on `ranks` ranks, or as one plain process when `ranks` is nil, and
    /// waits for it; `whileRunning` is called once the job has started (to kill a rank).
    static func run(ranks: Int?, _ args: [String], seconds limit: Double = 120, whileRunning: ((Process) -> Void)? = nil) -> MPIJob {
        // help messages printed as they come rather than aggregated: mpirun's aggregation once
        // failed ("ORTE_ERROR_LOG: Out of resource ... show_help.c") and lost its own message
        run(launcher: ranks.map { ["--allow-run-as-root", "--oversubscribe", "--mca", "orte_base_help_aggregate", "0", "-np", String($0)] },
            args, seconds: limit, whileRunning: whileRunning)
    }

    /// `mpirun LAUNCHER... losskit ARGS...` (a hostfile, transports), or one plain process when
    /// `launcher` is nil.
    static func run(launcher: [String]?, _ args: [String], seconds limit: Double = 120, whileRunning: ((Process) -> Void)? = nil) -> MPIJob {
        let losskit = BuiltPlugins.buildDirectory + "/losskit"
        let p = Process()
        if let launcher {
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments = launcher + [losskit] + args
        } else {
            p.executableURL = URL(fileURLWithPath: losskit)
            p.arguments = args
        }
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = nil
        env["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        let start = Date()
        do { try p.run() } catch { return MPIJob(status: -1, output: "cannot start \(p.executableURL!.path): \(error)", seconds: 0, timedOut: false) }
        let (data, timedOut) = TimedProcess.collect(p, output: pipe, started: start, limit: limit, whileRunning: whileRunning) {
            p.terminate()
            for rank in rankedProcesses(running: args) { kill(rank.pid, SIGKILL) }
        }
        return MPIJob(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self),
                      seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }

    /// The ranks of a job: the `losskit` processes whose arguments are `arguments`, with the MPI
    /// rank their environment gives them.
    static func rankedProcesses(running arguments: [String]) -> [(pid: pid_t, rank: Int)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> (pid_t, Int)? in
            guard let pid = pid_t(name),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"),
                  let environ = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { return nil }
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard args.first?.hasSuffix("/losskit") == true, Array(args.dropFirst()) == arguments else { return nil }
            let rank = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                .first { $0.hasPrefix("OMPI_COMM_WORLD_RANK=") }.flatMap { Int($0.dropFirst("OMPI_COMM_WORLD_RANK=".count)) }
            return rank.map { (pid, $0) }
        }
    }

    /// Every parameter and state of a checkpoint ("encoder.*", "head.*", a plugin's), by name.
    static func tensors(_ run: String) throws -> [String: [Float]] {
        let file = try Checkpoint.read(path: run + "/checkpoint.safetensors").file
        var all: [String: [Float]] = [:]
        for e in file.entries where e.dtype == .f32 && !e.name.hasPrefix("optimizer.") {
            all[e.name] = try file.floats(e.name)
        }
        return all
    }

    /// ‖a − b‖ / ‖a‖ for each tensor of `a`, the largest first.
    static func relativeDifferences(_ a: [String: [Float]], _ b: [String: [Float]]) -> [(name: String, difference: Double)] {
        a.keys.map { name -> (String, Double) in
            let x = a[name]!, y = b[name] ?? []
            guard x.count == y.count else { return (name, .infinity) }
            var d = 0.0, n = 0.0
            for i in x.indices {
                d += Double(x[i] - y[i]) * Double(x[i] - y[i])
                n += Double(x[i]) * Double(x[i])
            }
            return (name, (d / max(n, 1e-30)).squareRoot())
        }.sorted { $0.1 > $1.1 }
    }
}
