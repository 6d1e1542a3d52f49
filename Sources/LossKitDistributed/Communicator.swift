#if canImport(Glibc)
import Glibc
#endif

/// The processes of one training job and the collectives between them: what data-parallel
/// training needs of MPI, behind a protocol so that a single-process run goes through the same
/// code with `SingleProcess`, whose collectives are the identity.
///
/// Every collective is a meeting: each rank must call the same collectives in the same order
/// with the same sizes, or the job hangs or fails. Callers keep to that by making every call
/// from code all ranks run alike (the training step, a checkpoint), never from a branch one
/// rank takes alone.
public protocol Communicator: AnyObject {
    /// This process's rank, 0..<size; rank 0 writes the run folder.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Element-wise sum over every rank, in place.
    func allReduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) throws
    func allReduceSum(_ data: UnsafeMutablePointer<Double>, count: Int) throws
    /// Each rank's `bytes` bytes at `data`, concatenated in rank order into `out` (size × bytes).
    func allGather(_ data: UnsafeRawPointer, bytes: Int, into out: UnsafeMutableRawPointer) throws
    /// Ends every rank of the job at once with `code`: for an error one rank met alone, which
    /// would otherwise leave the others waiting in their next collective.
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// Whether this job has more than one process.
    public var isDistributed: Bool { size > 1 }

    /// `values` summed over every rank.
    public func sum(_ values: [Double]) throws -> [Double] {
        var v = values
        try v.withUnsafeMutableBufferPointer { b in
            if let p = b.baseAddress { try allReduceSum(p, count: b.count) }
        }
        return v
    }

    /// Each rank's array of `count` elements, concatenated in rank order; every rank must pass
    /// the same count.
    public func gather<T: BitwiseCopyable>(_ values: [T], zero: T) throws -> [T] {
        var all = [T](repeating: zero, count: values.count * size)
        guard !values.isEmpty else { return all }
        try values.withUnsafeBytes { m in
            try all.withUnsafeMutableBytes { a in
                try allGather(m.baseAddress!, bytes: m.count, into: a.baseAddress!)
            }
        }
        return all
    }
}

extension Communicator {
    /// Where each rank did a step of its own that may fail (setting up the run): nil when every
    /// rank succeeded, else the lowest failing rank and its message (`failure` is this rank's,
    /// nil on success). A collective, so the ranks leave it agreeing whether to go on.
    public func firstFailure(_ failure: String?) throws -> (rank: Int, message: String)? {
        let width = 2048
        var mine = [UInt8](repeating: 0, count: width)
        if let failure {
            let bytes = Array(failure.utf8.prefix(width - 2))
            mine[0] = 1
            mine.replaceSubrange(1..<(1 + bytes.count), with: bytes)
        }
        let all = try gather(mine, zero: 0)
        for r in 0..<size where all[r * width] == 1 {
            let text = all[(r * width + 1)..<((r + 1) * width)].prefix { $0 != 0 }
            return (r, String(decoding: text, as: UTF8.self))
        }
        return nil
    }
}

/// A job of one process: rank 0 of 1, every collective the identity. A run started without
/// mpirun uses this and computes exactly what it computed before data-parallel training existed.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allReduceSum(_ data: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func allGather(_ data: UnsafeRawPointer, bytes: Int, into out: UnsafeMutableRawPointer) throws {
        out.copyMemory(from: data, byteCount: bytes)
    }
    public func abort(code: Int32) -> Never { exit(code) }
}

/// A collective that failed: which one, and MPI's words for why.
public struct CommunicationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
