import LossKitEvaluation
import LossKitHost
import XCTest

/// Asserts that `body` throws an `EvaluationError` whose message contains `fragment`.
func assertEvaluationError<T>(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                              _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an EvaluationError containing \"\(fragment)\", nothing was thrown", file: file, line: line)
    } catch let error as EvaluationError {
        XCTAssertTrue(error.description.contains(fragment),
                      "message \"\(error.description)\" lacks \"\(fragment)\"", file: file, line: line)
    } catch {
        XCTFail("expected an EvaluationError, got \(error)", file: file, line: line)
    }
}
