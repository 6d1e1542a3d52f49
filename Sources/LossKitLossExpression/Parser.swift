/// One `key=value` setting inside a term's parentheses.
public struct OptionSetting: Equatable {
    public var key: String
    /// The value as text: numbers and bare words as written, quoted strings
    /// unescaped. The plugin owns the option, so it decides how to read it.
    public var value: String
    /// Where the value was written (quotes included), so a plugin that rejects
    /// it can point a `LossExpressionError` at it.
    public var valueRange: Range<Int>

    public init(key: String, value: String, valueRange: Range<Int> = 0..<0) {
        self.key = key
        self.value = value
        self.valueRange = valueRange
    }

    /// Equal when they say the same thing; where they were written is ignored.
    public static func == (a: OptionSetting, b: OptionSetting) -> Bool {
        a.key == b.key && a.value == b.value
    }
}

/// One weighted objective, e.g. `0.1*sc@conv4(region=0.5)[until=750]`.
public struct LossTerm: Equatable {
    public var weight: Double
    public var plugin: String
    public var tap: String?
    public var options: [OptionSetting]
    /// When the term is on and how its weight ramps (`[...]` after the term); empty: always, full weight.
    public var schedule: TermSchedule
    /// Character offsets of the whole term (weight to closing ')' or ']'); a '-' that
    /// negates it is an operator between terms and is not included.
    public var sourceRange: Range<Int>
    /// Character offsets of the plugin name, for errors about the name.
    public var nameRange: Range<Int>
    /// Character offsets of the tap name after '@', for errors about the tap.
    public var tapRange: Range<Int>?

    public init(weight: Double = 1, plugin: String, tap: String? = nil, options: [OptionSetting] = [],
                schedule: TermSchedule = TermSchedule(),
                sourceRange: Range<Int> = 0..<0, nameRange: Range<Int> = 0..<0, tapRange: Range<Int>? = nil) {
        self.weight = weight
        self.plugin = plugin
        self.tap = tap
        self.options = options
        self.schedule = schedule
        self.sourceRange = sourceRange
        self.nameRange = nameRange
        self.tapRange = tapRange
    }

    /// Equal when they mean the same objective; source positions are ignored,
    /// so `parse(e.description) == e` holds even though the text moved.
    public static func == (a: LossTerm, b: LossTerm) -> Bool {
        a.weight == b.weight && a.plugin == b.plugin && a.tap == b.tap && a.options == b.options && a.schedule == b.schedule
    }
}

/// A training objective: a signed, weighted sum of plugin terms.
public struct LossExpression: Equatable, CustomStringConvertible {
    public var terms: [LossTerm] {
        // Once terms are edited their ranges no longer describe `source`.
        didSet { source = nil }
    }

    /// The text this was parsed from, kept while the terms still match it so
    /// `validate` can point its errors into what the user actually typed.
    var source: String?

    public init(terms: [LossTerm]) {
        self.terms = terms
        self.source = nil
    }

    /// Parses a loss expression.
    ///
    /// ```
    /// expression := [ '-' ] term ( ('+' | '-') term )*
    /// term       := [ number ws* '*' ws* ] name [ '@' tap ] [ '(' option ( ',' option )* ')' ]
    ///               [ '[' setting ( ',' setting )* ']' ]
    /// name       := [A-Za-z][A-Za-z0-9_-]*     (entropy-min, nce, sc; a '-' must be followed by a letter)
    /// tap        := [A-Za-z][A-Za-z0-9_*]*     (conv4, pool*, features)
    /// option     := key ws* '=' ws* value ;  key := [A-Za-z][A-Za-z0-9_]*
    /// value      := number | true | false | bare word [A-Za-z0-9_.-]+
    ///             | "double-quoted string with \" and \\ escapes"
    /// number     := decimal with optional fraction and exponent: 0.5, .5, 1e-3, 2
    /// setting    := ( 'from' | 'until' | 'warmup' | 'ramp' | 'decay' ) ws* '=' ws* steps    (see `TermSchedule`)
    /// ```
    ///
    /// Whitespace is allowed between all tokens. A leading '-' or a '-' between
    /// terms negates the following weight; a term without a weight has weight 1.
    /// The weight comes first: `ce*2` is rejected with the suggestion `2*ce`.
    /// Weights must be finite.
    ///
    /// - Throws: `LossExpressionError` pointing at the offending character.
    public static func parse(_ text: String) throws(LossExpressionError) -> LossExpression {
        var parser = Parser(text)
        var expression = LossExpression(terms: try parser.parseExpression())
        expression.source = text
        return expression
    }

