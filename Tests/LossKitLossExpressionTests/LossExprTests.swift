import LossKitLossExpression
import XCTest

final class LossExprTests: XCTestCase {
    // MARK: Helpers

    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> LossExpression? {
        do throws(LossExpressionError) {
            return try LossExpression.parse(text)
        } catch {
            XCTFail("unexpected error:\n\(error)", file: file, line: line)
            return nil
        }
    }

    private let plugins = ["sc", "nce", "ce"]
    private let taps = ["conv1", "conv2", "conv3", "conv4", "pool1", "pool2"]

    private func assertValidationError(_ text: String, _ message: String, at offset: Int,
                                       file: StaticString = #filePath, line: UInt = #line) {
        guard let e = parse(text, file: file, line: line) else { return }
        do throws(LossExpressionError) {
            try e.validate(knownPlugins: plugins, availableTaps: taps)
            XCTFail("expected a validation error", file: file, line: line)
        } catch {
            XCTAssertEqual(error.message, message, file: file, line: line)
            XCTAssertEqual(error.offset, offset, "offset in \(text)", file: file, line: line)
            XCTAssertEqual(error.input, text, file: file, line: line)
        }
    }

    // MARK: Parsing

    func testDocumentationExampleParsesAllTerms() {
        guard let e = parse("ce + 0.5*nce + 0.1*sc@conv4(region=0.5, squared=false)") else { return }
        XCTAssertEqual(e.terms.map(\.plugin), ["ce", "nce", "sc"])
        XCTAssertEqual(e.terms.map(\.weight), [1, 0.5, 0.1])
        XCTAssertEqual(e.terms.map(\.tap), [nil, nil, "conv4"])
        XCTAssertEqual(e.terms[2].options.map(\.key), ["region", "squared"])
        XCTAssertEqual(e.terms[2].options.map(\.value), ["0.5", "false"])
    }

    func testSourceRangesCoverEachTermNameTapAndValue() {
        guard let e = parse("ce + 0.5*nce + 0.1*sc@conv4(region=0.5, squared=false)") else { return }
        XCTAssertEqual(e.terms.map(\.sourceRange), [0..<2, 5..<12, 15..<54])
        XCTAssertEqual(e.terms.map(\.nameRange), [0..<2, 9..<12, 19..<21])
        XCTAssertEqual(e.terms[2].tapRange, 22..<27)
        XCTAssertEqual(e.terms[2].options.map(\.valueRange), [35..<38, 48..<53])
    }

    func testWhitespaceVariantsParseIdentically() {
        let expected = parse("ce + 0.5*nce")
        for text in ["ce+0.5*nce", "  ce  +  0.5 * nce  ", "\tce\n+\n0.5\t*\tnce", "ce +0.5* nce"] {
            XCTAssertEqual(parse(text), expected, text)
        }
    }

    func testWhitespaceAllowedAroundTapAndOptions() {
        guard let e = parse("sc @ conv4 ( region = 0.5 , squared = false )") else { return }
        XCTAssertEqual(e.terms[0].tap, "conv4")
        XCTAssertEqual(e.terms[0].options, [OptionSetting(key: "region", value: "0.5"),
                                            OptionSetting(key: "squared", value: "false")])
    }

    func testLeadingAndInfixMinusNegateWeights() {
        XCTAssertEqual(parse("-0.5*ce - nce - 2*sc@conv4 + 3*kl")?.terms.map(\.weight), [-0.5, -1, -2, 3])
    }

    func testHyphenatedPluginNames() {
        XCTAssertEqual(parse("ce + 0.1*entropy-min + kl-div_2")?.terms.map(\.plugin), ["ce", "entropy-min", "kl-div_2"])
    }

    func testHyphenBeforeDigitIsSubtraction() {
        guard let e = parse("ce-0.5*nce") else { return }
        XCTAssertEqual(e.terms.map(\.plugin), ["ce", "nce"])
        XCTAssertEqual(e.terms.map(\.weight), [1, -0.5])
    }

    func testTapPatternWithStar() {
        XCTAssertEqual(parse("0.2*sc@pool*")?.terms.first?.tap, "pool*")
    }

    func testNumberForms() {
        XCTAssertEqual(parse(".5*a + 1e-3*b + 2*c + 2.5E+2*d")?.terms.map(\.weight), [0.5, 0.001, 2, 250])
    }

