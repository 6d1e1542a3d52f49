import LossKitLossExpression
import XCTest

extension XCTestCase {
    /// Asserts that parsing `text` fails with `message`, pointing at character `offset`.
    func assertParseError(_ text: String, _ message: String, at offset: Int,
                          file: StaticString = #filePath, line: UInt = #line) {
        do throws(LossExpressionError) {
            let e = try LossExpression.parse(text)
            XCTFail("expected an error, got \(e)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.message, message, file: file, line: line)
            XCTAssertEqual(error.offset, offset, "offset in \(text)", file: file, line: line)
        }
    }
}
