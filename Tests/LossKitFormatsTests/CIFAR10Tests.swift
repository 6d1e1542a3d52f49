import LossKitFormats
import LossKitTestSupport
import XCTest

final class CIFAR10Tests: TempDirTestCase {
    /// One record: label, then R, G, B planes filled with a recognisable pattern.
    private func record(label: UInt8, seed: Int) -> [UInt8] {
        [label] + (0 ..< 3072).map { UInt8(truncatingIfNeeded: seed * 31 + $0 * 7) }
    }

    func testRecordsBecomeNCHWImagesWithLabels() throws {
        let path = try write("batch.bin", record(label: 3, seed: 1) + record(label: 9, seed: 2))
        let ds = try CIFAR10.load(files: [path])
        XCTAssertEqual([ds.count, ds.channels, ds.height, ds.width, ds.classCount], [2, 3, 32, 32, 10])
        XCTAssertEqual(ds.labels, [3, 9])
        XCTAssertEqual(Array(ds.pixels[0 ..< 3072]), Array(record(label: 3, seed: 1)[1...]))
        XCTAssertEqual(Array(ds.pixels[3072...]), Array(record(label: 9, seed: 2)[1...]))
        // Channel 1 (green) of image 0 starts 1024 bytes into the record's pixels.
        XCTAssertEqual(ds.pixels[1024], UInt8(truncatingIfNeeded: 31 + 1024 * 7))
        XCTAssertEqual(ds.classNames[3], "cat")
        XCTAssertEqual(CIFAR10.mean.count, 3)
        XCTAssertEqual(CIFAR10.std.count, 3)
    }

    func testDirectoryLoadsFiveTrainingBatchesInOrderAndTheTestBatch() throws {
        for i in 1 ... 5 { try write("data_batch_\(i).bin", record(label: UInt8(i - 1), seed: i)) }
        try write("test_batch.bin", record(label: 8, seed: 0) + record(label: 1, seed: 0))
        let train = try CIFAR10.load(directory: dir, split: .train)
        XCTAssertEqual(train.labels, [0, 1, 2, 3, 4])
        XCTAssertEqual(train.name, "CIFAR-10 train")
        let test = try CIFAR10.load(directory: dir, split: .test)
        XCTAssertEqual(test.labels, [8, 1])
    }

    func testDirectoryContainingTheUnpackedBatchFolderIsAccepted() throws {
        try FileManager.default.createDirectory(atPath: dir + "/cifar-10-batches-bin", withIntermediateDirectories: false)
        try write("cifar-10-batches-bin/test_batch.bin", record(label: 2, seed: 0))
        XCTAssertEqual(try CIFAR10.load(directory: dir, split: .test).labels, [2])
    }

    func testFileSizeThatIsNotWholeRecordsIsRejectedWithRemainder() throws {
        let path = try write("odd.bin", record(label: 0, seed: 0) + record(label: 1, seed: 0) + [1, 2, 3, 4, 5])
        assertThrows(DataError.self, [path, "size 6151 bytes", "3073-byte", "5 bytes left over"]) { try CIFAR10.load(files: [path]) }
    }

    func testLabelByteOutsideTenClassesIsRejectedWithOffset() throws {
        let path = try write("bad.bin", record(label: 0, seed: 0) + record(label: 10, seed: 0))
        assertThrows(DataError.self, [path, "record 1 at offset 3073 has label byte 10", "0...9"]) { try CIFAR10.load(files: [path]) }
    }

    func testMissingDirectoryAndFilesAreReported() throws {
        assertThrows(DataError.self, ["CIFAR-10 not found in \(dir)/none", "does not exist"]) {
            try CIFAR10.load(directory: dir + "/none", split: .train)
        }
        assertThrows(DataError.self, ["CIFAR-10 not found in \(dir)", "data_batch_1.bin"]) {
            try CIFAR10.load(directory: dir, split: .train)
        }
        assertThrows(DataError.self, ["no such file: \(dir)/x.bin"]) { try CIFAR10.load(files: [dir + "/x.bin"]) }
    }
}
