import Foundation
import LossKitLossExpression
import XCTest

/// The `[from=…, until=…, warmup=…, ramp=…, decay=…]` settings after a term: how they parse, print,
/// fail, and what factor they give each step.
final class TermScheduleTests: XCTestCase {
    private func schedule(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TermSchedule? {
        do throws(LossExpressionError) {
            return try LossExpression.parse(text).terms.last?.schedule
        } catch {
            XCTFail("unexpected error:\n\(error)", file: file, line: line)
            return nil
        }
    }

    func testSettingsParseAfterOptionsOrTapOrName() {
        XCTAssertEqual(schedule("ce + 0.3*nce(views=2)[until=750]"), TermSchedule(until: 750))
        XCTAssertEqual(schedule("ce + sc@conv4 [ from = 500 , warmup=200 ]"), TermSchedule(from: 500, warmup: 200))
        XCTAssertEqual(schedule("nce[ramp=1000]"), TermSchedule(ramp: 1000))
        XCTAssertEqual(schedule("ce + nce"), TermSchedule())
        let e = try? LossExpression.parse("ce + 0.3*nce(views=2)[until=750] + sc")
        XCTAssertEqual(e?.terms.map(\.plugin), ["ce", "nce", "sc"])
        XCTAssertEqual(e?.terms[1].options.map(\.key), ["views"], "the plugin's options stay the plugin's")
        XCTAssertEqual(e?.terms[1].sourceRange, 5..<32, "the term's range ends at its ']'")
    }

    func testDescriptionWritesSettingsInCanonicalOrderAndReadsBack() throws {
        let e = try LossExpression.parse("ce + 0.3*nce(views=2)[warmup=10, until=750, from=5] - sc@conv4[ramp=7]")
        XCTAssertEqual(e.description, "ce + 0.3*nce(views=2)[from=5, until=750, warmup=10] - sc@conv4[ramp=7]")
        let d = try LossExpression.parse("ce + nce[decay=100, until=750]")
        XCTAssertEqual(d.description, "ce + nce[until=750, decay=100]")
        XCTAssertEqual(try LossExpression.parse(d.description), d)
        XCTAssertEqual(try LossExpression.parse(e.description), e)
        XCTAssertNotEqual(try LossExpression.parse("ce + nce[until=5]"), try LossExpression.parse("ce + nce[until=6]"))
    }

    func testMistakesPointAtTheSetting() {
        let cases: [(text: String, message: String, offset: Int)] = [
            ("ce + nce[unitl=5]", "unknown schedule setting 'unitl' — the settings in [ ] are from, until, warmup, ramp, decay (a plugin's options go in parentheses)", 9),
            ("ce + nce[until=5, until=6]", "schedule setting 'until' is given twice", 18),
            ("ce + nce[until=1.5]", "'until' takes a whole number of steps (0 or more), not '1.5'", 15),
            ("ce + nce[until=-3]", "'until' takes a whole number of steps (0 or more), not '-3'", 15),
            ("ce + nce[ramp=0]", "'ramp' needs at least 1 step", 14),
            ("ce + nce[until=0]", "'until' needs at least 1 step", 15),
            ("ce + nce[warmup=5, ramp=5]", "give 'warmup' (linear) or 'ramp' (sigmoid-shaped), not both", 24),
            ("ce + nce[from=10, until=10]", "'until' (10) must be after 'from' (10): the term would never be on", 24),
            ("ce + nce[until=5", "unclosed '[' — expected ']' to end the schedule of 'nce'", 8),
            ("ce + nce[until 5]", "expected '=' after schedule setting 'until'", 15),
            ("ce + nce[until=]", "expected a number of steps for 'until'", 15),
            ("ce + nce[]", "expected a schedule setting (from, until, warmup, ramp, decay), found ']'", 9),
            ("ce + nce[decay=0, until=5]", "'decay' needs at least 1 step", 15),
            ("ce + nce[decay=100]", "'decay' falls to zero at 'until': give 'until' too", 15),
            ("ce + nce[from=10, until=50, decay=41]", "'decay' (41) is longer than the term is on (40 steps)", 34),
            ("ce + nce[until=5; ramp=2]", "expected ',' or ']' after schedule setting 'until', found ';'", 16),
        ]
        for c in cases { assertParseError(c.text, c.message, at: c.offset) }
    }

    func testFromAndUntilBoundTheStepsATermIsOn() {
        let s = TermSchedule(from: 2, until: 5)
        XCTAssertEqual((0..<7).map { s.factor(afterSteps: $0) }, [nil, nil, 1, 1, 1, nil, nil])
        XCTAssertEqual((0..<3).map { TermSchedule().factor(afterSteps: $0) }, [1, 1, 1])
    }

    func testWarmupRisesLinearlyFromTheFirstStepOn() {
        let s = TermSchedule(from: 1, warmup: 4)
        XCTAssertEqual((0..<7).map { s.factor(afterSteps: $0) }, [nil, 0.25, 0.5, 0.75, 1, 1, 1])
    }

    func testRampRisesAsTheSigmoidShapeAndReachesOne() throws {
        let s = TermSchedule(ramp: 100)
        let f = try (0..<150).map { try XCTUnwrap(s.factor(afterSteps: $0)) }
        XCTAssertEqual(f[0], Foundation.exp(-5 * 0.99 * 0.99), accuracy: 1e-12, "starts near exp(-5)")
        XCTAssertEqual(f[49], Foundation.exp(-5 * 0.25), accuracy: 1e-12, "half-way: exp(-5/4)")
        XCTAssertEqual(f[99], 1)
        XCTAssertTrue(zip(f, f.dropFirst()).allSatisfy { $0 <= $1 }, "never falls")
        XCTAssertTrue(f[100...].allSatisfy { $0 == 1 })
    }

    func testDecayFallsLinearlyToZeroAtUntilAndMultipliesTheRise() {
        let s = TermSchedule(until: 6, decay: 4)
        XCTAssertEqual((0..<8).map { s.factor(afterSteps: $0) }, [1, 1, 1, 0.75, 0.5, 0.25, nil, nil],
                       "full weight, then 3/4, 1/2, 1/4 on the last four steps, off from step 6")
        let both = TermSchedule(from: 1, until: 5, warmup: 2, decay: 2)
        XCTAssertEqual((0..<6).map { both.factor(afterSteps: $0) }, [nil, 0.5, 1, 1, 0.5, nil])
        let overlap = TermSchedule(until: 4, warmup: 4, decay: 4)
        XCTAssertEqual((0..<4).map { overlap.factor(afterSteps: $0) }, [0.25, 0.375, 0.375, 0.25], "the two factors multiply")
    }
}
