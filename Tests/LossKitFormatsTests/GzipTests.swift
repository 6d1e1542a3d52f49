import LossKitFormats
import LossKitTestSupport
import XCTest

final class GzipTests: XCTestCase {
    private func sample(_ n: Int) -> [UInt8] {
        var state: UInt32 = 12345
        return (0 ..< n).map { i in
            state = state &* 1_664_525 &+ 1_013_904_223
            return i % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 24) : UInt8(i % 7)
        }
    }

    func testDeflateGzipOutputStartsWithGzipMagicAndInflatesBack() throws {
        let data = sample(300_000)
        let gz = Gzip.deflateGzip(data)
        XCTAssertTrue(Gzip.isGzip(gz))
        XCTAssertLessThan(gz.count, data.count)
        XCTAssertEqual(try Gzip.inflate(gz, path: "mem.gz"), data)
    }

    func testEmptyInputRoundTrips() throws {
        XCTAssertEqual(try Gzip.inflate(Gzip.deflateGzip([]), path: "empty.gz"), [])
    }

    func testIsGzipLooksAtMagicBytesOnly() {
        XCTAssertTrue(Gzip.isGzip([0x1f, 0x8b]))
        XCTAssertFalse(Gzip.isGzip([0x1f]))
        XCTAssertFalse(Gzip.isGzip([0x00, 0x00, 0x08, 0x03]))
    }

    func testZlibWrappedStreamIsAlsoInflated() throws {
        // RFC 1950 header 78 01, one stored deflate block holding "hi", Adler-32 013b00d2.
        let zlib: [UInt8] = [0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x68, 0x69, 0x01, 0x3B, 0x00, 0xD2]
        XCTAssertEqual(try Gzip.inflate(zlib, path: "z"), Array("hi".utf8))
    }

    func testConcatenatedGzipMembersInflateToAllInputs() throws {
        let a = sample(1000), b = Array("second member".utf8)
        let joined = Gzip.deflateGzip(a) + Gzip.deflateGzip(b)
        XCTAssertEqual(try Gzip.inflate(joined, path: "cat.gz"), a + b)
    }

    func testTruncatedGzipStreamReportsCompressedBytesConsumed() {
        let gz = Gzip.deflateGzip(sample(50_000))
        let cut = Array(gz[..<(gz.count / 2)])
        assertThrows(DataError.self, ["cut.gz", "gzip stream ends early after \(cut.count) compressed bytes"]) {
            try Gzip.inflate(cut, path: "cut.gz")
        }
    }

    func testStreamMissingOnlyItsTrailerIsTruncated() {
        let gz = Gzip.deflateGzip(sample(1000))
        let cut = Array(gz.dropLast(4))
        assertThrows(DataError.self, ["t.gz", "ends early after \(cut.count) compressed bytes"]) {
            try Gzip.inflate(cut, path: "t.gz")
        }
    }

    func testTrailingGarbageAfterLastMemberIsRejectedWithOffset() {
        let gz = Gzip.deflateGzip(sample(1000))
        assertThrows(DataError.self, ["junk.gz", "trailing garbage at offset \(gz.count)", "6a 75 6e 6b"]) {
            try Gzip.inflate(gz + Array("junk".utf8), path: "junk.gz")
        }
    }

    func testCorruptDeflateDataIsRejected() {
        var gz = Gzip.deflateGzip(sample(5000))
        for i in 20 ..< 40 { gz[i] ^= 0xFF }
        assertThrows(DataError.self, ["bad.gz"]) { try Gzip.inflate(gz, path: "bad.gz") }
    }
}
