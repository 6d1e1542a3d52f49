import Foundation

/// Checks that a file is a complete ELF shared library for this machine before `dlopen` maps it.
/// `dlopen` trusts the file: a truncated copy maps segments past its end and the first touch of
/// them kills the process with SIGBUS; a folder or a FIFO named `lib*.so` traps or blocks. Here
/// the file is judged from its headers alone (at most 64 bytes plus its program headers), with
/// a message that says what is wrong.
enum ELFCheck {
    static let hostMachine: UInt16 = {
        #if arch(x86_64)
        return 62
        #elseif arch(arm64)
        return 183
        #else
        return 0
        #endif
    }()

    static func machineName(_ m: UInt16) -> String {
        switch m {
        case 3: return "x86 (32-bit)"
        case 40: return "ARM (32-bit)"
        case 62: return "x86_64"
        case 183: return "aarch64"
        case 243: return "RISC-V"
        default: return "ELF machine \(m)"
        }
    }

    /// Throws the reason `path` is not a loadable shared library for this host.
    static func check(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw HostError("cannot stat: \(String(cString: strerror(errno)))") }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw HostError("a folder, not a shared library")
        default: throw HostError("not a regular file (a device, FIFO or socket), not a shared library")
        }
        let size = UInt64(st.st_size)
        // O_NONBLOCK: the file could have been swapped for a FIFO since the stat
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw HostError("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        func read(_ count: Int, at offset: UInt64) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return Array(bytes.prefix(max(got, 0)))
        }
        let head = read(64, at: 0)
        guard head.count >= 4, head[0] == 0x7f, head[1] == 0x45, head[2] == 0x4c, head[3] == 0x46 else {
            let shown = head.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw HostError("not an ELF shared library (it starts with \(shown.isEmpty ? "nothing: the file is empty" : shown)); build plugins with `cc -shared -fPIC` or `swift build`")
        }
        guard head.count >= 20 else { throw HostError("truncated ELF header (\(head.count) bytes)") }
        guard head[4] == 2 else { throw HostError("a 32-bit ELF library; this host is 64-bit") }
        guard head[5] == 1 else { throw HostError("a big-endian ELF library; this host is little-endian") }
        let machine = UInt16(head[18]) | UInt16(head[19]) << 8
        guard machine == hostMachine else {
            throw HostError("built for \(machineName(machine)); this host is \(machineName(hostMachine)): rebuild the plugin on this machine")
        }
        guard head.count == 64 else { throw HostError("truncated ELF header (\(head.count) of 64 bytes)") }
        func u16(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(b[at]) | UInt64(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> UInt64 { u16(b, at) | u16(b, at + 2) << 16 }
        func u64(_ b: [UInt8], _ at: Int) -> UInt64 { u32(b, at) | u32(b, at + 4) << 32 }
        guard u16(head, 16) == 3 else {
            throw HostError(u16(head, 16) == 2 ? "an executable, not a shared library" : "ELF type \(u16(head, 16)), not a shared library")
        }
        let (phoff, phentsize, phnum) = (u64(head, 32), u16(head, 54), u16(head, 56))
        let (shoff, shentsize, shnum) = (u64(head, 40), u16(head, 58), u16(head, 60))
        // everything the headers place in the file must lie inside it (sizes are 16-bit, offsets
        // checked against the file size first, so no sum below overflows)
        func ends(_ offset: UInt64, _ length: UInt64) -> UInt64? { offset <= size && length <= size ? offset + length : nil }
        guard phnum > 0, phentsize >= 56, let phEnd = ends(phoff, phentsize * phnum), phEnd <= size else {
            throw HostError("truncated or corrupt: its program headers (\(phnum) at byte \(phoff)) lie outside the file's \(size) bytes")
        }
        if shoff != 0, shnum > 0 {
            guard let shEnd = ends(shoff, shentsize * shnum), shEnd <= size else {
                throw HostError("truncated: the file is \(size) bytes, its section table ends at byte \(shoff + shentsize * shnum)")
            }
        }
        let table = read(Int(phentsize * phnum), at: phoff)
        guard table.count == Int(phentsize * phnum) else { throw HostError("could not read its program headers") }
        // the loader maps PT_LOAD segments in ascending address order and reads the dynamic
        // section through them: segments out of order, or a dynamic section outside them, send
        // it through unmapped memory (a flipped header byte did: SIGSEGV inside dlopen)
        var loads: [(vaddr: UInt64, memsz: UInt64, offset: UInt64, filesz: UInt64)] = []
        var dynamic: (vaddr: UInt64, offset: UInt64, filesz: UInt64)?
        // segments the loader acts on inside the loaded ones (PT_GNU_RELRO is made read-only
        // after relocation: a flipped size once protected the host's own memory); TLS by its
        // initial image only, since its zero-filled part need not be mapped
        var inside: [(index: Int, vaddr: UInt64, size: UInt64)] = []
        for i in 0..<Int(phnum) {
            let h = Int(phentsize) * i
            let type = u32(table, h)
            switch type {
            case 3, 4, 6, 0x6474_e550, 0x6474_e552, 0x6474_e553:   // INTERP, NOTE, PHDR, GNU_EH_FRAME, GNU_RELRO, GNU_PROPERTY
                inside.append((i, u64(table, h + 16), u64(table, h + 40)))
            case 7:                                                  // TLS
                inside.append((i, u64(table, h + 16), u64(table, h + 32)))
            default: break
            }
            guard type == 1 || type == 2 else { continue }   // PT_LOAD, PT_DYNAMIC
            let (offset, vaddr, fileSize, memSize) = (u64(table, h + 8), u64(table, h + 16), u64(table, h + 32), u64(table, h + 40))
            guard u32(table, h + 4) & ~7 == 0 else { throw HostError("corrupt: segment \(i) has permission bits 0x\(String(u32(table, h + 4), radix: 16))") }
            guard let end = ends(offset, fileSize), end <= size else {
                throw HostError("truncated: the file is \(size) bytes, its segment \(i) ends at byte \(offset &+ fileSize)")
            }
            if type == 2 {
                guard dynamic == nil else { throw HostError("corrupt: two dynamic sections") }
                dynamic = (vaddr, offset, fileSize)
                continue
            }
            let (_, wraps) = vaddr.addingReportingOverflow(memSize)
            guard memSize >= fileSize, !wraps, loads.last.map({ $0.vaddr + $0.memsz <= vaddr }) ?? true else {
                throw HostError("corrupt: its loadable segment \(i) overlaps, precedes the one before it, or is smaller in memory than in the file")
            }
            loads.append((vaddr, memSize, offset, fileSize))
        }
        guard let dynamic, !loads.isEmpty else { throw HostError("no loadable segments or no dynamic section: not a shared library") }
        func mapped(_ address: UInt64, _ length: UInt64) -> Bool {
            loads.contains { address >= $0.vaddr && length <= $0.memsz && address - $0.vaddr <= $0.memsz - length }
        }
        guard mapped(dynamic.vaddr, dynamic.filesz),
              loads.contains(where: { dynamic.offset >= $0.offset && dynamic.offset - $0.offset == dynamic.vaddr - $0.vaddr }) else {
            throw HostError("corrupt: its dynamic section lies outside its loadable segments")
        }
        if let stray = inside.first(where: { !mapped($0.vaddr, $0.size) }) {
            throw HostError("corrupt: its segment \(stray.index) lies outside its loadable segments")
        }
        // the tables the dynamic section points the loader at must lie in mapped memory too
        let entries = read(Int(min(dynamic.filesz, 16 * 4096)), at: dynamic.offset)
        let pointers: Set<UInt64> = [4, 5, 6, 7, 12, 13, 17, 23, 25, 26, 0x6fff_fef5, 0x6fff_fff0, 0x6fff_fffc, 0x6fff_fffe]
        var k = 0
        while k + 16 <= entries.count {
            let (tag, value) = (u64(entries, k), u64(entries, k + 8))
            if tag == 0 { break }   // DT_NULL
            if pointers.contains(tag), !mapped(value, 1) {
                throw HostError("corrupt: its dynamic entry \(k / 16) (tag 0x\(String(tag, radix: 16))) points outside its loadable segments")
            }
            k += 16
        }
    }
}
