import Foundation
import LossKitHost
import LossKitRun
import XCTest

/// `mpirun -np 2 losskit train`: two real Open MPI ranks on this machine train one model.
/// What a single-process run of the same settings computes is the reference.
final class DataParallelTrainingTests: XCTestCase {
    private var data = ""
    private var runs: [String] = []

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        data = try SyntheticData.makeFolder(train: 240, test: 40)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: data)
        for r in runs { try? FileManager.default.removeItem(atPath: r) }
    }

    private func runFolder() -> String {
        let r = SyntheticData.runFolder()
        runs.append(r)
        return r
    }

    /// With --sync-bn, N = 2 gives the N = 1 run up to the order of float sums: after 20 steps
    /// every parameter and batch-norm statistic within 1e-4 of its norm (measured here: 4e-7).
    /// Without it each rank normalises its own 8 rows, and the runs part by far more (measured:
    /// 0.3), so the comparison could fail.
    func testTwoRanksWithSynchronisedBatchNormTrainWhatOneProcessTrains() throws {
        let single = runFolder(), synced = runFolder(), perRank = runFolder()
        let one = MPIJob.run(ranks: nil, MPIJob.trainArguments(data: data, out: single, steps: 20))
        XCTAssertEqual(one.status, 0, one.output)
        let two = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: synced, steps: 20, extra: ["--sync-bn"]))
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertTrue(two.output.contains("2 ranks of 8 rows (batch-norm synchronised)"), two.output)
        let reference = try MPIJob.tensors(single)
        let worst = MPIJob.relativeDifferences(reference, try MPIJob.tensors(synced))[0]
        XCTAssertLessThan(worst.difference, 1e-4, worst.name)
        let own = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: perRank, steps: 20))
        XCTAssertEqual(own.status, 0, own.output)
        let apart = MPIJob.relativeDifferences(reference, try MPIJob.tensors(perRank))[0]
        XCTAssertGreaterThan(apart.difference, 0.01, "per-rank batch-norm should part from one process: \(apart.name)")
    }

    /// The global figures are logged by rank 0 alone: every step once, with the ranks and the
    /// collectives' share of the step.
    func testRankZeroLogsTheGlobalFiguresOnce() throws {
        let run = runFolder()
        let job = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: run, loss: "ce + 0.5*sc", steps: 4))
        XCTAssertEqual(job.status, 0, job.output)
        let lines = try MetricsLog.read(run + "/metrics.jsonl").filter { $0["loss"] != nil }
        XCTAssertEqual(lines.compactMap { $0["step"] as? Int }, [1, 2, 3, 4])
        for line in lines {
            XCTAssertEqual(line["ranks"] as? Int, 2)
            let share = try XCTUnwrap(line["communication_share"] as? Double)
            XCTAssertTrue(share >= 0 && share < 1, "\(share)")
        }
        XCTAssertEqual(job.output.components(separatedBy: "test accuracy:").count, 2, "printed once:\n\(job.output)")
        // rank 0 evaluated the model every rank holds: what one process measures on the checkpoint
        let logged = try XCTUnwrap(try MetricsLog.read(run + "/metrics.jsonl").last?["eval"] as? [String: Any])["test_accuracy"] as? Double
        let (status, evaluated) = PluginFixtures.losskit(["eval", "accuracy", run])
        XCTAssertEqual(status, 0, evaluated)
        XCTAssertTrue(evaluated.contains(String(format: "head accuracy: %.2f%%", try XCTUnwrap(logged) * 100)), "\(evaluated) against \(String(describing: logged))")
    }

    /// Every shipped objective trains on two ranks, and at each checkpoint every rank holds the
    /// same parameters and states: NCE gathers its bank rows; GAN's generator, SC's, AET's, DIM's
    /// and SWWAE's own weights are parameters, averaged by the host; GAN's virtual-batch-norm
    /// reference is drawn in prepare, alike on every rank.
    func testEveryShippedObjectiveKeepsTheRanksAlike() throws {
        for loss in ["ce + 0.5*nce(negatives=16, dim=8)", "ce + 0.3*sc", "ce + 0.5*aet", "ce + 0.5*dim(width=16)", "ce + 0.5*swwae",
                     "ce + 0.5*gan(mode=semi, minibatch_kernels=4, vbn=4, history_g=0.1)", "ce + 0.5*gan(mode=dcgan)"] {
            let run = runFolder()
            let job = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: run, loss: loss, steps: 4, extra: ["--checkpoint-every", "2"]))
            XCTAssertEqual(job.status, 0, "\(loss):\n\(job.output)")
            XCTAssertEqual(try Checkpoint.read(path: run + "/checkpoint.safetensors").step, 4, loss)
        }
    }

    /// A plugin built against the 1.2 header, which knows nothing of ranks, trains on two ranks
    /// (its table has no rank; its term is a mean over the rank's rows like any other).
    func testAPluginOfABI12TrainsOnTwoRanks() throws {
        let folder = try PluginFixtures.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let abi12 = PluginFixtures.repositoryRoot.appendingPathComponent("Tests/LossKitHostTests/Fixtures/abi-1.2").path
        try PluginFixtures.build("entropy_min", into: folder, source: abi12 + "/entropy_min_abi12.c", header: abi12)
        let run = runFolder()
        let job = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: run, loss: "ce + 0.3*entropy-min", steps: 4,
                                                              extra: ["--checkpoint-every", "2", "--plugin-path", folder]))
        XCTAssertEqual(job.status, 0, job.output)
        XCTAssertTrue(try MetricsLog.read(run + "/metrics.jsonl").contains { ($0["terms"] as? [String: Double])?["entropy-min"] != nil })
    }

    /// A plugin's state that follows the batch must be kept alike by the plugin (losskit.h,
    /// "Data-parallel runs"): the fixture's tally is the same on both ranks with keep=1
    /// (all_reduce_sum), and the checkpoint shows what each collective gave; without keep each
    /// rank's tally is its own and the run stops at its first checkpoint naming the state.
    func testPluginStateMustAgreeAcrossRanks() throws {
        let folder = try PluginFixtures.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try PluginFixtures.build("rank_state", into: folder)
        let kept = runFolder(), apart = runFolder()
        let good = MPIJob.run(ranks: 2, MPIJob.trainArguments(
            data: data, out: kept, loss: "ce + rank-state(keep=1)", steps: 4, extra: ["--checkpoint-every", "2", "--plugin-path", folder]))
        XCTAssertEqual(good.status, 0, good.output)
        let tensors = try MPIJob.tensors(kept)
        XCTAssertEqual(tensors["rank-state.tally"], [3], "1 + 2 summed over the ranks")
        XCTAssertEqual(tensors["rank-state.ranks"], [0, 1], "each rank's rank, gathered in rank order")

        let bad = MPIJob.run(ranks: 2, MPIJob.trainArguments(
            data: data, out: apart, loss: "ce + rank-state", steps: 4, extra: ["--checkpoint-every", "2", "--plugin-path", folder]))
        XCTAssertNotEqual(bad.status, 0, bad.output)
        XCTAssertFalse(bad.timedOut, bad.output)
        XCTAssertTrue(bad.output.contains("Error: step 2: 'rank-state.tally' differs between rank 0 and rank 1 of 2"), bad.output)
        XCTAssertTrue(bad.output.contains("no checkpoint had been written yet"), bad.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: apart + "/checkpoint.safetensors"), "a checkpoint of ranks that disagree is not written")
    }

    /// An error one rank meets alone (its plugin fails) ends the whole job at once through
    /// MPI_Abort, naming the rank — never the other rank waiting for it in a collective.
    func testOneRanksErrorEndsTheJobNamingTheRank() throws {
        let folder = try PluginFixtures.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try PluginFixtures.build("rank_state", into: folder)
        let job = MPIJob.run(ranks: 2, MPIJob.trainArguments(
            data: data, out: runFolder(), loss: "ce + rank-state(keep=1, fail_rank=1)", steps: 100_000, extra: ["--plugin-path", folder]), seconds: 60)
        XCTAssertFalse(job.timedOut, "a hang:\n\(job.output)")
        XCTAssertNotEqual(job.status, 0, job.output)
        XCTAssertTrue(job.output.contains("Error: rank 1 of 2: rank-state: rank-state: failing on this rank, as asked (fail_rank)"), job.output)
    }

    /// A rank killed by SIGKILL ends the job within seconds; mpirun names the rank, and rank 0
    /// names the last intact checkpoint, from which the run resumes.
    func testAKilledRankEndsTheJobNamingTheLastCheckpoint() throws {
        let run = runFolder()
        let args = MPIJob.trainArguments(data: data, out: run, steps: 100_000, extra: ["--checkpoint-every", "5"])
        var killedAt = Date.distantFuture
        let job = MPIJob.run(ranks: 2, args, seconds: 120) { _ in
            let deadline = Date().addingTimeInterval(90)
            while !FileManager.default.fileExists(atPath: run + "/checkpoint.safetensors"), Date() < deadline { usleep(100_000) }
            guard let victim = MPIJob.rankedProcesses(running: args).first(where: { $0.rank == 1 }) else { return }
            kill(victim.pid, SIGKILL)
            killedAt = Date()
        }
        XCTAssertFalse(job.timedOut, "a hang:\n\(job.output)")
        XCTAssertNotEqual(job.status, 0, job.output)
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 30, "the job should end within seconds of the kill")
        XCTAssertTrue(job.output.contains("process rank 1"), job.output)
        XCTAssertTrue(job.output.contains("the last intact checkpoint is \(run)/checkpoint.safetensors (step "), job.output)
        let step = try Checkpoint.read(path: run + "/checkpoint.safetensors").step
        XCTAssertEqual(step % 5, 0, "an intact checkpoint of a checkpoint step")
    }

    /// Stopped and resumed on the same number of ranks, a run is bit-identical to one that never
    /// stopped (NCE's memory bank included, which every rank keeps alike and the checkpoints
    /// compare); a run of 2 ranks resumes on 1 process too, since the batches do not depend on N.
    func testResumeIsExactAndAnyNumberOfRanksMayGoOn() throws {
        let loss = "ce + 0.5*nce(negatives=16, dim=8)"
        let straight = runFolder(), stopped = runFolder()
        let whole = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: straight, loss: loss, steps: 8, extra: ["--checkpoint-every", "4"]))
        XCTAssertEqual(whole.status, 0, whole.output)
        let first = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: stopped, loss: loss, steps: 4, extra: ["--checkpoint-every", "4"]))
        XCTAssertEqual(first.status, 0, first.output)
        let rest = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: stopped, loss: loss, steps: 8, extra: ["--checkpoint-every", "4", "--resume"]))
        XCTAssertEqual(rest.status, 0, rest.output)
        XCTAssertTrue(rest.output.contains("resuming at step 4"), rest.output)
        let a = try MPIJob.tensors(straight), b = try MPIJob.tensors(stopped)
        XCTAssertTrue(a.keys.contains("nce.bank"))
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for name in a.keys { XCTAssertEqual(a[name], b[name], "\(name) differs after resuming") }

        let alone = MPIJob.run(ranks: nil, MPIJob.trainArguments(data: data, out: stopped, loss: loss, steps: 10, extra: ["--resume"]))
        XCTAssertEqual(alone.status, 0, alone.output)
        XCTAssertTrue(alone.output.contains("resuming a run trained by 2 processes with 1"), alone.output)
        XCTAssertEqual(try Checkpoint.read(path: stopped + "/checkpoint.safetensors").step, 10)
    }

    /// A batch the ranks cannot share equally is refused on every rank before any step, with one
    /// message, and nothing trained.
    func testABatchThatDoesNotSplitIsRefusedBeforeAnyStep() throws {
        let run = runFolder()
        let args = MPIJob.trainArguments(data: data, out: run, loss: "ce + 0.5*sc", steps: 4, batch: 33)
        let job = MPIJob.run(ranks: 2, args, seconds: 60)
        XCTAssertEqual(job.status == 0, false, job.output)
        XCTAssertFalse(job.timedOut, job.output)
        XCTAssertTrue(job.output.contains("Error: a data-parallel run of 2 ranks shares each step's 16 labelled and 17 unlabelled rows equally"), job.output)
        XCTAssertEqual(job.output.components(separatedBy: "Error:").count, 2, "said once:\n\(job.output)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/checkpoint.safetensors"))
    }

    /// Only `train` trains data-parallel: another command under mpirun is refused once, instead
    /// of running N copies of itself.
    func testOtherCommandsRefuseToRunUnderMPI() throws {
        let run = runFolder()
        XCTAssertEqual(MPIJob.run(ranks: nil, MPIJob.trainArguments(data: data, out: run, steps: 2)).status, 0)
        let job = MPIJob.run(ranks: 2, ["eval", "accuracy", run], seconds: 60)
        XCTAssertNotEqual(job.status, 0, job.output)
        XCTAssertEqual(job.output.components(separatedBy: "Error: losskit eval runs in one process; start it without mpirun").count, 2, job.output)
    }
}
