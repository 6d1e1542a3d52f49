/// Element types this module reads and writes in safetensors files.
///
/// The format defines more (F16, BF16, F64, BOOL, ...); these four are the ones LossKit
/// stores (float weights, int64 counters, int32 and byte buffers). Other dtypes are
/// rejected by name instead of being skipped, so a checkpoint is never half-loaded.
public enum SafeTensorDType: String, Sendable, CaseIterable {
    case f32 = "F32", i64 = "I64", i32 = "I32", u8 = "U8"

    /// Bytes per element; also the element's natural alignment.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .i64: return 8
        case .u8: return 1
        }
    }
}

/// One named tensor: little-endian element bytes in row-major (C) order.
public struct SafeTensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorDType
    public let shape: [Int]
    public let bytes: [UInt8]

    /// `bytes.count` must equal the product of `shape` times `dtype.byteSize`; a mismatch
    /// is a programming error, because it could only produce a file no reader accepts.
    public init(name: String, dtype: SafeTensorDType, shape: [Int], bytes: [UInt8]) {
        precondition(name != "__metadata__", "'__metadata__' is reserved by the safetensors format")
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor '\(name)': negative dimension in \(shape)")
        precondition(shape.reduce(1, *) * dtype.byteSize == bytes.count,
                     "tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(shape.reduce(1, *) * dtype.byteSize) bytes, got \(bytes.count)")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }
}

/// A safetensors file (Hugging Face's format for storing tensors without pickle).
///
/// Layout: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON, an
/// object mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// with offsets relative to the first byte after the header, plus an optional
/// `"__metadata__"` object of string to string; then the data section. Tensors are
/// little-endian, row-major and contiguous, and together they must tile the data section
/// exactly, with no gaps and no overlaps, so every byte of the file is accounted for.
///
/// Writing follows the reference implementation: the header is padded with spaces so the
/// data section starts 8-byte aligned, and tensors are ordered by element size, largest
/// first, then by name. For a single-dtype file that is plain name order; with mixed
/// dtypes it keeps every tensor aligned to its element size, so readers that map the file
/// can use the data in place. Decoding checks every number in the header before using it,
/// because a checkpoint may be truncated by a crash or come from somewhere untrusted.
public struct SafeTensorsFile: Sendable {
    /// In file (header) order.
    public var entries: [SafeTensorEntry]
    public var metadata: [String: String]
    /// Names the file in error messages raised after decoding.
    var source = "in-memory safetensors"

    /// The reference implementation refuses headers over 100 MB; a larger length prefix
    /// is far more likely corruption than a real header, and we should not allocate it.
    public static let maxHeaderLength = 100_000_000

