import Foundation

/// Recycles float buffers by exact element count.
///
/// A training step allocates the same set of shapes every time; keeping freed buffers in
/// per-size free lists turns the steady-state step into zero mallocs of tensor memory (and
/// avoids the page faults that fresh large allocations cost). The pool keeps at most
/// `maxIdleBytes` idle so that an odd one-off shape cannot pin memory forever.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idleBytes = 0
    private let lock = NSLock()
    public var maxIdleBytes = 2 << 30

    /// Counters for benchmarks and the "no steady-state allocation" check.
    public private(set) var allocations = 0
    public private(set) var reuses = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        lock.lock()
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            idleBytes -= n * 4
            reuses += 1
            lock.unlock()
            return p
        }
        allocations += 1
        lock.unlock()
        return UnsafeMutablePointer<Float>.allocate(capacity: n)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        lock.lock()
        if idleBytes + n * 4 <= maxIdleBytes {
            free[n, default: []].append(p)
            idleBytes += n * 4
            lock.unlock()
        } else {
            lock.unlock()
            p.deallocate()
        }
    }

    /// Frees every idle buffer (tests and memory measurements).
    public func drain() {
        lock.lock()
        for (_, list) in free { list.forEach { $0.deallocate() } }
        free = [:]
        idleBytes = 0
        lock.unlock()
    }
}
