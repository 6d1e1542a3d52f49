import Foundation
import LossKitFormats
import LossKitTestSupport
import XCTest

final class NPYTests: TempDirTestCase {
    func testVersion1HeaderIsTheNumpyDictPaddedTo64Bytes() {
        let bytes = NPY.encode(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(Array(bytes[0 ..< 8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10 ..< 10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(bytes.count, 10 + headerLength + 24)
        XCTAssertEqual(Array(bytes[(10 + headerLength) ..< (14 + headerLength)]), [0, 0, 0x80, 0x3F]) // 1.0f LE
    }

    func testLabelsAreWrittenAsLittleEndianInt32() {
        let bytes = NPY.encode(int32s: [3, -2, 70000], shape: [3])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10 ..< 10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"), header)
        XCTAssertEqual(Array(bytes[(10 + headerLength)...]), [3, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00])
    }

    func testShapeTupleFollowsPythonReprForOneAndZeroDimensions() {
        func header(_ shape: [Int], _ count: Int) -> String {
            let b = NPY.encode(floats: Array(repeating: 0, count: count), shape: shape)
            return String(decoding: b[10 ..< 10 + (Int(b[8]) | Int(b[9]) << 8)], as: UTF8.self)
        }
        XCTAssertTrue(header([5], 5).contains("'shape': (5,), }"))
        XCTAssertTrue(header([], 1).contains("'shape': (), }"))
    }

    func testEncodeDecodeRoundTripsManyShapes() throws {
        for shape in [[2, 3], [7], [], [0, 4], [2, 2, 2]] {
            let n = shape.reduce(1, *)
            let floats = (0 ..< n).map { Float($0) * 0.5 - 1 }
            let back = try NPY.decode(NPY.encode(floats: floats, shape: shape))
            XCTAssertEqual(back.shape, shape)
            XCTAssertEqual(back.floats, floats)
        }
    }

    func testNumpyLoadsTheWrittenFile() throws {
        let path = dir + "/emb.npy"
        try NPY.write(floats: [0.5, -1, 3.25, 1e-3, 7, 8], shape: [3, 2], to: path)
        let out = try runPython("import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.flags['C_CONTIGUOUS'], a.tolist())", [path])
        XCTAssertEqual(out, "float32 (3, 2) True [[0.5, -1.0], [3.25, 0.0010000000474974513], [7.0, 8.0]]")
    }

    func testNumpySavedFilesDecodeIncludingBigEndian() throws {
        let little = dir + "/le.npy", big = dir + "/be.npy"
        _ = try runPython("""
        import numpy as np, sys
        a = np.arange(12, dtype='<f4').reshape(3, 4) / 4
        np.save(sys.argv[1], a)
        np.save(sys.argv[2], a.astype('>f4'))
        print('ok')
        """, [little, big])
        let expected = (0 ..< 12).map { Float($0) / 4 }
        for path in [little, big] {
            let (shape, floats) = try NPY.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            XCTAssertEqual(shape, [3, 4])
            XCTAssertEqual(floats, expected)
        }
    }

    func testDecodeRejectsBadMagicWrongDTypeAndTruncatedData() {
        assertThrows(DataError.self, ["NPY data", "\\x93NUMPY magic", "50 4b"]) {
            try NPY.decode([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0])
        }
        let good = NPY.encode(floats: [1, 2, 3], shape: [3])
        assertThrows(DataError.self, ["NPY data", "shape [3] needs 12 data bytes after offset 128, found 8"]) {
            try NPY.decode(Array(good.dropLast(4)))
        }
        var wrongType = good
        let at = wrongType.firstIndex(of: UInt8(ascii: "f"))!
        wrongType[at] = UInt8(ascii: "i")
        assertThrows(DataError.self, ["NPY data", "dtype '<i4' is not float32"]) { try NPY.decode(wrongType) }
    }
}
