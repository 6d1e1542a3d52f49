import Foundation
import LossKitFormats
import LossKitTestSupport
import XCTest

/// A small compressed file cannot make the reader allocate more than its own header declares,
/// nor a header declare more than its compressed bytes could hold.
final class BoundedInflationTests: TempDirTestCase {
    /// 60 MB of zeros after a header that declares 10 images of 28×28: before, the whole stream
    /// was inflated (then refused as trailing bytes); now inflation stops at the first chunk past
    /// 7,856 bytes, which the message (the inflation check's, not the parser's) shows.
    func testAStreamLongerThanItsHeaderStopsAtTheDeclaredSize() throws {
        let header = IDXFile.encode(IDXArray(dims: [10, 28, 28], bytes: [UInt8](repeating: 7, count: 7840)))
        let gz = Gzip.deflateGzip(header + [UInt8](repeating: 0, count: 60_000_000))
        XCTAssertLessThan(gz.count, 100_000, "a bomb: under 100 KB compressed")
        let path = try write("bomb-images-idx3-ubyte.gz", gz)
        assertThrows(DataError.self, ["decompresses to more than the 7856 bytes its IDX header declares"]) { try IDXFile.read(path: path) }
    }

    func testAHeaderDeclaringMoreThanTheCompressedBytesCanHoldIsRefused() throws {
        // 4096³ = 68.7 billion bytes declared; a few dozen compressed bytes can hold a few dozen kB
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0]
        let gz = Gzip.deflateGzip(header + [1, 2, 3])
        let path = try write("huge-images-idx3-ubyte.gz", gz)
        assertThrows(DataError.self, ["declares 68719476752 bytes, more than \(gz.count) compressed bytes can hold", "the header is corrupt"]) {
            try IDXFile.read(path: path)
        }
    }

    func testAGzippedFileThatIsNotIDXIsRefusedAtItsFirstChunk() throws {
        let path = try write("text.gz", Gzip.deflateGzip(Array("hello, not an IDX file".utf8)))
        assertThrows(DataError.self, ["not an IDX file: the first 4 bytes are 68 65 6c 6c"]) { try IDXFile.read(path: path) }
    }

    /// A FIFO named like a data file would block a plain open(2) until a writer came.
    func testAFIFOWhereADataFileShouldBeIsRefusedWithoutBlocking() throws {
        let path = dir + "/fifo-images-idx3-ubyte"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        assertThrows(DataError.self, ["is not a regular file (a device, FIFO or socket)"]) { try IDXFile.read(path: path) }
    }
}
