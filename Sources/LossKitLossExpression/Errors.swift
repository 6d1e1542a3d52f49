/// A problem in a loss expression, located at one character of the input.
public struct LossExpressionError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. "expected a term after '+'".
    public let message: String
    /// 0-based `Character` offset of the offending character; equal to the
    /// input's length when something is missing at the end.
    public let offset: Int
    public let input: String

    /// Public so plugins can report bad option values with `OptionSetting.valueRange`.
    public init(message: String, offset: Int, input: String) {
        self.message = message
        self.offset = offset
        self.input = input
    }

    /// Three lines: the message, the input, and a caret under the offending character.
    public var description: String {
        // Newlines would break the input line apart, and the caret line copies
        // tabs instead of replacing them, so the caret lines up in a terminal.
        let shown = String(input.map { $0.isNewline ? " " : $0 })
        let padding = String(input.prefix(offset).map { $0 == "\t" ? "\t" : " " })
        return "loss expression error: \(message)\n\(shown)\n\(padding)^"
    }
}

extension LossExpression {
    /// Checks each term names a known plugin and each @tap is offered; errors point at the term's name or tap.
    ///
    /// Run after plugins are loaded, because only then are the names and taps
    /// known. A tap containing '*' is a pattern and passes if it matches any
    /// offered tap. The same plugin at the same tap twice is rejected at the
    /// second term: two weights on one objective are almost always a mistake.
    public func validate(knownPlugins: [String], availableTaps: [String]) throws(LossExpressionError) {
        // Offsets must point into text the user can see: the parsed source while
        // the terms still match it, otherwise the canonical text.
        var located = self
        if source == nil { located = try LossExpression.parse(description) }
        let input = located.source ?? description
        func fail(_ message: String, _ offset: Int) -> LossExpressionError {
            LossExpressionError(message: message, offset: offset, input: input)
        }

        // Plugin load order is incidental, so list them sorted; taps keep the
        // encoder's order, which is meaningful (conv1 before conv10).
        let known = Array(Set(knownPlugins)).sorted()
        var seen: Set<String> = []
        for term in located.terms {
            if !known.contains(term.plugin) {
                var message = "unknown objective '\(term.plugin)'"
                if let guess = closest(to: term.plugin, in: known) { message += " — did you mean '\(guess)'?" }
                message += known.isEmpty ? " (no objectives are loaded)" : " (known: \(known.joined(separator: ", ")))"
                throw fail(message, term.nameRange.lowerBound)
            }
            if let tap = term.tap, !availableTaps.contains(where: { globMatches(tap, $0) }) {
                let offered = availableTaps.isEmpty
                    ? "(the encoder offers no taps)"
                    : "(taps: \(availableTaps.joined(separator: ", ")))"
                let what = tap.contains("*")
                    ? "tap pattern '\(tap)' matches no tap offered by the encoder"
                    : "tap '\(tap)' is not offered by the encoder"
                throw fail("\(what) \(offered)", term.tapRange?.lowerBound ?? term.nameRange.lowerBound)
            }
            let label = term.plugin + (term.tap.map { "@" + $0 } ?? "")
            if !seen.insert(label).inserted {
                throw fail("'\(label)' appears twice; combine the weights", term.sourceRange.lowerBound)
            }
        }
    }
}

/// The known name nearest to `name` within edit distance 2, ties going to the
/// first in `candidates` order.
private func closest(to name: String, in candidates: [String]) -> String? {
    var best: (name: String, distance: Int)? = nil
    for candidate in candidates {
        let d = editDistance(name, candidate)
        if d <= 2 && d < (best?.distance ?? .max) { best = (candidate, d) }
    }
    return best?.name
}

/// Levenshtein distance over Characters, one row at a time.
private func editDistance(_ a: String, _ b: String) -> Int {
    let b = Array(b)
    var row = Array(0...b.count)
    for (i, ca) in a.enumerated() {
        var diagonal = row[0]
        row[0] = i + 1
        for (j, cb) in b.enumerated() {
            let above = row[j + 1]
            row[j + 1] = min(above + 1, row[j] + 1, diagonal + (ca == cb ? 0 : 1))
            diagonal = above
        }
    }
    return row[b.count]
}

/// Glob match where '*' matches any run of characters (including none).
private func globMatches(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern), t = Array(text)
    var pi = 0, ti = 0
    var star: Int? = nil   // last '*' seen in the pattern
    var resume = 0         // where in the text that '*' currently stops
    while ti < t.count {
        if pi < p.count && p[pi] == "*" {
            star = pi
            resume = ti
            pi += 1
        } else if pi < p.count && p[pi] == t[ti] {
            pi += 1
            ti += 1
        } else if let s = star {
            // Let the last '*' swallow one more character and retry.
            pi = s + 1
            resume += 1
            ti = resume
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
}