    func testQuotedStringsKeepCommasAndEscapes() {
        guard let e = parse(#"sc(label="a, b", quote="say \"hi\" \\o/", empty="")"#) else { return }
        XCTAssertEqual(e.terms[0].options.map(\.value), ["a, b", #"say "hi" \o/"#, ""])
        XCTAssertEqual(e.terms[0].options[0].valueRange, 9..<15)
    }

    func testUnquotedValueKinds() {
        guard let e = parse("sc(a=true, b=fast-mode, c=1e+3, d=-0.5, e=v1.2.3)") else { return }
        XCTAssertEqual(e.terms[0].options.map(\.value), ["true", "fast-mode", "1e+3", "-0.5", "v1.2.3"])
    }

    // MARK: Canonical text

    func testDescriptionIsCanonical() {
        XCTAssertEqual(parse("ce+0.5*nce-0.1*sc@conv4( region = 0.5 , squared=false )")?.description,
                       "ce + 0.5*nce - 0.1*sc@conv4(region=0.5, squared=false)")
        XCTAssertEqual(parse("-ce + 2.0*nce + 1e-3*sc")?.description, "-ce + 2*nce + 0.001*sc")
    }

    func testDescriptionQuotesValuesThatNeedIt() {
        XCTAssertEqual(parse(#"sc(label="a, b", path="x/y", q="say \"hi\"", e="", plain="ok")"#)?.description,
                       #"sc(label="a, b", path="x/y", q="say \"hi\"", e="", plain=ok)"#)
    }

    func testCanonicalRoundTrip() {
        let inputs = [
            "ce + 0.5*nce + 0.1*sc@conv4(region=0.5, squared=false)",
            "  -0.25 * entropy-min@pool* ( mode = \"a, b\" , eps=1e+3 ) - 3*ce",
            #"sc(q="say \"hi\" \\ there", n=-2, v=1.2.3)"#,
            "1e-7*ce + 123456789.125*nce + 1e300*sc",
            "-0*ce",
        ]
        for text in inputs {
            guard let e = parse(text) else { continue }
            XCTAssertEqual(parse(e.description), e, text)
            XCTAssertEqual(parse(e.description)?.description, e.description, text)
        }
    }

    // MARK: Syntax errors

    func testEmptyExpression() {
        assertParseError("", "empty loss expression", at: 0)
        assertParseError("   ", "empty loss expression", at: 0)
    }

    func testDanglingPlusPointsAtEnd() {
        assertParseError("ce +", "expected a term after '+'", at: 4)
        assertParseError("ce - ", "expected a term after '-'", at: 5)
    }

    func testTwoOperatorsPointAtTheSecond() {
        assertParseError("ce + + nce", "expected a term after '+', found '+'", at: 5)
        assertParseError("ce + -0.5*nce", "expected a term after '+', found '-': a negative weight is written with the operator alone, as 'ce - 0.5*nce'", at: 5)
    }

    func testDoubleDotNumberIsMalformed() {
        assertParseError("0..5*nce", "malformed number '0..5': unexpected '.'", at: 2)
        assertParseError("ce + 0.5.1*nce", "malformed number '0.5.1': unexpected '.'", at: 8)
    }

    func testExponentWithoutDigitsIsMalformed() {
        assertParseError("1e*nce", "malformed number '1e': the exponent needs digits", at: 2)
        assertParseError("1e-*nce", "malformed number '1e-': the exponent needs digits", at: 3)
    }

    func testMissingStarAfterWeight() {
        assertParseError("0.5 nce", "expected '*' after the weight 0.5", at: 4)
        assertParseError("ce + 2nce", "expected '*' after the weight 2", at: 6)
    }

    func testWeightAfterNameSuggestsWeightFirst() {
        assertParseError("ce*2", "the weight goes before the name — write the weight first: 2*ce", at: 2)
        assertParseError("ce + nce * 0.5", "the weight goes before the name — write the weight first: 0.5*nce", at: 9)
        assertParseError("0.5*nce*2", "a term takes one weight, written before its name", at: 7)
    }

    func testStarWithoutNumberAfterTerm() {
        assertParseError("ce*nce", "unexpected '*' after 'ce'", at: 2)
    }

    func testWeightWithoutName() {
        assertParseError("ce + 0.5*", "expected an objective name after '0.5*'", at: 9)
    }

    func testAtWithoutTap() {
        assertParseError("ce + sc@", "expected a tap name after '@'", at: 8)
        assertParseError("sc@(region=1)", "expected a tap name after '@'", at: 3)
    }

    func testUnclosedParenPointsAtTheParen() {
        assertParseError("sc(region=0.5", "unclosed '(' — expected ')' to end the options of 'sc'", at: 2)
        assertParseError("ce + sc(region=0.5, ", "unclosed '(' — expected ')' to end the options of 'sc'", at: 7)
    }

    func testOptionWithoutEquals() {
        assertParseError("sc(region)", "expected '=' after option 'region'", at: 9)
        assertParseError("sc(region 0.5)", "expected '=' after option 'region'", at: 10)
    }

    func testEmptyOptionValue() {
        assertParseError("sc(region=)", "expected a value for option 'region'", at: 10)
        assertParseError("sc(region= , squared=true)", "expected a value for option 'region'", at: 11)
    }

    func testDuplicateOptionKeyPointsAtSecondKey() {
        assertParseError("sc(region=0.5, region=0.2)", "option 'region' is given twice", at: 15)
    }

    func testEmptyOptionListAndSpaceInValue() {
        assertParseError("sc()", "expected an option name, found ')'", at: 3)
        assertParseError("sc(mode=a b)", "expected ',' or ')' after option 'mode', found 'b'", at: 10)
    }

    func testUnknownCharacterBetweenTerms() {
        assertParseError("ce & nce", "unexpected character '&' — terms are joined with '+' or '-'", at: 3)
        assertParseError("ce; nce", "unexpected character ';' — terms are joined with '+' or '-'", at: 2)
        assertParseError("& ce", "expected an objective name, found '&'", at: 0)
    }

    func testMissingOperatorBetweenNames() {
        assertParseError("ce nce", "expected '+' or '-' between terms", at: 3)
    }

    func testUnterminatedStringPointsAtOpeningQuote() {
        assertParseError(#"sc(mode="abc)"#, #"unterminated string: missing closing '"'"#, at: 8)
        assertParseError(#"sc(mode="abc\"#, #"unterminated string: missing closing '"'"#, at: 8)
    }

    func testUnsupportedEscapeInString() {
        assertParseError(#"sc(path="C:\new")"#, #"unsupported escape '\n' in string; only \" and \\ are allowed"#, at: 11)
    }

    func testNonFiniteWeightsRejected() {
        assertParseError("1e999*ce", "weight must be a finite number", at: 0)
        assertParseError("ce + nan*nce", "weight must be a finite number", at: 5)
        assertParseError("-inf * ce", "weight must be a finite number", at: 1)
    }

    // MARK: Error display

    func testErrorDescriptionHasCaretUnderOffendingCharacter() {
        do throws(LossExpressionError) {
            _ = try LossExpression.parse("ce & nce")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.description, """
                loss expression error: unexpected character '&' — terms are joined with '+' or '-'
                ce & nce
                   ^
                """)
        }
    }

    func testCaretCountsCharactersNotBytes() {
        // "🇯🇵" and "e\u{301}" are one Character each but several bytes.
        let text = "sc(label=\"🇯🇵e\u{301}\") & ce"
        do throws(LossExpressionError) {
            _ = try LossExpression.parse(text)
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.offset, 15)
            XCTAssertEqual(error.description.split(separator: "\n", omittingEmptySubsequences: false).last,
                           Substring(String(repeating: " ", count: 15) + "^"))
        }
    }

    // MARK: Validation

    func testValidateAcceptsKnownPluginsTapsAndPatterns() {
        guard let e = parse("ce + 0.5*nce + 0.1*sc@conv4 + 0.1*sc@pool* + 0.1*sc@c*4") else { return }
        XCTAssertNoThrow(try e.validate(knownPlugins: plugins, availableTaps: taps))
    }

    func testUnknownPluginSuggestsClosestName() {
        assertValidationError("ce + 0.5*ncee", "unknown objective 'ncee' — did you mean 'nce'? (known: ce, nce, sc)", at: 9)
    }

    func testUnknownPluginWithoutCloseMatchListsKnown() {
        assertValidationError("ce + contrastive", "unknown objective 'contrastive' (known: ce, nce, sc)", at: 5)
    }

    func testUnknownTapPointsAtTap() {
        assertValidationError("ce + sc@conv9",
                              "tap 'conv9' is not offered by the encoder (taps: conv1, conv2, conv3, conv4, pool1, pool2)",
                              at: 8)
    }

    func testTapPatternMatchingNothingIsRejected() {
        assertValidationError("sc@fc*",
                              "tap pattern 'fc*' matches no tap offered by the encoder (taps: conv1, conv2, conv3, conv4, pool1, pool2)",
                              at: 3)
    }

    func testDuplicateTermPointsAtSecondOccurrence() {
        assertValidationError("nce + ce + 0.5*nce", "'nce' appears twice; combine the weights", at: 11)
        assertValidationError("sc@conv4 + sc@conv3 + 2*sc@conv4", "'sc@conv4' appears twice; combine the weights", at: 22)
    }

    func testValidateBuiltExpressionPointsIntoCanonicalText() {
        var e = LossExpression(terms: [LossTerm(plugin: "ce"), LossTerm(weight: 0.5, plugin: "ncee")])
        do throws(LossExpressionError) {
            try e.validate(knownPlugins: plugins, availableTaps: taps)
            XCTFail("expected a validation error")
        } catch {
            XCTAssertEqual(error.input, "ce + 0.5*ncee")
            XCTAssertEqual(error.offset, 9)
        }
        // Editing a parsed expression must not leave errors pointing at stale text.
        e = parse("   ce   +   nce") ?? e
        e.terms[1].plugin = "ncee"
        do throws(LossExpressionError) {
            try e.validate(knownPlugins: plugins, availableTaps: taps)
            XCTFail("expected a validation error")
        } catch {
            XCTAssertEqual(error.input, "ce + ncee")
            XCTAssertEqual(error.offset, 5)
        }
    }
}
