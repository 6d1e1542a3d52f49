import CZlib

/// gzip (RFC 1952) and zlib (RFC 1950) decompression, plus a gzip compressor for fixtures.
///
/// Datasets such as Fashion-MNIST ship as `.gz`, but people also unpack them, so readers
/// detect compression from the two magic bytes `1f 8b` rather than trusting the file name.
/// Inflation uses `windowBits = 15 + 32`, which makes zlib accept either a gzip or a zlib
/// header, and continues across concatenated gzip members because RFC 1952 defines a file
/// as a sequence of members (`cat a.gz b.gz` is valid and decompresses to both inputs).
public enum Gzip {
    /// The gzip member header starts with ID1 = 0x1f, ID2 = 0x8b (RFC 1952 §2.3.1).
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        hasGzipMagic(bytes, at: 0)
    }

    /// Deflate's largest expansion: one compressed byte stands for at most 1032 output bytes
    /// (a 258-byte match in two bits, zlib's technical notes), so no stream's output can exceed
    /// this many times its input. A size a header claims beyond that is corrupt or hostile.
    public static let maximumRatio = 1032

    /// Decompresses a gzip (or zlib) stream. `path` is only used to name the file in errors.
    /// `check` sees the output after each chunk (256 KiB) and throws to stop: a reader whose
    /// format declares its size stops a stream that inflates past it before it is all in memory.
    public static func inflate(_ bytes: [UInt8], path: String, check: (([UInt8]) throws -> Void)? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        // ISIZE, the last 4 bytes of a gzip member, is the uncompressed size mod 2^32. For
        // the usual single-member file it sizes the output exactly and avoids regrowth; it is
        // the file's own claim, so it reserves no more than the stream could produce.
        if isGzip(bytes), bytes.count >= 18 {
            out.reserveCapacity(min(Int(ByteOrder.u32LE(bytes, bytes.count - 4)), bytes.count * maximumRatio))
        }

        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError("\(path): zlib inflateInit2 failed: \(message(stream))")
        }
        defer { inflateEnd(&stream) }

        let chunk = 1 << 18
        var scratch = [UInt8](repeating: 0, count: chunk)
        var consumed = 0          // compressed bytes handed to zlib and used so far
        var memberStart = 0       // where the current member began, for error offsets

        try bytes.withUnsafeBytes { input in
            try scratch.withUnsafeMutableBufferPointer { buf in
                let base = UnsafeMutablePointer(mutating: input.bindMemory(to: UInt8.self).baseAddress)
                while true {
                    // avail_in is 32-bit, so feed inputs over 4 GiB in slices.
                    if stream.avail_in == 0 && consumed < input.count {
                        let n = min(input.count - consumed, 1 << 30)
                        stream.next_in = base! + consumed
                        stream.avail_in = uInt(n)
                    }
                    let fed = Int(stream.avail_in)
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(chunk)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed += fed - Int(stream.avail_in)
                    let produced = chunk - Int(stream.avail_out)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0 ..< produced]))
                    if produced > 0 { try check?(out) }

                    switch status {
                    case Z_STREAM_END:
                        // Only the bytes zlib actually used count as consumed; the rest of the
                        // slice is the next member (or garbage).
                        let remaining = input.count - consumed
                        if remaining == 0 { return }
                        stream.avail_in = 0
                        memberStart = consumed
                        guard inflateReset(&stream) == Z_OK else {
                            throw DataError("\(path): zlib inflateReset failed: \(message(stream))")
                        }
                    case Z_OK:
                        continue
                    case Z_BUF_ERROR where consumed == input.count:
                        // No progress possible and no input left: the stream was cut short.
                        throw DataError("\(path): gzip stream ends early after \(consumed) compressed bytes (file has \(input.count) bytes; the member starting at offset \(memberStart) has no end marker), the file is probably truncated")
                    case Z_BUF_ERROR:
                        // Output space is always fresh, so this only means "feed more input",
                        // which the top of the loop does.
                        continue
                    case Z_DATA_ERROR where memberStart > 0 && !hasGzipMagic(bytes, at: memberStart):
                        throw DataError("\(path): \(input.count - memberStart) bytes of trailing garbage at offset \(memberStart) after the last gzip member: expected another member starting with 1f 8b, found \(hex(bytes, at: memberStart))")
                    default:
                        throw DataError("\(path): corrupt compressed data near offset \(consumed): \(message(stream)) (zlib status \(status))")
                    }
                }
            }
        }
        return out
    }

    /// Compresses `bytes` as a single gzip member (`windowBits = 15 + 16` selects the gzip
    /// wrapper). Used to build `.gz` fixtures, so it favours simplicity over streaming.
    public static func deflateGzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        let rc = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                               Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed with status \(rc)")
        defer { deflateEnd(&stream) }

        // deflateBound after init accounts for the gzip wrapper, so one Z_FINISH call
        // always completes; only inputs beyond uLong or uInt range would need a loop.
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written: Int = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: UInt8.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(bound)
                let status = CZlib.deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish: status \(status)")
                return bound - Int(stream.avail_out)
            }
        }
        out.removeSubrange(written...)
        return out
    }

    private static func hasGzipMagic(_ bytes: [UInt8], at offset: Int) -> Bool {
        offset + 1 < bytes.count && bytes[offset] == 0x1f && bytes[offset + 1] == 0x8b
    }

    private static func message(_ stream: z_stream) -> String {
        stream.msg.map { String(cString: $0) } ?? "no detail from zlib"
    }

    private static func hex(_ bytes: [UInt8], at offset: Int) -> String {
        bytes[offset ..< min(bytes.count, offset + 4)].map { hexByte($0) }.joined(separator: " ")
    }
}

func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
