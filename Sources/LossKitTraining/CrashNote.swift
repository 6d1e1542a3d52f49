import CLossKitShims
import LossKitPlugins

/// The one line LossKit leaves if the process dies of a fault while training — most likely in a
/// plugin, whose code runs in this process: what was running (which plugin, from which file,
/// in which call), at which step, the last checkpoint (written atomically, so intact), and the
/// command that resumes from it. The trainer updates the note before each plugin call; the fault
/// handler (`crash_note.c`) prints it, then lets the signal end the process as before.
struct CrashNote {
    let runDirectory: String
    let totalSteps: Int

    init(runDirectory: String, totalSteps: Int) {
        self.runDirectory = runDirectory
        self.totalSteps = totalSteps
        lk_crash_note_install()
    }

    /// `activity` is running during (0-based) `step`; `checkpoint` is the step of the last
    /// checkpoint written, if any.
    func set(_ activity: String, step: Int, checkpoint: Int?) {
        let kept = checkpoint.map {
            "the last checkpoint (step \($0)) in \(runDirectory)/checkpoint.safetensors is intact: resume with `losskit train --resume --out \(runDirectory)` (and the same --plugin-path)"
        } ?? "no checkpoint had been written yet: start the run again"
        lk_crash_note_set("losskit: the process died in \(activity) at step \(step + 1)/\(totalSteps); \(kept)")
    }

    static func clear() { lk_crash_note_set(nil) }

    /// How a plugin is named in the note: its term or role, name, version and library.
    static func describe(_ instance: PluginInstance, role: String, call: String) -> String {
        "\(role) (plugin \(instance.plugin.name) \(instance.plugin.version), \(instance.plugin.path)), in its \(call)"
    }
}

/// What rank 0 of a data-parallel run prints when mpirun ends it because another rank failed:
/// where the last intact checkpoint is (set after each checkpoint; the SIGTERM handler is
/// installed by the first `set`).
enum TerminationNote {
    static func set(_ text: String) { lk_termination_note_set(text) }
}
