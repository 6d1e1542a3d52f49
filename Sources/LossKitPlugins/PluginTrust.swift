import Foundation

/// Whether a plugin file can be trusted to run as the user who trains: anyone who can write the
/// library, or swap it or a folder on its way, can run code as that user. Judged on the resolved
/// path (symbolic links followed) and every folder above it, as ssh's StrictModes judges a key:
///
/// - the file, and the folder it sits in, must be owned by root or this user and writable by no
///   one else — a sticky bit does not help there, since others could still add a library;
/// - every folder above must be owned by root or this user and writable by no one else, except a
///   sticky one (such as /tmp): others may add entries there but not rename or remove ours, so it
///   is safe as long as the entry below it is ours or root's.
enum PluginTrust {
    /// The reason `path` cannot be trusted, with the fix, or nil when it can. `what` names the
    /// path in the message ("plugin file", "plugin folder").
    static func refusal(_ path: String, what: String) -> String? {
        guard let resolvedC = realpath(path, nil) else {
            return "cannot resolve \(what) \(path): \(String(cString: strerror(errno)))"
        }
        let resolved = String(cString: resolvedC)
        free(resolvedC)
        let via = resolved == path ? "" : " (\(path) resolves to \(resolved))"
        var st = stat()
        guard stat(resolved, &st) == 0 else { return "cannot stat \(what): \(String(cString: strerror(errno)))" }
        if let fault = fault(st, path: resolved, stickyHelps: false) { return "\(what) \(fault)\(via)" }
        // the folders above, nearest first; the first one holds the file (or is the folder itself)
        var folder = (resolved as NSString).deletingLastPathComponent
        var child = st
        var first = (st.st_mode & S_IFMT) != S_IFDIR
        while !folder.isEmpty {
            guard stat(folder, &st) == 0 else { return "cannot stat \(folder): \(String(cString: strerror(errno)))" }
            // a sticky folder protects only entries that are ours or root's
            let sticky = !first && (st.st_mode & S_ISVTX) != 0 && trustedOwner(child.st_uid)
            if let fault = fault(st, path: folder, stickyHelps: sticky) {
                return "\(what) sits under an unsafe folder: \(folder) \(fault)\(via)"
            }
            if folder == "/" { break }
            child = st
            first = false
            folder = (folder as NSString).deletingLastPathComponent
        }
        return nil
    }

    private static func trustedOwner(_ uid: uid_t) -> Bool { uid == 0 || uid == geteuid() }

    /// What is wrong with one path's owner or mode, with the fix.
    private static func fault(_ st: stat, path: String, stickyHelps: Bool) -> String? {
        if !trustedOwner(st.st_uid) {
            return "is owned by another user (uid \(st.st_uid)): refused; only root's or your own files and folders are trusted"
        }
        let mode = st.st_mode & 0o7777
        guard mode & 0o022 != 0, !stickyHelps else { return nil }
        let who = mode & 0o002 != 0 ? "everyone" : "its group"
        let sticky = (mode & S_ISVTX) != 0 ? ", sticky bit or not" : ""
        return "is writable by \(who) (mode \(String(mode, radix: 8))\(sticky)): refused; fix with `chmod go-w \(path)`"
    }
}
