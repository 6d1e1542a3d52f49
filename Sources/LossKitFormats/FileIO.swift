#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe writes shared by the format readers and writers.
///
/// Datasets and checkpoints are read once, front to back, so one `read(2)` loop into a
/// preallocated array is both the simplest and the fastest approach; it also lets every
/// failure become a `DataError` that names the path.
package enum FileIO {
    package static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Up to `count` bytes from the start of an open file (for short notes such as a lock's holder).
    package static func readPrefix(_ fd: Int32, _ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        return Array(bytes.prefix(max(got, 0)))
    }

    package static func readAll(path: String) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; it changes
        // nothing for the regular files that are read
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw DataError("no such file: \(path)") }
            throw DataError("cannot open \(path): \(errnoText(code))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw DataError("cannot stat \(path): \(errnoText(errno))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw DataError("\(path) is a directory, expected a file")
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            throw DataError("\(path) is not a regular file (a device, FIFO or socket), expected a file")
        }
        let size = Int(st.st_size)
        var failure: DataError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = DataError("cannot read \(path) at offset \(done): \(errnoText(errno))")
                    break
                }
                // The file shrank between fstat and read; report what we actually have
                // so the format parser names the real size.
                if n == 0 { break }
                done += n
            }
            initialized = done
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes `bytes` so that `path` holds either the old contents or the new ones, never a
    /// torn mix: a checkpoint half-written when the machine loses power must not replace a
    /// good one. The temp file lives in the same directory because rename(2) is only atomic
    /// within one file system, and the directory is fsynced so the rename itself is durable.
    package static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (directory == "/" ? "" : directory) + "/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw DataError("cannot create temporary file \(temp) to write \(path): \(errnoText(errno))")
        }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DataError("cannot write \(path) (temporary \(temp)) at offset \(done): \(errnoText(errno))")
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else {
                throw DataError("cannot fsync \(temp) while writing \(path): \(errnoText(errno))")
            }
        }
        guard rename(temp, path) == 0 else {
            throw DataError("cannot rename \(temp) to \(path): \(errnoText(errno))")
        }
        ok = true
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd < 0 {
            throw DataError("wrote \(path) but cannot open its directory \(directory) to fsync it: \(errnoText(errno))")
        }
        defer { close(dirfd) }
        guard fsync(dirfd) == 0 else {
            throw DataError("wrote \(path) but cannot fsync its directory \(directory): \(errnoText(errno))")
        }
    }
}
