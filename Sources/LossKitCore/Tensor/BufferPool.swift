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
        return BufferPool.allocate(n)
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
            BufferPool.release(p, n)
        }
    }

    /// From this many floats (one 2 MiB page) a buffer is mapped on its own, starting on a 2 MiB
    /// boundary, and offered to the kernel for huge pages (transparent huge pages in `madvise`
    /// mode, Debian's default); its tail past the last whole 2 MiB stays on 4 KiB pages, so
    /// nothing is rounded up. Not through malloc: glibc serves sizes under its (moving) mmap
    /// threshold from heap memory already faulted in on 4 KiB pages. The convolutions' and
    /// batch-norm's passes stride through whole activations plane by plane, and with 4 KiB pages
    /// each plane of a batch is another TLB entry. A constant: `release` tells the two kinds of
    /// buffer apart by their size alone.
    public static let hugePageMinFloats = hugePage / 4
    static let hugePage = 2 << 20

    /// Whole 4 KiB pages, with at least 64 bytes past the last float: a vector load that
    /// reaches past the end (as a load from malloc'ed memory safely could) must not fault.
    private static func mappedLength(_ n: Int) -> Int { (n * 4 + 64 + 4095) / 4096 * 4096 }

    static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        guard n >= hugePageMinFloats else { return UnsafeMutablePointer<Float>.allocate(capacity: n) }
        let length = mappedLength(n)
        // map a huge page more than needed, then unmap the slack before and after the aligned part
        guard let map = mmap(nil, length + hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              map != MAP_FAILED else { fatalError("out of memory: mapping \(length) bytes failed") }
        let address = Int(bitPattern: map), aligned = (address + hugePage - 1) / hugePage * hugePage
        let head = aligned - address
        if head > 0 { munmap(map, head) }
        munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), hugePage - head)
        let raw = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(raw, length, MADV_HUGEPAGE)   // a hint: without huge pages all still works
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    static func release(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        if n >= hugePageMinFloats { munmap(p, mappedLength(n)) } else { p.deallocate() }
    }

    /// Frees every idle buffer (tests and memory measurements).
    public func drain() {
        lock.lock()
        for (n, list) in free { list.forEach { BufferPool.release($0, n) } }
        free = [:]
        idleBytes = 0
        lock.unlock()
    }
}
