import Foundation
import LossKitHost
import XCTest

/// The config holds its loss expression parsed, from the moment `loss` is set or decoded, so
/// the trainer, resume checks, evaluation and the report read one tree.
final class TrainingConfigLossTests: XCTestCase {
    func testTheParsedLossFollowsTheTextAndItsDecoding() throws {
        var c = TrainingConfig()
        XCTAssertEqual(try c.lossExpression().description, "ce")
        c.loss = "ce + 0.5*nce(negatives=0)[until=100]"
        XCTAssertEqual(try c.lossExpression(), try LossExpression.parse(c.loss))
        XCTAssertTrue(c.trainsTheHead)
        c.loss = "0*ce + nce"
        XCTAssertFalse(c.trainsTheHead, "a ce of weight 0 trains nothing")

        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"loss": "sc@conv4 + ce"}"#.utf8))
        XCTAssertEqual(try decoded.lossExpression().terms.map(\.plugin), ["sc", "ce"])
        XCTAssertEqual(decoded, try JSONDecoder().decode(TrainingConfig.self, from: try decoded.json()))
    }

    func testALossThatDoesNotParseKeepsItsErrorWithTheCaret() {
        var c = TrainingConfig()
        c.loss = "ce + "
        XCTAssertThrowsError(try c.lossExpression()) { error in
            var direct: LossExpressionError?
            do throws(LossExpressionError) { _ = try LossExpression.parse("ce + ") } catch { direct = error }
            XCTAssertEqual(error as? LossExpressionError, direct)
            XCTAssertTrue("\(error)".contains("^"), "\(error)")
        }
        XCTAssertFalse(c.trainsTheHead)
    }
}
