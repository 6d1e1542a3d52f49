/// An n-dimensional array of unsigned bytes read from an IDX file.
///
/// `bytes` is row-major with the last dimension varying fastest, exactly as stored,
/// so an MNIST image file gives `dims == [count, rows, columns]`.
public struct IDXArray: Sendable, Equatable {
    public let dims: [Int]
    public let bytes: [UInt8]

    public init(dims: [Int], bytes: [UInt8]) {
        precondition(dims.allSatisfy { $0 >= 0 } && dims.reduce(1, *) == bytes.count,
                     "IDXArray: dims \(dims) do not describe \(bytes.count) bytes")
        self.dims = dims
        self.bytes = bytes
    }
}

/// Reader (and fixture writer) for the IDX format used by MNIST and Fashion-MNIST.
///
/// Layout, as documented on the MNIST page: two zero bytes, a type byte, a byte giving
/// the number of dimensions D, then D big-endian UInt32 sizes, then the data row-major.
/// Only type 0x08 (unsigned byte) is accepted because it is the only one those datasets
/// use; the other codes (0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double)
/// are rejected by name rather than misread. Files may be gzip-compressed or plain; the
/// `1f 8b` magic decides, not the extension, because people rename and unpack freely.
/// The header fixes the file size exactly, so both missing bytes and extra bytes are
/// errors: either means the file is not what its header claims.
public enum IDXFile {
    static let typeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
        0x0D: "float32", 0x0E: "float64",
    ]

    public static func read(path: String) throws -> IDXArray {
        let raw = try FileIO.readAll(path: path)
        if Gzip.isGzip(raw) {
            // the header, in the first decompressed chunk, bounds the rest: inflation stops at
            // the size it declares instead of filling memory with whatever the stream holds
            var declared: Int?
            let inflated = try Gzip.inflate(raw, path: path) { out in
                if declared == nil, let (dims, size) = try header(out, path: path) {
                    guard size / Gzip.maximumRatio <= raw.count else {
                        throw DataError("\(path): its IDX header (dims \(dims)) declares \(size) bytes, more than \(raw.count) compressed bytes can hold (deflate expands at most \(Gzip.maximumRatio)×): the header is corrupt")
                    }
                    declared = size
                }
                if let declared, out.count > declared {
                    throw DataError("\(path): decompresses to more than the \(declared) bytes its IDX header declares: unexpected trailing bytes at offset \(declared) of the decompressed data")
                }
            }
            return try parse(inflated, path: path, where: " of the decompressed data")
        }
        return try parse(raw, path: path, where: "")
    }

    /// The dimensions and whole size (header included) an IDX header declares, or nil while `b`
    /// is too short to hold the header; throws for a header that is not IDX's.
    static func header(_ b: [UInt8], path: String) throws -> (dims: [Int], size: Int)? {
        if b.count >= 2 && (b[0] != 0 || b[1] != 0) {
            let first = b.prefix(4).map(hexByte).joined(separator: " ")
            throw DataError("\(path): not an IDX file: the first \(min(4, b.count)) bytes are \(first), but an IDX file starts with 00 00, a type byte and a dimension count (e.g. 00 00 08 03 for MNIST images, 00 00 08 01 for labels)")
        }
        guard b.count >= 4 else { return nil }
        let type = b[2]
        guard type == 0x08 else {
            let name = typeNames[type].map { " (\($0))" } ?? " (not a defined IDX type)"
            throw DataError("\(path): IDX element type 0x\(hexByte(type))\(name) at offset 2 is not supported; only 0x08 (unsigned byte) is")
        }
        let rank = Int(b[3])
        let headerSize = 4 + 4 * rank
        guard b.count >= headerSize else { return nil }
        let dims = (0 ..< rank).map { Int(ByteOrder.u32BE(b, 4 + 4 * $0)) }
        var count = 1, overflow = false
        for d in dims where !overflow { (count, overflow) = count.multipliedReportingOverflow(by: d) }
        let (total, beyond) = count.addingReportingOverflow(headerSize)
        if overflow || beyond { throw DataError("\(path): IDX dimensions \(dims) describe more bytes than can be addressed") }
        return (dims, total)
    }

    /// Parses IDX bytes already in memory (decompressed). `path` names the source in errors.
    public static func parse(_ b: [UInt8], path: String) throws -> IDXArray {
        try parse(b, path: path, where: "")
    }

    static func parse(_ b: [UInt8], path: String, where place: String) throws -> IDXArray {
        guard let (dims, size) = try header(b, path: path) else {
            guard b.count >= 4 else {
                throw DataError("\(path): truncated IDX header: \(b.count) bytes\(place), the magic number alone needs 4")
            }
            throw DataError("\(path): truncated IDX header: \(b[3]) dimensions need a \(4 + 4 * Int(b[3]))-byte header but there are only \(b.count) bytes\(place)")
        }
        let headerSize = 4 + 4 * dims.count, total = size - headerSize
        let available = b.count - headerSize
        if available < total {
            throw DataError("\(path): truncated: header promises \(total) data bytes after offset \(headerSize), file has only \(available)\(place.isEmpty ? "" : " (decompressed)") (dims \(dims))")
        }
        if available > total {
            throw DataError("\(path): \(available - total) unexpected trailing bytes at offset \(headerSize + total)\(place): header (dims \(dims)) promises exactly \(total) data bytes after offset \(headerSize)")
        }
        return IDXArray(dims: dims, bytes: Array(b[headerSize...]))
    }

    /// Encodes an unsigned-byte IDX file, e.g. to build test fixtures or export a subset.
    public static func encode(_ array: IDXArray) -> [UInt8] {
        precondition(array.dims.count <= 255 && array.dims.allSatisfy { $0 <= Int(UInt32.max) },
                     "IDX allows at most 255 dimensions of at most 2^32-1 each")
        var out: [UInt8] = [0, 0, 0x08, UInt8(array.dims.count)]
        out.reserveCapacity(4 + 4 * array.dims.count + array.bytes.count)
        for d in array.dims {
            withUnsafeBytes(of: UInt32(d).bigEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: array.bytes)
        return out
    }
}
