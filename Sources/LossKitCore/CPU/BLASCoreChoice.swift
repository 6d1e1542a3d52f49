import Foundation

/// Which OpenBLAS core this process runs, and who chose it.
///
/// OpenBLAS reads OPENBLAS_CORETYPE once, when it loads — before any Swift code runs — so the
/// only way to change the core of a running process is to start it again: `prepareProcess()`,
/// called first thing by the executable, re-executes it (same arguments, same PID) with
/// OPENBLAS_CORETYPE set when the core running is below the best this CPU can run
/// (`BLASCore.best`). The restarted process checks the new kernels' sgemm against a reference
/// before trusting them; if they fail, or OpenBLAS does not take the name, it restarts once more
/// as it was first started and says so in one line. Costs one process start (~20 ms) where it
/// applies. `LOSSKIT_BLAS_CORE` steers it:
///
/// - unset or `auto`: choose only when OpenBLAS picked on its own; a user's OPENBLAS_CORETYPE wins;
/// - `best`: choose the best core even over OPENBLAS_CORETYPE (still checked);
/// - `openblas`: never choose (OpenBLAS's own pick, or OPENBLAS_CORETYPE);
/// - a core's name (`SkylakeX`): that core, checked like LossKit's own choice.
///
/// Whatever the mode but `openblas`, a core whose kernels need instructions the CPU lacks
/// (`BLASCore.missing`) is never run: a name in LOSSKIT_BLAS_CORE is refused, and a core loaded
/// by OPENBLAS_CORETYPE or OpenBLAS's own guess is replaced by `BLASCore.runnable`, since its
/// first sgemm would stop the process with SIGILL (the reference check could not catch it).
public enum BLASCoreChoice {
    static let modeVariable = "LOSSKIT_BLAS_CORE"
    /// Set beside OPENBLAS_CORETYPE by the process that chose it: "CHOSEN|PREVIOUS|RAN", where
    /// PREVIOUS is the OPENBLAS_CORETYPE it replaced (empty: none) and RAN the core that ran.
    static let choiceVariable = "LOSSKIT_BLAS_CHOICE"
    /// Set when a choice failed its check and the process was started again as before:
    /// "CHOSEN|RAN|reason".
    static let refusedVariable = "LOSSKIT_BLAS_REFUSED"

    /// What ran and why, for `--version` and `losskit bench`.
    public struct Report: Sendable {
        /// The core OpenBLAS runs.
        public var core: String
        /// The core that ran before LossKit changed it (the same as `core` where nothing changed).
        public var before: String
        /// "OpenBLAS's own pick", "OPENBLAS_CORETYPE", "LossKit's choice", "LOSSKIT_BLAS_CORE", or
        /// "as started, after a refused choice".
        public var chosenBy: String
        /// Why a choice was refused, when one was.
        public var refusal: String?

        /// The best core for this CPU, where it is above the one running and nothing refused it.
        public var better: String? {
            guard refusal == nil, let best = BLASCore.best(for: .current), BLASCore.tier(of: best) > BLASCore.tier(of: core) else { return nil }
            return best
        }

        public var description: String {
            var text = "\(core) (\(chosenBy)"
            if core.lowercased() != before.lowercased() {
                text += "; \(before) before"
                let lacking = BLASCore.missing(before, on: .current)
                if !lacking.isEmpty { text += ", whose kernels need \(BLASCoreChoice.names(lacking)), which this CPU lacks" }
            }
            if let refusal { text += "; \(refusal)" }
            if let better { text += "; this CPU runs \(better): \(modeVariable)=best uses it" }
            return text + ")"
        }
    }

    nonisolated(unsafe) private static var decided: Report?

    /// The report for this process (the core as loaded where `prepareProcess` never ran, as in tests).
    public static var report: Report {
        decided ?? Report(core: BLASCore.running, before: BLASCore.running, chosenBy: loadedBy(ProcessInfo.processInfo.environment), refusal: nil)
    }

    private static func loadedBy(_ env: [String: String]) -> String {
        (env["OPENBLAS_CORETYPE"] ?? "").isEmpty ? "OpenBLAS's own pick" : "OPENBLAS_CORETYPE"
    }

