import Foundation
import LossKitFormats
import LossKitTestSupport
import XCTest

final class SafeTensorsTests: TempDirTestCase {
    /// Builds a file by hand: u64 little-endian header length, header JSON, data.
    private func file(_ json: String, _ data: [UInt8]) -> [UInt8] {
        let header = Array(json.utf8)
        return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + data
    }

    private func sample() -> SafeTensorsFile {
        var st = SafeTensorsFile(metadata: ["format": "pt", "epoch": "3"])
        st.add(name: "weight", floats: [1.5, -2, 0.25, 1e-8, .infinity, -0.0], shape: [2, 3])
        st.add(name: "bias", floats: [0.5], shape: [1])
        st.add(name: "step", int64s: [Int64.max, -1], shape: [2])
        return st
    }

    func testRoundTripPreservesFloatsInt64sAndMetadata() throws {
        let path = dir + "/model.safetensors"
        try sample().write(atomicallyTo: path)
        let back = try SafeTensorsFile.read(path: path)
        XCTAssertEqual(try back.floats("weight"), [1.5, -2, 0.25, 1e-8, .infinity, -0.0])
        XCTAssertEqual(back["weight"]?.shape, [2, 3])
        XCTAssertEqual(try back.floats("bias"), [0.5])
        XCTAssertEqual(try back.int64s("step"), [Int64.max, -1])
        XCTAssertEqual(back.metadata, ["format": "pt", "epoch": "3"])
        XCTAssertEqual(back.entries.map(\.name), ["step", "bias", "weight"])
    }

