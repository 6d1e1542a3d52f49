/// Little-endian loads and stores. Every format here except IDX stores little-endian data;
/// going through explicit byte order keeps the code right on a big-endian host while
/// compiling to a plain load on the little-endian machines we actually run on.
enum ByteOrder {
    @inline(__always)
    static func u64LE(_ b: [UInt8], _ at: Int) -> UInt64 {
        b.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    }

    @inline(__always)
    static func u32BE(_ b: [UInt8], _ at: Int) -> UInt32 {
        b.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    }

    @inline(__always)
    static func u32LE(_ b: [UInt8], _ at: Int) -> UInt32 {
        b.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    }

    @inline(__always)
    static func u16LE(_ b: [UInt8], _ at: Int) -> UInt16 {
        UInt16(b[at]) | UInt16(b[at + 1]) << 8
    }

    static func appendLE(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Reinterprets little-endian bytes as `count` values of `T`. On a little-endian host
    /// this is one memcpy; the swap loop exists only so big-endian hosts stay correct.
    static func decodeLE<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, as: T.Type) -> [T] {
        let count = bytes.count / MemoryLayout<T>.size
        var out = [T](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0 ..< count * MemoryLayout<T>.size]))
            }
        }
        #if _endian(big)
        for i in out.indices { out[i] = T(littleEndian: out[i]) }
        #endif
        return out
    }

    static func decodeFloatsLE(_ bytes: ArraySlice<UInt8>) -> [Float] {
        #if _endian(little)
        let count = bytes.count / 4
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0 ..< count * 4]))
            }
        }
        return out
        #else
        return decodeLE(bytes, as: UInt32.self).map { Float(bitPattern: $0) }
        #endif
    }

    static func encodeLE<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        #if _endian(little)
        return values.withUnsafeBytes { [UInt8]($0) }
        #else
        return values.map { $0.littleEndian }.withUnsafeBytes { [UInt8]($0) }
        #endif
    }

    static func encodeFloatsLE(_ values: [Float]) -> [UInt8] {
        #if _endian(little)
        return values.withUnsafeBytes { [UInt8]($0) }
        #else
        return encodeLE(values.map { $0.bitPattern })
        #endif
    }
}