    /// Decides the core for this process; may replace the process (execv) and not return. Call
    /// before any other work, with the process's arguments.
    public static func prepareProcess(arguments: [String] = CommandLine.arguments) {
        let env = ProcessInfo.processInfo.environment
        let running = BLASCore.running
        let named = env[modeVariable] ?? "auto", mode = named.lowercased()
        let requested = env["OPENBLAS_CORETYPE"] ?? ""

        if let fields = env[choiceVariable]?.split(separator: "|", omittingEmptySubsequences: false).map(String.init),
           fields.count == 3, requested == fields[0] {
            let (chosen, previous, ran) = (fields[0], fields[1], fields[2])
            let fault = running.lowercased() != chosen.lowercased() ? "OpenBLAS did not take the name (it ran \(running))"
                : !BLASCore.computesCorrectly() ? "its sgemm failed a check against a reference" : nil
            guard let fault else {
                decided = Report(core: running, before: ran, chosenBy: mode == "auto" || mode == "best" ? "LossKit's choice" : modeVariable, refusal: nil)
                return
            }
            warn("warning: OpenBLAS core \(chosen) not used: \(fault); going on with \(ran)")
            if previous.isEmpty { unsetenv("OPENBLAS_CORETYPE") } else { setenv("OPENBLAS_CORETYPE", previous, 1) }
            unsetenv(choiceVariable)
            setenv(refusedVariable, "\(chosen)|\(ran)|\(fault)", 1)
            restart(arguments)
            decided = Report(core: running, before: ran, chosenBy: "LossKit's choice", refusal: "\(chosen) failed its check (\(fault)) and the restart failed")
            return
        }
        if let refused = env[refusedVariable] {
            // a choice failed in this process's ancestry: never choose again (no restart loop)
            let fields = refused.split(separator: "|", maxSplits: 2).map(String.init)
            decided = Report(core: running, before: running, chosenBy: "as started, after a refused choice",
                             refusal: fields.count == 3 ? "\(fields[0]) refused: \(fields[2])" : "a choice was refused")
            return
        }
        decided = Report(core: running, before: running, chosenBy: loadedBy(env), refusal: nil)

        var target: String?
        switch mode {
        case "openblas": target = nil
        case "auto", "best":
            if mode == "auto" && !requested.isEmpty { target = nil; break }
            target = BLASCore.best(for: .current).flatMap { BLASCore.tier(of: running) < BLASCore.tier(of: $0) ? $0 : nil }
        default:
            let lacking = BLASCore.missing(named, on: .current)
            if !lacking.isEmpty {
                warn("warning: \(modeVariable)=\(named) needs instructions this CPU lacks (\(Self.names(lacking))); not used")
                target = nil
            } else {
                target = mode == running.lowercased() ? nil : named
            }
        }
        // A core that would stop on its first sgemm (SIGILL) is replaced whoever chose it, unless
        // told never to choose: OpenBLAS's own pick says nothing (choosing is LossKit's job), a
        // name someone set gets one line.
        let lacking = BLASCore.missing(running, on: .current)
        if target == nil && !lacking.isEmpty {
            let rescue = BLASCore.runnable(for: .current)
            let what = requested.isEmpty ? "OpenBLAS's own pick, \(running)," : "OPENBLAS_CORETYPE=\(requested)"
            if mode == "openblas" {
                warn("warning: \(what) needs instructions this CPU lacks (\(Self.names(lacking))); \(modeVariable)=openblas keeps it")
            } else if let rescue {
                let someoneNamedACore = !requested.isEmpty || (mode != "auto" && mode != "best")
                if someoneNamedACore {
                    warn("warning: \(what) needs instructions this CPU lacks (\(Self.names(lacking))); running \(rescue)")
                }
                target = rescue
            } else {
                warn("warning: \(what) needs instructions this CPU lacks (\(Self.names(lacking))), and no OpenBLAS core this CPU runs is known")
            }
        }
        guard let target else { return }
        setenv("OPENBLAS_CORETYPE", target, 1)
        setenv(choiceVariable, "\(target)|\(requested)|\(running)", 1)
        restart(arguments)
        // execv failed: go on as started, and leave child processes the environment we found
        if requested.isEmpty { unsetenv("OPENBLAS_CORETYPE") } else { setenv("OPENBLAS_CORETYPE", requested, 1) }
        unsetenv(choiceVariable)
    }

    /// Replaces this process by the same executable with the same arguments; returns only if
    /// that fails.
    private static func restart(_ arguments: [String]) {
        fflush(stdout)
        fflush(stderr)
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        let reason = String(cString: strerror(errno))
        argv.forEach { free($0) }
        warn("warning: could not restart losskit to change OpenBLAS's core: \(reason)")
    }

    /// Features as /proc/cpuinfo spells them, for a warning.
    static func names(_ features: [CPUFeatures.Feature]) -> String { features.map(\.rawValue).joined(separator: ", ") }

    private static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