    func testEncodedFileHasLittleEndianLengthAlignedJSONAndRawData() throws {
        let bytes = sample().encoded()
        let n = bytes[0 ..< 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + n) % 8, 0, "data section should start 8-byte aligned")
        let header = String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)
        // Element size descending, then name: the I64 tensor first, then F32s by name.
        let json = #"{"__metadata__":{"epoch":"3","format":"pt"},"step":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"bias":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"weight":{"dtype":"F32","shape":[2,3],"data_offsets":[20,44]}}"#
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), json)
        XCTAssertTrue(header.dropFirst(json.utf8.count).allSatisfy { $0 == " " }, "padding must be spaces")
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        XCTAssertEqual(bytes.count, 8 + n + 44)
        let data = Array(bytes[(8 + n)...])
        XCTAssertEqual(Array(data[0 ..< 8]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])   // Int64.max LE
        XCTAssertEqual(Array(data[16 ..< 20]), [0x00, 0x00, 0x00, 0x3F])                          // 0.5 LE
    }

    func testSingleDTypeTensorsAreWrittenInNameOrder() {
        var st = SafeTensorsFile()
        for name in ["c", "a", "b"] { st.add(name: name, floats: [1], shape: [1]) }
        let bytes = st.encoded()
        let n = Int(bytes[0])
        let header = String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)
        let positions = ["\"a\"", "\"b\"", "\"c\""].map { header.range(of: $0)!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
    }

    func testPythonReadsTheFileWithOnlyJsonStructAndNumpy() throws {
        let path = dir + "/py.safetensors"
        try sample().write(atomicallyTo: path)
        let script = """
        import json, struct, sys, numpy as np
        b = open(sys.argv[1], 'rb').read()
        (n,) = struct.unpack('<Q', b[:8])
        h = json.loads(b[8:8 + n])
        d = b[8 + n:]
        out = []
        for name in ('weight', 'bias', 'step'):
            e = h[name]; s, t = e['data_offsets']
            dt = {'F32': '<f4', 'I64': '<i8'}[e['dtype']]
            a = np.frombuffer(d[s:t], dtype=dt).reshape(e['shape'])
            out.append(name + ':' + str(list(a.shape)) + ':' + ','.join(repr(x) for x in a.flatten().tolist()))
        out.append(json.dumps(h['__metadata__'], sort_keys=True))
        print('\\n'.join(out))
        """
        let lines = try runPython(script, [path]).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "weight:[2, 3]:1.5,-2.0,0.25,9.99999993922529e-09,inf,-0.0",
            "bias:[1]:0.5",
            "step:[2]:9223372036854775807,-1",
            #"{"epoch": "3", "format": "pt"}"#,
        ])
    }

    func testUnpaddedHeaderZeroSizedTensorsAndEscapedNamesDecode() throws {
        let json = #"{"l\u00e4yer/\"q\"":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"empty":{"dtype":"I32","shape":[0,4],"data_offsets":[3,3]}}"#
        let st = try SafeTensorsFile.decode(file(json, [7, 8, 9]), path: "mem")
        XCTAssertEqual(st.entries.map(\.name), ["läyer/\"q\"", "empty"])
        XCTAssertEqual(st["läyer/\"q\""]?.bytes, [7, 8, 9])
        XCTAssertEqual(st["empty"]?.shape, [0, 4])
        let again = try SafeTensorsFile.decode(st.encoded(), path: "mem2")
        XCTAssertEqual(again["läyer/\"q\""], st["läyer/\"q\""])
        XCTAssertEqual(again["empty"], st["empty"])
    }

    func testAddingAnExistingNameReplacesIt() throws {
        var st = SafeTensorsFile()
        st.add(name: "w", floats: [1, 2], shape: [2])
        st.add(name: "w", floats: [3], shape: [1])
        XCTAssertEqual(st.entries.count, 1)
        XCTAssertEqual(try st.floats("w"), [3])
    }

    func testAtomicWriteReplacesTheFileAndLeavesNoTemporaryFiles() throws {
        let path = dir + "/ckpt.safetensors"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        try sample().write(atomicallyTo: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["ckpt.safetensors"])
        XCTAssertEqual(try SafeTensorsFile.read(path: path).entries.count, 3)
        assertThrows(DataError.self, ["cannot create temporary file", dir + "/missing/x.safetensors"]) {
            try sample().write(atomicallyTo: dir + "/missing/x.safetensors")
        }
    }

    func testMissingTensorAndWrongDTypeErrorsNameTheCheckpoint() throws {
        let path = dir + "/m.safetensors"
        try sample().write(atomicallyTo: path)
        let st = try SafeTensorsFile.read(path: path)
        assertThrows(DataError.self, ["checkpoint \(path) has no tensor 'nope'", "'weight'"]) { try st.floats("nope") }
        assertThrows(DataError.self, [path, "tensor 'weight' is F32", "expected I64"]) { try st.int64s("weight") }
        assertThrows(DataError.self, ["no such file: \(dir)/absent.safetensors"]) { try SafeTensorsFile.read(path: dir + "/absent.safetensors") }
    }

    // MARK: corrupt files

    func testFileShorterThanTheLengthPrefixIsRejected() {
        assertThrows(DataError.self, ["checkpoint c.st is too short", "5 bytes"]) {
            try SafeTensorsFile.decode([1, 2, 3, 4, 5], path: "c.st")
        }
    }

    func testHeaderLengthPastEndOfFileIsRejected() {
        var bytes = file("{}", [])
        bytes[0] = 200
        assertThrows(DataError.self, ["c.st", "header length 200", "runs past the end", "offset 208", "file has 10 bytes"]) {
            try SafeTensorsFile.decode(bytes, path: "c.st")
        }
        assertThrows(DataError.self, ["c.st", "header length 72057594037927936", "limit"]) {
            try SafeTensorsFile.decode([0, 0, 0, 0, 0, 0, 0, 1, 0x7B, 0x7D], path: "c.st")
        }
    }

    func testHeaderThatIsNotJSONIsRejectedWithOffset() {
        assertThrows(DataError.self, ["c.st", "not valid JSON", "expected ':'", "file offset 13"]) {
            try SafeTensorsFile.decode(file(#"{"w" 1}"#, []), path: "c.st")
        }
        assertThrows(DataError.self, ["c.st", "header must be a JSON object, found an array"]) {
            try SafeTensorsFile.decode(file("[]", []), path: "c.st")
        }
        assertThrows(DataError.self, ["c.st", "duplicate key \"w\""]) {
            try SafeTensorsFile.decode(file(#"{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#, []), path: "c.st")
        }
    }

    func testUnknownDTypeIsRejectedNamingTensor() {
        assertThrows(DataError.self, ["c.st", "tensor 'w'", "unsupported dtype 'BF16'", "F32, I64, I32, U8"]) {
            try SafeTensorsFile.decode(file(#"{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, [0, 0]), path: "c.st")
        }
    }

    func testOffsetsDisagreeingWithShapeAreRejected() {
        assertThrows(DataError.self, ["c.st", "tensor 'w'", "shape [2, 3] of F32 needs 24 bytes", "data_offsets [0, 20] span 20"]) {
            try SafeTensorsFile.decode(file(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, Array(repeating: 0, count: 20)), path: "c.st")
        }
        assertThrows(DataError.self, ["c.st", "tensor 'w'", "non-negative integers", "-1"]) {
            try SafeTensorsFile.decode(file(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]), path: "c.st")
        }
    }

    func testReversedOffsetsAreRejectedAsOutOfRange() {
        assertThrows(DataError.self, ["c.st", "tensor 'w'", "data_offsets [4, 0] are out of range"]) {
            try SafeTensorsFile.decode(file(#"{"w":{"dtype":"U8","shape":[4],"data_offsets":[4,0]}}"#, [0, 0, 0, 0]), path: "c.st")
        }
    }

    func testOverlappingTensorsAreRejected() {
        let json = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#
        assertThrows(DataError.self, ["c.st", "tensors overlap", "'b' begins at data offset 2", "'a' ends at 4"]) {
            try SafeTensorsFile.decode(file(json, Array(repeating: 0, count: 6)), path: "c.st")
        }
    }

    func testGapBetweenTensorsIsRejected() {
        let json = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#
        assertThrows(DataError.self, ["c.st", "gap in the data section", "bytes 2..<4", "'b' begins at 4"]) {
            try SafeTensorsFile.decode(file(json, Array(repeating: 0, count: 6)), path: "c.st")
        }
    }

    func testTruncatedCheckpointNamesTensorAndByteRange() throws {
        var st = SafeTensorsFile()
        st.add(name: "a", floats: [1, 2], shape: [2])
        st.add(name: "w", floats: [3, 4], shape: [2])
        let path = try write("cut.safetensors", Array(st.encoded().dropLast(4)))
        assertThrows(DataError.self, ["checkpoint \(path) is truncated: tensor 'w' needs bytes 8..<16 of the data section but only 12 are present"]) {
            try SafeTensorsFile.read(path: path)
        }
    }

    func testTrailingBytesAfterTheLastTensorAreRejected() {
        let json = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        assertThrows(DataError.self, ["c.st", "3 bytes at file offset \(8 + json.utf8.count + 2) follow the last tensor"]) {
            try SafeTensorsFile.decode(file(json, [1, 2, 3, 4, 5]), path: "c.st")
        }
    }

    func testMetadataValuesMustBeStrings() {
        assertThrows(DataError.self, ["c.st", "__metadata__ value for 'epoch' must be a string, found a number"]) {
            try SafeTensorsFile.decode(file(#"{"__metadata__":{"epoch":3}}"#, []), path: "c.st")
        }
    }
}
