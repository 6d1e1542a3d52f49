/// Character-level scanner for loss expressions.
///
/// There is no separate token stream because the lexical rules depend on where
/// the parser is: `0.5.1` or `fast-2` are fine bare words inside an option list,
/// but in a term `0.5.1` is a malformed weight and `-` is an operator. So the
/// parser drives this cursor and asks for the token it expects next.
///
/// Positions index an array of `Character`s, so every offset reported to the
/// user counts what they see on screen, not UTF-8 bytes.
struct ExprScanner {
    let input: String
    let chars: [Character]
    var pos = 0

    init(_ input: String) {
        self.input = input
        self.chars = Array(input)
    }

    var atEnd: Bool { pos >= chars.count }

    func peek(_ ahead: Int = 0) -> Character? {
        let i = pos + ahead
        return i < chars.count ? chars[i] : nil
    }

    mutating func advance() { pos += 1 }

    mutating func skipWhitespace() {
        while let c = peek(), c.isWhitespace { pos += 1 }
    }

    func text(_ range: Range<Int>) -> String { String(chars[range]) }

    func error(_ message: String, at offset: Int) -> LossExpressionError {
        LossExpressionError(message: message, offset: offset, input: input)
    }

    // MARK: Words

    /// Objective name: `[A-Za-z][A-Za-z0-9_-]*`. A '-' only continues the name
    /// when a letter follows, so `ce-0.5*nce` still reads as a subtraction and a
    /// name never ends in '-'.
    mutating func scanName() -> Range<Int>? {
        scanWord { c, next in isWordChar(c) || (c == "-" && next.map(isASCIILetter) == true) }
    }

    /// Tap name or pattern: `[A-Za-z][A-Za-z0-9_*]*`.
    mutating func scanTap() -> Range<Int>? {
        scanWord { c, _ in isWordChar(c) || c == "*" }
    }

    /// Option key: `[A-Za-z][A-Za-z0-9_]*`.
    mutating func scanKey() -> Range<Int>? {
        scanWord { c, _ in isWordChar(c) }
    }

    private mutating func scanWord(continues: (Character, Character?) -> Bool) -> Range<Int>? {
        guard let first = peek(), isASCIILetter(first) else { return nil }
        let start = pos
        pos += 1
        while let c = peek(), continues(c, peek(1)) { pos += 1 }
        return start..<pos
    }

    // MARK: Numbers

    enum NumberScan {
        case number(Range<Int>)
        /// `offset` is the first character that makes the number invalid.
        case malformed(text: String, offset: Int, reason: String)
    }

    /// Scans `digits [. digits] [(e|E) [+|-] digits]` or `. digits [...]`.
    /// Returns nil (consuming nothing) when no number starts here. A malformed
    /// number consumes nothing either: inside options the caller falls back to
    /// reading a bare word, in a term it reports the problem.
    mutating func scanNumber() -> NumberScan? {
        guard let c = peek(), isDigit(c) || (c == "." && peek(1).map(isDigit) == true) else { return nil }
        let start = pos
        var i = pos
        func at(_ k: Int) -> Character? { k < chars.count ? chars[k] : nil }
        func malformed(_ offset: Int, _ reason: String) -> NumberScan {
            .malformed(text: numberLikeRun(from: start), offset: offset, reason: reason)
        }

        while let d = at(i), isDigit(d) { i += 1 }
        if at(i) == "." {
            i += 1
            guard let d = at(i), isDigit(d) else {
                return malformed(i, at(i) == "." ? "unexpected '.'" : "expected a digit after '.'")
            }
            while let d = at(i), isDigit(d) { i += 1 }
        }
        if let e = at(i), e == "e" || e == "E" {
            var j = i + 1
            if let sign = at(j), sign == "+" || sign == "-" { j += 1 }
            if let d = at(j), isDigit(d) {
                i = j
                while let d = at(i), isDigit(d) { i += 1 }
            } else if j == i + 1, let next = at(j), isASCIILetter(next) {
                // `2ece`: the 'e' begins a word, not an exponent; the number ends
                // here and the parser reports the missing '*'.
            } else {
                return malformed(j, "the exponent needs digits")
            }
        }
        if at(i) == "." { return malformed(i, "unexpected '.'") }
        pos = i
        return .number(start..<i)
    }

    /// The stretch of text that looks like part of a number, for error messages
    /// such as "malformed number '0..5'".
    private func numberLikeRun(from start: Int) -> String {
        var i = start
        while i < chars.count {
            let c = chars[i]
            let afterE = i > start && (chars[i - 1] == "e" || chars[i - 1] == "E")
            guard isDigit(c) || c == "." || c == "e" || c == "E" || (afterE && (c == "+" || c == "-")) else { break }
            i += 1
        }
        return String(chars[start..<i])
    }

    // MARK: Option values

    /// An unquoted option value: a number when the whole value is one (this is
    /// how `1e+3` gets its '+'), otherwise a bare word `[A-Za-z0-9_.-]+`.
    mutating func scanOptionValue() -> Range<Int>? {
        let start = pos
        if case .number(let range)? = scanNumber(), !(peek().map(isBareChar) ?? false) {
            return range
        }
        pos = start
        while let c = peek(), isBareChar(c) { pos += 1 }
        return pos > start ? start..<pos : nil
    }

    /// A double-quoted string with `\"` and `\\` escapes; the range includes the
    /// quotes. Other escapes are rejected rather than guessed at, so a Windows
    /// path like `"C:\new"` is caught instead of silently changed.
    mutating func scanQuotedString() throws(LossExpressionError) -> (text: String, range: Range<Int>) {
        let open = pos
        pos += 1
        var text = ""
        while let c = peek() {
            pos += 1
            if c == "\"" { return (text, open..<pos) }
            if c != "\\" {
                text.append(c)
                continue
            }
            guard let escaped = peek() else { break }
            guard escaped == "\"" || escaped == "\\" else {
                throw error("unsupported escape '\\\(escaped)' in string; only \\\" and \\\\ are allowed", at: pos - 1)
            }
            text.append(escaped)
            pos += 1
        }
        throw error("unterminated string: missing closing '\"'", at: open)
    }
}

// The grammar is ASCII-only on purpose: names travel into plugin registries and
// file names, so `Character.isLetter` (which accepts any script) is too loose.
func isASCIILetter(_ c: Character) -> Bool { c.isASCII && c.isLetter }
func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
func isWordChar(_ c: Character) -> Bool { isASCIILetter(c) || isDigit(c) || c == "_" }
func isBareChar(_ c: Character) -> Bool { isWordChar(c) || c == "." || c == "-" }
