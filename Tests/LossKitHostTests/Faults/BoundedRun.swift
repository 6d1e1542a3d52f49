import Foundation

/// Runs the `losskit` executable as a hostile input's victim: under a memory limit (`ulimit -v`)
/// and a time limit, and says how it ended. A case holds when the process exits by itself with
/// 0, 1 or ArgumentParser's usage code 64, within both limits, and a failure prints a message.
struct BoundedRun {
    let status: Int32
    /// The signal that ended the process, if one did (the time limit's SIGKILL included).
    let signal: Int32?
    let output: String
    let seconds: Double
    let timedOut: Bool

    static let losskit = BuiltPlugins.buildDirectory + "/losskit"

    /// `memoryMiB` bounds the address space: the Swift runtime, OpenBLAS's buffers and thread
    /// stacks take about 1 GiB of it before any input is read.
    static func run(_ args: [String], environment: [String: String]? = nil, seconds limit: Double = 60, memoryMiB: Int = 3072) -> BoundedRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -v \(memoryMiB * 1024) && exec \"$0\" \"$@\"", losskit] + args
        var env = environment ?? ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = nil
        env["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = env
        let output = Pipe()
        p.standardOutput = output
        p.standardError = output
        p.standardInput = FileHandle.nullDevice
        let start = Date()
        do { try p.run() } catch { return BoundedRun(status: -1, signal: nil, output: "\(error)", seconds: 0, timedOut: false) }
        let (data, timedOut) = TimedProcess.collect(p, output: output, started: start, limit: limit) { kill(p.processIdentifier, SIGKILL) }
        let signal = p.terminationReason == .uncaughtSignal ? p.terminationStatus : nil
        return BoundedRun(status: p.terminationStatus, signal: signal, output: String(decoding: data, as: UTF8.self),
                          seconds: Date().timeIntervalSince(start), timedOut: timedOut)
    }

    /// Why this run does not hold, or nil when it does. `namedCrash`: a fault signal also holds
    /// when the process first printed that LossKit line (a plugin library whose headers pass
    /// every check but whose content crashes the dynamic loader or its own entry).
    func fault(namedCrash: String? = nil) -> String? {
        if timedOut { return "did not end within the time limit (a hang)" }
        if let signal, let namedCrash, [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT].contains(signal), output.contains(namedCrash) { return nil }
        if let signal { return "ended by signal \(signal)" }
        guard [0, 1, 64].contains(status) else { return "exit status \(status)" }
        if status != 0 && output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "failed without a message" }
        if output.contains("Fatal error") || output.contains("NSCocoaErrorDomain") { return "printed a raw runtime error" }
        return nil
    }

    var fault: String? { fault() }
}

/// Bad inputs made from good ones, as AFL and SQLite's corpus make them: cut, flipped, grown,
/// replaced by another format. Seeded, so a failing case can be made again.
struct Mutations {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    private mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// `flips` cases of random byte flips (1 and 8 bytes each, within `flipped`, the whole file by
    /// default), besides the fixed cuts and growths.
    mutating func of(_ good: [UInt8], flips: Int, within flipped: Range<Int>? = nil, others: [(String, [UInt8])]) -> [(String, [UInt8])] {
        let region = flipped ?? 0..<good.count
        var cases: [(String, [UInt8])] = []
        for cut in Set([0, 1, 3, 16, 64, good.count / 2, good.count - 1]) where cut < good.count {
            cases.append(("cut at \(cut)", Array(good.prefix(cut))))
        }
        for i in 0..<flips {
            var bytes = good
            let count = i % 2 == 0 ? 1 : 8
            var at: [Int] = []
            for _ in 0..<count {
                let k = region.lowerBound + below(region.count)
                bytes[k] ^= UInt8(truncatingIfNeeded: 1 + below(255))
                at.append(k)
            }
            cases.append(("flipped at \(at)", bytes))
        }
        var garbage = [UInt8](repeating: 0, count: 1000)
        for k in garbage.indices { garbage[k] = UInt8(truncatingIfNeeded: next()) }
        cases.append(("1000 bytes appended", good + garbage))
        cases.append(("doubled", good + good))
        cases += others.map { ("replaced by \($0.0)", $0.1) }
        return cases
    }
}