    /// Equal when the terms are equal (source positions ignored).
    public static func == (a: LossExpression, b: LossExpression) -> Bool { a.terms == b.terms }

    /// Canonical text, e.g. `ce + 0.5*nce[ramp=500] - 0.1*sc@conv4(region=0.5)`.
    /// Parsing it gives back an equal expression.
    public var description: String {
        var out = ""
        for (i, term) in terms.enumerated() {
            // `sign`, not `< 0`, so a written `-0*x` keeps its sign on the way round.
            let negative = term.weight.sign == .minus
            if i == 0 {
                if negative { out += "-" }
            } else {
                out += negative ? " - " : " + "
            }
            let magnitude = abs(term.weight)
            if magnitude != 1 { out += formatWeight(magnitude) + "*" }
            out += term.plugin
            if let tap = term.tap { out += "@" + tap }
            if !term.options.isEmpty {
                out += "(" + term.options.map { "\($0.key)=\(formatValue($0.value))" }.joined(separator: ", ") + ")"
            }
            out += term.schedule.description
        }
        return out
    }
}

/// Swift prints the shortest text that reads back as the same Double, so the
/// round trip is exact; only the noisy ".0" of whole numbers is dropped.
private func formatWeight(_ w: Double) -> String {
    let text = "\(w)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

/// Bare when every character is a bare-word character (those always read back
/// unchanged), quoted otherwise.
private func formatValue(_ value: String) -> String {
    if !value.isEmpty && value.allSatisfy(isBareChar) { return value }
    var quoted = "\""
    for c in value {
        if c == "\"" || c == "\\" { quoted.append("\\") }
        quoted.append(c)
    }
    return quoted + "\""
}

/// Recursive-descent parser for the grammar documented on `LossExpression.parse`.
struct Parser {
    var s: ExprScanner

    init(_ text: String) { s = ExprScanner(text) }

    mutating func parseExpression() throws(LossExpressionError) -> [LossTerm] {
        s.skipWhitespace()
        if s.atEnd { throw s.error("empty loss expression", at: 0) }

        var terms: [LossTerm] = []
        var op: Character? = nil   // operator before the next term, for messages
        var sign = 1.0
        if s.peek() == "-" {
            op = "-"
            sign = -1
            s.advance()
        }
        while true {
            s.skipWhitespace()
            var (term, hadWeight) = try parseTerm(after: op)
            term.weight *= sign
            terms.append(term)

            s.skipWhitespace()
            guard let c = s.peek() else { return terms }
            switch c {
            case "+", "-":
                op = c
                sign = c == "-" ? -1 : 1
                s.advance()
            case "*":
                throw weightAfterTerm(term, hadWeight: hadWeight)
            default:
                // A word or number right after a term is almost certainly a
                // forgotten operator; anything else is a stray character.
                if isASCIILetter(c) || isDigit(c) || c == "." {
                    throw s.error("expected '+' or '-' between terms", at: s.pos)
                }
                throw s.error("unexpected character '\(c)' — terms are joined with '+' or '-'", at: s.pos)
            }
        }
    }

    private mutating func parseTerm(after op: Character?) throws(LossExpressionError) -> (LossTerm, Bool) {
        let start = s.pos
        var weight: Double? = nil
        var weightText = ""
        if let scan = s.scanNumber() {
            switch scan {
            case let .malformed(text, offset, reason):
                throw s.error("malformed number '\(text)': \(reason)", at: offset)
            case let .number(range):
                weightText = s.text(range)
            }
            // `1e999` overflows to infinity; a weight that large is a typo.
            guard let value = Double(weightText), value.isFinite else {
                throw s.error("weight must be a finite number", at: start)
            }
            s.skipWhitespace()
            guard s.peek() == "*" else { throw s.error("expected '*' after the weight \(weightText)", at: s.pos) }
            s.advance()
            s.skipWhitespace()
            weight = value
        }

        guard let nameRange = s.scanName() else {
            let found = s.peek().map { ", found '\($0)'" } ?? ""
            if weight != nil { throw s.error("expected an objective name after '\(weightText)*'", at: s.pos) }
            if let op, s.peek() == "-" {
                throw s.error("expected a term after '\(op)', found '-': a negative weight is written with the operator alone, as 'ce - 0.5*nce'", at: s.pos)
            }
            if let op { throw s.error("expected a term after '\(op)'\(found)", at: s.pos) }
            throw s.error("expected an objective name\(found)", at: s.pos)
        }
        let plugin = s.text(nameRange)
        var end = nameRange.upperBound
        s.skipWhitespace()

        // `nan*ce` / `inf*ce` scan as names; say what is really wrong.
        if weight == nil, s.peek() == "*", ["nan", "inf", "infinity"].contains(plugin.lowercased()) {
            throw s.error("weight must be a finite number", at: nameRange.lowerBound)
        }

        var tap: String? = nil
        var tapRange: Range<Int>? = nil
        if s.peek() == "@" {
            s.advance()
            s.skipWhitespace()
            guard let range = s.scanTap() else { throw s.error("expected a tap name after '@'", at: s.pos) }
            tap = s.text(range)
            tapRange = range
            end = range.upperBound
            s.skipWhitespace()
        }

        var options: [OptionSetting] = []
        if s.peek() == "(" {
            options = try parseOptions(of: plugin)
            end = s.pos
            s.skipWhitespace()
        }

        var schedule = TermSchedule()
        if s.peek() == "[" {
            schedule = try parseSchedule(of: plugin)
            end = s.pos
        }

        let term = LossTerm(weight: weight ?? 1, plugin: plugin, tap: tap, options: options, schedule: schedule,
                            sourceRange: start..<end, nameRange: nameRange, tapRange: tapRange)
        return (term, weight != nil)
    }

    private mutating func parseOptions(of plugin: String) throws(LossExpressionError) -> [OptionSetting] {
        let open = s.pos
        s.advance()
        // Point an unclosed list at its '(' — a caret after the end of the
        // input would not show which list was left open.
        let unclosed = s.error("unclosed '(' — expected ')' to end the options of '\(plugin)'", at: open)
        var options: [OptionSetting] = []
        while true {
            s.skipWhitespace()
            guard let keyRange = s.scanKey() else {
                guard let c = s.peek() else { throw unclosed }
                throw s.error("expected an option name, found '\(c)'", at: s.pos)
            }
            let key = s.text(keyRange)
            if options.contains(where: { $0.key == key }) {
                throw s.error("option '\(key)' is given twice", at: keyRange.lowerBound)
            }
            s.skipWhitespace()
            guard s.peek() == "=" else { throw s.error("expected '=' after option '\(key)'", at: s.pos) }
            s.advance()
            s.skipWhitespace()

            let value: String
            let valueRange: Range<Int>
            if s.peek() == "\"" {
                (value, valueRange) = try s.scanQuotedString()
            } else if let range = s.scanOptionValue() {
                (value, valueRange) = (s.text(range), range)
            } else {
                throw s.error("expected a value for option '\(key)'", at: s.pos)
            }
            options.append(OptionSetting(key: key, value: value, valueRange: valueRange))

            s.skipWhitespace()
            switch s.peek() {
            case nil: throw unclosed
            case ")"?:
                s.advance()
                return options
            case ","?: s.advance()
            case let c?: throw s.error("expected ',' or ')' after option '\(key)', found '\(c)'", at: s.pos)
            }
        }
    }

    /// Called at a '*' following a complete term, e.g. `ce*2`.
    private mutating func weightAfterTerm(_ term: LossTerm, hadWeight: Bool) -> LossExpressionError {
        let star = s.pos
        let written = s.text(term.sourceRange)
        s.advance()
        s.skipWhitespace()
        guard case .number(let range)? = s.scanNumber() else {
            return s.error("unexpected '*' after '\(written)'", at: star)
        }
        if hadWeight {
            return s.error("a term takes one weight, written before its name", at: star)
        }
        return s.error("the weight goes before the name — write the weight first: \(s.text(range))*\(written)", at: star)
    }
}