    public init(entries: [SafeTensorEntry] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    public mutating func add(name: String, floats: [Float], shape: [Int]) {
        put(SafeTensorEntry(name: name, dtype: .f32, shape: shape, bytes: ByteOrder.encodeFloatsLE(floats)))
    }

    public mutating func add(name: String, int64s: [Int64], shape: [Int]) {
        put(SafeTensorEntry(name: name, dtype: .i64, shape: shape, bytes: ByteOrder.encodeLE(int64s)))
    }

    /// Adding a name that already exists replaces it: a name can appear only once in the
    /// JSON header, and replacing is what re-saving a parameter means.
    private mutating func put(_ entry: SafeTensorEntry) {
        if let i = entries.firstIndex(where: { $0.name == entry.name }) {
            entries[i] = entry
        } else {
            entries.append(entry)
        }
    }

    public subscript(name: String) -> SafeTensorEntry? {
        entries.first { $0.name == name }
    }

    public func floats(_ name: String) throws -> [Float] {
        ByteOrder.decodeFloatsLE(try entry(name, as: .f32).bytes[...])
    }

    public func int64s(_ name: String) throws -> [Int64] {
        ByteOrder.decodeLE(try entry(name, as: .i64).bytes[...], as: Int64.self)
    }

    private func entry(_ name: String, as dtype: SafeTensorDType) throws -> SafeTensorEntry {
        guard let e = self[name] else {
            let have = entries.map { "'\($0.name)'" }.joined(separator: ", ")
            throw DataError("checkpoint \(source) has no tensor '\(name)' (it has: \(have.isEmpty ? "none" : have))")
        }
        guard e.dtype == dtype else {
            throw DataError("checkpoint \(source): tensor '\(name)' is \(e.dtype.rawValue) with shape \(e.shape), expected \(dtype.rawValue)")
        }
        return e
    }

    public func encoded() -> [UInt8] {
        var seen = Set<String>()
        for e in entries {
            precondition(seen.insert(e.name).inserted, "duplicate tensor name '\(e.name)'")
        }
        let ordered = entries.sorted {
            $0.dtype.byteSize != $1.dtype.byteSize ? $0.dtype.byteSize > $1.dtype.byteSize : $0.name < $1.name
        }
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { JSONParser.quote($0.key) + ":" + JSONParser.quote($0.value) }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for e in ordered {
            if !first { json += "," }
            first = false
            let shape = e.shape.map(String.init).joined(separator: ",")
            json += "\(JSONParser.quote(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}"
            offset += e.bytes.count
        }
        json += "}"

        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        ByteOrder.appendLE(UInt64(header.count), to: &out)
        out.append(contentsOf: header)
        for e in ordered { out.append(contentsOf: e.bytes) }
        return out
    }

    /// Replaces `path` atomically (temp file, fsync, rename, fsync directory) so a crash
    /// mid-save leaves the previous checkpoint intact rather than a truncated one.
    public func write(atomicallyTo path: String) throws {
        try FileIO.writeAtomically(encoded(), to: path)
    }

    public static func read(path: String) throws -> SafeTensorsFile {
        try decode(FileIO.readAll(path: path), path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else {
            throw DataError("checkpoint \(path) is too short to be safetensors: \(bytes.count) bytes, but the header length alone takes 8")
        }
        let declared = ByteOrder.u64LE(bytes, 0)
        guard declared <= UInt64(maxHeaderLength) else {
            throw DataError("checkpoint \(path): header length \(declared) (bytes 0..<8) exceeds the \(maxHeaderLength)-byte limit; the file is corrupt or not safetensors")
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw DataError("checkpoint \(path): header length \(headerLength) (bytes 0..<8) runs past the end of the file: the header would end at offset \(8 + headerLength) but the file has \(bytes.count) bytes")
        }
        let dataStart = 8 + headerLength
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes[8 ..< dataStart])
        } catch let e as JSONError {
            throw DataError("checkpoint \(path): header (bytes 8..<\(dataStart)) is not valid JSON: \(e.reason) at file offset \(8 + e.offset)")
        }
        guard case let .object(members) = root else {
            throw DataError("checkpoint \(path): header must be a JSON object, found \(root.kind)")
        }

        var pending: [TensorInfo] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(pairs) = value else {
                    throw DataError("checkpoint \(path): __metadata__ must be an object of strings, found \(value.kind)")
                }
                for (k, v) in pairs {
                    guard case let .string(s) = v else {
                        throw DataError("checkpoint \(path): __metadata__ value for '\(k)' must be a string, found \(v.kind)")
                    }
                    metadata[k] = s
                }
                continue
            }
            pending.append(try parseInfo(name, value, path: path))
        }

        // Tile check: sorted by position, each tensor must start where the previous ended.
        let available = bytes.count - dataStart
        let byPosition = pending.indices.sorted { (pending[$0].begin, pending[$0].end) < (pending[$1].begin, pending[$1].end) }
        var cursor = 0
        var previous: String?
        for i in byPosition {
            let p = pending[i]
            if p.begin > cursor {
                throw DataError("checkpoint \(path): gap in the data section: bytes \(cursor)..<\(p.begin) belong to no tensor (\(previous.map { "'\($0)' ends at \(cursor)" } ?? "data starts at 0"), '\(p.name)' begins at \(p.begin))")
            }
            if p.begin < cursor {
                throw DataError("checkpoint \(path): tensors overlap: '\(p.name)' begins at data offset \(p.begin) but '\(previous!)' ends at \(cursor)")
            }
            if p.end > available {
                throw DataError("checkpoint \(path) is truncated: tensor '\(p.name)' needs bytes \(p.begin)..<\(p.end) of the data section but only \(available) are present")
            }
            cursor = p.end
            previous = p.name
        }
        if cursor != available {
            throw DataError("checkpoint \(path): \(available - cursor) bytes at file offset \(dataStart + cursor) follow the last tensor; the header accounts for \(cursor) data bytes but the data section has \(available)")
        }

        var file = SafeTensorsFile(
            entries: pending.map { p in
                SafeTensorEntry(name: p.name, dtype: p.dtype, shape: p.shape,
                                bytes: Array(bytes[dataStart + p.begin ..< dataStart + p.end]))
            },
            metadata: metadata)
        file.source = path
        return file
    }

    private static func parseInfo(_ name: String, _ value: JSONValue, path: String) throws -> TensorInfo {
        let at = "checkpoint \(path): tensor '\(name)'"
        guard case let .object(fields) = value else {
            throw DataError("\(at): expected an object with dtype, shape and data_offsets, found \(value.kind)")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let v = fields.first(where: { $0.0 == key })?.1 else {
                throw DataError("\(at): missing \"\(key)\"")
            }
            return v
        }
        guard case let .string(dtypeName) = try field("dtype") else {
            throw DataError("\(at): \"dtype\" must be a string")
        }
        guard let dtype = SafeTensorDType(rawValue: dtypeName) else {
            throw DataError("\(at): unknown or unsupported dtype '\(dtypeName)' (this reader supports \(SafeTensorDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard case let .array(dimValues) = try field("shape") else {
            throw DataError("\(at): \"shape\" must be an array of non-negative integers")
        }
        var shape: [Int] = []
        var elements = 1
        var overflow = false
        for d in dimValues {
            guard let n = d.nonNegativeInt else {
                throw DataError("\(at): \"shape\" must be an array of non-negative integers, found \(d.kind) \(describe(d))")
            }
            shape.append(n)
            if !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: n) }
        }
        guard case let .array(offsetValues) = try field("data_offsets"), offsetValues.count == 2,
              let begin = offsetValues[0].nonNegativeInt, let end = offsetValues[1].nonNegativeInt else {
            throw DataError("\(at): \"data_offsets\" must be [begin, end] with non-negative integers")
        }
        guard begin <= end else {
            throw DataError("\(at): data_offsets [\(begin), \(end)] are out of range: begin is after end")
        }
        let (needed, overflow2) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, !overflow2, needed == end - begin else {
            throw DataError("\(at): shape \(shape) of \(dtype.rawValue) needs \(overflow || overflow2 ? "more than Int.max" : String(needed)) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private static func describe(_ v: JSONValue) -> String {
        switch v {
        case let .number(t): return t
        case let .string(s): return JSONParser.quote(s)
        case let .bool(b): return String(b)
        default: return ""
        }
    }
}

/// A header entry after validation, before its bytes are sliced out of the data section.
private struct TensorInfo {
    let name: String
    let dtype: SafeTensorDType
    let shape: [Int]
    let begin: Int
    let end: Int
}
