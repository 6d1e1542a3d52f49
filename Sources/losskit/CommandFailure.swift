/// A command that parsed and validated but could not do its work (a plugin that is not there, a
/// run whose head was never trained, a file it cannot write). ArgumentParser prints
/// `Error: <message>` for it and exits with 1, without a usage line: thrown from `run()`, a
/// `ValidationError` would show the top-level `losskit <subcommand>` usage, which is no help.
/// Argument mistakes are caught in `validate()`, which shows the subcommand's own usage.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
