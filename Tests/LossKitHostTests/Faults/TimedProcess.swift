import Foundation

/// A started process's output (stdout and stderr together), collected until it ends or `limit`
/// seconds pass; on the limit `onTimeout` ends it (the caller knows how: SIGKILL, or mpirun and
/// its ranks). `whileRunning` runs once the output is being read (to act on the live process).
enum TimedProcess {
    static func collect(_ p: Process, output pipe: Pipe, started: Date, limit: Double,
                        whileRunning: ((Process) -> Void)? = nil, onTimeout: () -> Void) -> (output: Data, timedOut: Bool) {
        final class Collected: @unchecked Sendable { var data = Data() }
        let collected = Collected()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            collected.data = pipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        whileRunning?(p)
        var timedOut = false
        if done.wait(timeout: .now() + max(1, limit - Date().timeIntervalSince(started))) == .timedOut {
            timedOut = true
            onTimeout()
            done.wait()
        }
        p.waitUntilExit()
        return (collected.data, timedOut)
    }
}
