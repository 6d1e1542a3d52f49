/// NumPy's `.npy` format for float32 arrays (and int32 ones, for labels), so embeddings,
/// activations and curves can be opened with `numpy.load` without any other library.
///
/// Layout (format version 1.0): the magic `\x93NUMPY`, major 1, minor 0, a little-endian
/// UInt16 header length, then an ASCII Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }` padded with spaces and
/// ended by `\n` so the whole preamble is a multiple of 64 bytes, which lets the data be
/// memory-mapped aligned. Data follows in C order. Version 2.0 differs only in a UInt32
/// header length and is written only if the header would not fit in 65535 bytes;
/// version 3.0 (UTF-8 header) is read as well.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY

    public static func encode(floats: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == floats.count,
                     "NPY: shape \(shape) does not describe \(floats.count) floats")
        return encode(descr: "<f4", shape: shape, data: ByteOrder.encodeFloatsLE(floats))
    }

    /// An int32 array (`<i4`): class labels, which `numpy.load` should give back as integers.
    public static func encode(int32s: [Int32], shape: [Int]) -> [UInt8] {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == int32s.count,
                     "NPY: shape \(shape) does not describe \(int32s.count) integers")
        var data: [UInt8] = []
        data.reserveCapacity(int32s.count * 4)
        for v in int32s { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return encode(descr: "<i4", shape: shape, data: data)
    }

    private static func encode(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        // Python's tuple repr: a 1-tuple needs the trailing comma, a 0-d array is ().
        let dims = shape.map(String.init)
        let tuple = shape.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }".utf8)
        let version: UInt8 = header.count + 1 + 10 <= 65535 ? 1 : 2
        let preamble = version == 1 ? 10 : 12
        let padding = (64 - (preamble + header.count + 1) % 64) % 64
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        header.append(UInt8(ascii: "\n"))

        var out = magic + [version, 0]
        out.reserveCapacity(preamble + header.count + data.count)
        if version == 1 {
            out.append(UInt8(header.count & 0xFF))
            out.append(UInt8(header.count >> 8))
        } else {
            withUnsafeBytes(of: UInt32(header.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: header)
        out.append(contentsOf: data)
        return out
    }

    /// Written atomically, like checkpoints, so a reader never sees half an array.
    public static func write(floats: [Float], shape: [Int], to path: String) throws {
        try FileIO.writeAtomically(encode(floats: floats, shape: shape), to: path)
    }

    public static func write(int32s: [Int32], shape: [Int], to path: String) throws {
        try FileIO.writeAtomically(encode(int32s: int32s, shape: shape), to: path)
    }

    /// Decodes a float32 `.npy` (`<f4`, or big-endian `>f4`, C order).
    public static func decode(_ bytes: [UInt8]) throws -> (shape: [Int], floats: [Float]) {
        let what = "NPY data"
        guard bytes.count >= 10, Array(bytes[0 ..< 6]) == magic else {
            throw DataError("\(what): missing the \\x93NUMPY magic at offset 0 (first bytes: \(bytes.prefix(6).map(hexByte).joined(separator: " ")))")
        }
        let major = bytes[6]
        let preamble: Int
        let headerLength: Int
        switch major {
        case 1:
            preamble = 10
            headerLength = Int(ByteOrder.u16LE(bytes, 8))
        case 2, 3:
            guard bytes.count >= 12 else { throw DataError("\(what): truncated preamble: \(bytes.count) bytes, version \(major).0 needs 12") }
            preamble = 12
            headerLength = Int(ByteOrder.u32LE(bytes, 8))
        default:
            throw DataError("\(what): unsupported format version \(major).\(bytes[7]) at offset 6, expected 1.0, 2.0 or 3.0")
        }
        guard preamble + headerLength <= bytes.count else {
            throw DataError("\(what): header length \(headerLength) at offset 8 runs past the end (\(bytes.count) bytes)")
        }
        guard let text = String(validating: bytes[preamble ..< preamble + headerLength], as: UTF8.self) else {
            throw DataError("\(what): header at offset \(preamble) is not valid text")
        }
        let dict = try HeaderDict(text, what: what)
        guard dict.fortranOrder == false else {
            throw DataError("\(what): Fortran-order arrays are not supported; save with numpy.ascontiguousarray first")
        }
        let bigEndian: Bool
        switch dict.descr {
        case "<f4": bigEndian = false
        case ">f4": bigEndian = true
        default: throw DataError("\(what): dtype '\(dict.descr)' is not float32 ('<f4')")
        }
        var count = 1
        for d in dict.shape {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw DataError("\(what): shape \(dict.shape) is too large") }
            count = c
        }
        let start = preamble + headerLength
        let available = bytes.count - start
        guard available == count * 4 else {
            throw DataError("\(what): shape \(dict.shape) needs \(count * 4) data bytes after offset \(start), found \(available)")
        }
        var floats = ByteOrder.decodeFloatsLE(bytes[start...])
        if bigEndian {
            for i in floats.indices { floats[i] = Float(bitPattern: floats[i].bitPattern.byteSwapped) }
        }
        return (dict.shape, floats)
    }

    /// Parses the restricted Python literal NumPy writes: a dict with string keys whose
    /// values are strings, True/False, or tuples of integers. Anything else is rejected,
    /// since `eval`-like generality is exactly what a data format should not need.
    struct HeaderDict {
        var descr = ""
        var fortranOrder: Bool?
        var shape: [Int] = []
        private var seenShape = false

        init(_ text: String, what: String) throws {
            var s = Substring(text)
            func fail(_ why: String) -> DataError {
                DataError("\(what): cannot parse header \(JSONParser.quote(text.trimmingSpaces)): \(why)")
            }
            func skip() { s = s.drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
            func eat(_ c: Character) -> Bool {
                skip()
                guard s.first == c else { return false }
                s.removeFirst()
                return true
            }
            func quoted() throws -> String {
                skip()
                guard let q = s.first, q == "'" || q == "\"" else { throw fail("expected a quoted string") }
                s.removeFirst()
                guard let close = s.firstIndex(of: q) else { throw fail("unterminated string") }
                defer { s = s[s.index(after: close)...] }
                return String(s[..<close])
            }
            func integer() throws -> Int {
                skip()
                let digits = s.prefix { $0.isASCII && $0.isNumber }
                guard let n = Int(digits) else { throw fail("expected an integer in shape") }
                s.removeFirst(digits.count)
                return n
            }
            guard eat("{") else { throw fail("expected '{'") }
            while !eat("}") {
                let key = try quoted()
                guard eat(":") else { throw fail("expected ':' after '\(key)'") }
                switch key {
                case "descr":
                    descr = try quoted()
                case "fortran_order":
                    skip()
                    if s.hasPrefix("True") { fortranOrder = true; s.removeFirst(4) }
                    else if s.hasPrefix("False") { fortranOrder = false; s.removeFirst(5) }
                    else { throw fail("fortran_order must be True or False") }
                case "shape":
                    guard eat("(") else { throw fail("shape must be a tuple") }
                    while !eat(")") {
                        shape.append(try integer())
                        if !eat(",") {
                            guard eat(")") else { throw fail("expected ',' or ')' in shape") }
                            break
                        }
                    }
                    seenShape = true
                default:
                    throw fail("unexpected key '\(key)'")
                }
                if !eat(",") {
                    guard eat("}") else { throw fail("expected ',' or '}'") }
                    break
                }
            }
            guard !descr.isEmpty, fortranOrder != nil, seenShape else {
                throw fail("descr, fortran_order and shape are all required")
            }
        }
    }
}

private extension String {
    var trimmingSpaces: String {
        String(self.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
