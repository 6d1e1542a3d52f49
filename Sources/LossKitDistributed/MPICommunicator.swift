import CLossKitMPI
import Foundation

/// MPI_COMM_WORLD of a job mpirun started (Open MPI), through CLossKitMPI's C layer.
///
/// Made only when `MPILaunch.detect` sees mpirun's environment, so a plain `losskit train` never
/// initialises MPI: its numbers, its start-up time and its behaviour stay those of one process.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int

    /// MPI_Init; call at most once per process.
    init() throws {
        var r: Int32 = 0, s: Int32 = 0
        let rc = lk_mpi_init(&r, &s)
        guard rc == 0 else { throw CommunicationError("MPI_Init failed: \(MPICommunicator.text(rc))") }
        rank = Int(r)
        size = Int(s)
    }

    public func allReduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(lk_mpi_all_reduce_sum_float(data, Int64(count)), "all-reduce of \(count) floats")
    }

    public func allReduceSum(_ data: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(lk_mpi_all_reduce_sum_double(data, Int64(count)), "all-reduce of \(count) doubles")
    }

    public func allGather(_ data: UnsafeRawPointer, bytes: Int, into out: UnsafeMutableRawPointer) throws {
        try check(lk_mpi_all_gather(data, Int64(bytes), out), "all-gather of \(bytes) bytes")
    }

    public func abort(code: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        lk_mpi_abort(code)
        exit(code)  // lk_mpi_abort does not return; this satisfies the type checker
    }

    /// MPI_Finalize, after the last collective: a rank that exits without it makes mpirun report
    /// the job as failed.
    public func finish() {
        if lk_mpi_is_initialized() != 0 { _ = lk_mpi_finalize() }
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc != 0 else { return }
        throw CommunicationError("rank \(rank) of \(size): MPI \(what) failed: \(MPICommunicator.text(rc))")
    }

    static func text(_ rc: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        lk_mpi_error_text(rc, &buffer, Int32(buffer.count))
        return String(cString: buffer)
    }
}

/// Whether this process was started by mpirun, and the communicator it joins.
public enum MPILaunch {
    /// The variables a launcher sets in each rank's environment: Open MPI's own, and PMIx's
    /// (which Open MPI 5 and Slurm's `srun --mpi=pmix` set).
    static let markers = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK"]

    /// Whether the environment says an MPI launcher started this process.
    public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        markers.contains { environment[$0] != nil }
    }

    private nonisolated(unsafe) static var joined: Communicator?

    /// The job this process belongs to: MPI_COMM_WORLD when mpirun started it (MPI_Init on the
    /// first call), one process otherwise. The same object on every later call.
    public static func communicator() throws -> Communicator {
        if let joined { return joined }
        let c: Communicator = launchedByMPI() ? try MPICommunicator() : SingleProcess()
        joined = c
        return c
    }

    /// MPI_Finalize when MPI was joined: call once, at the end of the process's work.
    public static func finish() {
        (joined as? MPICommunicator)?.finish()
    }
}
