import ArgumentParser

/// A command that parsed and validated but could not do its work (a plugin that is not there, a
/// run whose head was never trained, a file it cannot write). ArgumentParser prints
/// `Error: <message>` for it and exits with 1, without a usage line: thrown from `run()`, a
/// `ValidationError` would show the top-level `losskit <subcommand>` usage, which is no help.
/// Argument mistakes are caught in `validate()`, which shows the subcommand's own usage.
/// `--threads` of the commands that evaluate a run: nil keeps the run's; otherwise the range
/// training accepts (the engine would quietly take 0 or -1 as 1).
func validateThreads(_ threads: Int?) throws {
    if let threads, !(1...256).contains(threads) {
        throw ValidationError("--threads must be in 1...256, got \(threads)")
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
