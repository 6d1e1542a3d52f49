import LossKitFormats
import LossKitTestSupport
import XCTest

final class IDXTests: TempDirTestCase {
    /// 2×3×4 unsigned-byte array written out by hand from the format description.
    private let handMade: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4] + (0 ..< 24).map { UInt8($0 * 10) }

    func testPlainIDXFileReadsDimsAndRowMajorBytes() throws {
        let path = try write("a-idx3-ubyte", handMade)
        let array = try IDXFile.read(path: path)
        XCTAssertEqual(array.dims, [2, 3, 4])
        XCTAssertEqual(array.bytes, (0 ..< 24).map { UInt8($0 * 10) })
    }

    func testEncodeMatchesHandWrittenLayoutAndRoundTrips() throws {
        let array = IDXArray(dims: [2, 3, 4], bytes: (0 ..< 24).map { UInt8($0 * 10) })
        XCTAssertEqual(IDXFile.encode(array), handMade)
        let path = try write("labels", IDXFile.encode(IDXArray(dims: [5], bytes: [1, 2, 3, 4, 5])))
        XCTAssertEqual(try IDXFile.read(path: path), IDXArray(dims: [5], bytes: [1, 2, 3, 4, 5]))
    }

    func testGzipIsDetectedByMagicBytesNotByExtension() throws {
        let gzNamedPlain = try write("images.idx", Gzip.deflateGzip(handMade))
        let plainNamedGz = try write("images.gz", handMade)
        XCTAssertEqual(try IDXFile.read(path: gzNamedPlain).dims, [2, 3, 4])
        XCTAssertEqual(try IDXFile.read(path: plainNamedGz).dims, [2, 3, 4])
    }

    func testMissingIDXFileSaysNoSuchFile() {
        let path = dir + "/absent-idx1-ubyte"
        assertThrows(DataError.self, ["no such file: \(path)"]) { try IDXFile.read(path: path) }
    }

    func testWrongMagicReportsFirstBytesAndExpectedStart() throws {
        let path = try write("zip", [0x50, 0x4b, 0x03, 0x04, 9, 9, 9])
        assertThrows(DataError.self, [path, "50 4b 03 04", "00 00", "not an IDX file"]) { try IDXFile.read(path: path) }
    }

    func testNonUnsignedByteTypeIsRejectedNamingTheTypeCode() throws {
        let path = try write("floats", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        assertThrows(DataError.self, [path, "0x0d", "float32", "only 0x08 (unsigned byte)"]) { try IDXFile.read(path: path) }
    }

    func testTruncatedIDXHeaderIsRejected() throws {
        let path = try write("short", [0, 0, 8, 3, 0, 0, 0, 2])
        assertThrows(DataError.self, [path, "truncated IDX header", "16-byte header", "only 8 bytes"]) { try IDXFile.read(path: path) }
        let tiny = try write("tiny", [0, 0])
        assertThrows(DataError.self, [tiny, "truncated IDX header", "2 bytes"]) { try IDXFile.read(path: tiny) }
    }

    func testTruncatedIDXFileIsRejectedWithOffset() throws {
        let path = try write("cut", Array(handMade.dropLast(4)))
        assertThrows(DataError.self, ["\(path): truncated: header promises 24 data bytes after offset 16, file has only 20"]) {
            try IDXFile.read(path: path)
        }
    }

    func testTruncatedGzipIDXFileSaysOffsetsAreDecompressed() throws {
        let path = try write("cut.gz", Gzip.deflateGzip(Array(handMade.dropLast(4))))
        assertThrows(DataError.self, ["\(path): truncated: header promises 24 data bytes after offset 16, file has only 20", "decompressed"]) {
            try IDXFile.read(path: path)
        }
    }

    func testTrailingGarbageAfterIDXDataIsRejected() throws {
        let path = try write("long", handMade + [7, 7])
        assertThrows(DataError.self, [path, "2 unexpected trailing bytes at offset 40", "exactly 24 data bytes"]) {
            try IDXFile.read(path: path)
        }
    }
}
