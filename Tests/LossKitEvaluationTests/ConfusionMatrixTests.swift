import LossKitEvaluation
import XCTest

final class ConfusionMatrixTests: XCTestCase {
    func testCountsRowsAreTruthColumnsArePredictions() {
        let m = ConfusionMatrix(truth: [0, 0, 1, 2, 2, 2], predicted: [0, 1, 1, 2, 0, 2], classes: 3)
        XCTAssertEqual(m.counts, [1, 1, 0,
                                  0, 1, 0,
                                  1, 0, 2])
        XCTAssertEqual(m[truth: 0, predicted: 1], 1)
        XCTAssertEqual(m[truth: 1, predicted: 0], 0)
        XCTAssertEqual(m[truth: 2, predicted: 0], 1)
        XCTAssertEqual(m.total, 6)
    }

    func testAccuracyIsTraceOverTotal() {
        let m = ConfusionMatrix(truth: [0, 0, 1, 2, 2, 2], predicted: [0, 1, 1, 2, 0, 2], classes: 3)
        XCTAssertEqual(m.accuracy, 4.0 / 6.0, accuracy: 1e-12)
    }

    func testPerClassAccuracyIsRecallAndNaNForAbsentClass() {
        let m = ConfusionMatrix(truth: [0, 0, 1, 1, 1], predicted: [0, 3, 1, 1, 0], classes: 4)
        let perClass = m.perClassAccuracy()
        XCTAssertEqual(perClass[0], 0.5, accuracy: 1e-12)
        XCTAssertEqual(perClass[1], 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertTrue(perClass[2].isNaN)
        XCTAssertTrue(perClass[3].isNaN)
    }

    func testAddingOneByOneEqualsBuildingFromArrays() {
        var m = ConfusionMatrix(classes: 2)
        XCTAssertEqual(m.accuracy, 0)
        m.add(truth: 1, predicted: 0)
        m.add(truth: 1, predicted: 1)
        m.add(truth: 0, predicted: 0)
        XCTAssertEqual(m, ConfusionMatrix(truth: [1, 1, 0], predicted: [0, 1, 0], classes: 2))
        XCTAssertNotEqual(m, ConfusionMatrix(truth: [1, 1, 0], predicted: [1, 1, 0], classes: 2))
    }
}
