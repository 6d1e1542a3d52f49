import Foundation

/// When a term of the loss takes part and how much of its weight it carries: the host-side
/// settings written in square brackets after the term (parentheses hold the plugin's options).
///
/// ```
/// ce + 0.3*nce(views=2)[until=750]        nce for the first 750 steps, then ce alone
/// ce + 0.1*nce[ramp=1000]                 nce's weight ramped up over the first 1000 steps
/// ce + 0.5*sc[from=500, warmup=200]       sc off for 500 steps, then 0 → 0.5 over 200 steps
/// ce + 0.3*nce[until=2000, decay=500]     nce at 0.3 until step 1500, then 0.3 → 0 by step 2000
/// ```
///
/// With `s` the number of steps done before the current one:
/// - `from=N`: the term is off while `s < N` (off for the first N steps);
/// - `until=N`: the term is off once `s ≥ N` (on for the steps up to N);
/// - `warmup=N`: the weight rises linearly, factor `min(1, (s − from + 1) / N)`;
/// - `ramp=N`: the sigmoid-shaped ramp-up of Laine & Aila (2017) and Tarvainen & Valpola (2017),
///   factor `exp(−5 (1 − t)²)` with `t = min(1, (s − from + 1) / N)`;
/// - `decay=N` (needs `until`): the weight falls linearly to zero over the last N steps before
///   `until`, factor `min(1, (until − s) / N)`, times the rise's factor where both apply.
///
/// A term that is off is not computed at all: its plugin is not called, its after-step hook does
/// not run, and its own parameters are not stepped (as PyTorch skips parameters without a
/// gradient). A term that is on but warming up is computed and scaled.
public struct TermSchedule: Equatable {
    public var from: Int?
    public var until: Int?
    public var warmup: Int?
    public var ramp: Int?
    public var decay: Int?

    public init(from: Int? = nil, until: Int? = nil, warmup: Int? = nil, ramp: Int? = nil, decay: Int? = nil) {
        self.from = from
        self.until = until
        self.warmup = warmup
        self.ramp = ramp
        self.decay = decay
    }

    /// The settings in canonical order, the order `description` writes them.
    static let keys = ["from", "until", "warmup", "ramp", "decay"]

    /// True when the term is always on at full weight (nothing in brackets).
    public var isConstant: Bool { self == TermSchedule() }

    /// The factor on the term's weight before step `s` + 1 (`s` steps done), or nil when the
    /// term is off for that step.
    public func factor(afterSteps s: Int) -> Double? {
        let start = from ?? 0
        if s < start { return nil }
        if let until, s >= until { return nil }
        let since = Double(s - start + 1)
        var rise = 1.0
        if let warmup { rise = min(1, since / Double(warmup)) }
        if let ramp {
            let t = min(1, since / Double(ramp))
            rise = Foundation.exp(-5 * (1 - t) * (1 - t))
        }
        guard let decay, let until else { return rise }
        return rise * min(1, Double(until - s) / Double(decay))
    }

    /// `[from=…, until=…, …]`, or the empty string when the term has no schedule.
    var description: String {
        let values = [from, until, warmup, ramp, decay]
        let written = zip(TermSchedule.keys, values).compactMap { key, value in value.map { "\(key)=\($0)" } }
        return written.isEmpty ? "" : "[" + written.joined(separator: ", ") + "]"
    }

    fileprivate mutating func set(_ key: String, _ value: Int) {
        switch key {
        case "from": from = value
        case "until": until = value
        case "warmup": warmup = value
        case "ramp": ramp = value
        default: decay = value
        }
    }
}

extension Parser {
    /// Parses `[key=steps, ...]` at the current '['; `term` names the term in messages.
    mutating func parseSchedule(of term: String) throws(LossExpressionError) -> TermSchedule {
        let open = s.pos
        s.advance()
        let unclosed = s.error("unclosed '[' — expected ']' to end the schedule of '\(term)'", at: open)
        var schedule = TermSchedule()
        var given: [String: Int] = [:]   // key → where its value was written, for the checks below
        while true {
            s.skipWhitespace()
            guard let keyRange = s.scanKey() else {
                guard let c = s.peek() else { throw unclosed }
                throw s.error("expected a schedule setting (\(TermSchedule.keys.joined(separator: ", "))), found '\(c)'", at: s.pos)
            }
            let key = s.text(keyRange)
            guard TermSchedule.keys.contains(key) else {
                throw s.error("unknown schedule setting '\(key)' — the settings in [ ] are \(TermSchedule.keys.joined(separator: ", ")) (a plugin's options go in parentheses)", at: keyRange.lowerBound)
            }
            if given[key] != nil { throw s.error("schedule setting '\(key)' is given twice", at: keyRange.lowerBound) }
            s.skipWhitespace()
            guard s.peek() == "=" else { throw s.error("expected '=' after schedule setting '\(key)'", at: s.pos) }
            s.advance()
            s.skipWhitespace()
            let valueStart = s.pos
            guard let range = s.scanOptionValue() else { throw s.error("expected a number of steps for '\(key)'", at: s.pos) }
            let text = s.text(range)
            guard let steps = Int(text), steps >= 0 else {
                throw s.error("'\(key)' takes a whole number of steps (0 or more), not '\(text)'", at: valueStart)
            }
            if (key == "warmup" || key == "ramp" || key == "decay" || key == "until") && steps == 0 {
                throw s.error("'\(key)' needs at least 1 step", at: valueStart)
            }
            given[key] = valueStart
            schedule.set(key, steps)

            s.skipWhitespace()
            switch s.peek() {
            case nil: throw unclosed
            case "]"?:
                s.advance()
                if schedule.warmup != nil, schedule.ramp != nil {
                    throw s.error("give 'warmup' (linear) or 'ramp' (sigmoid-shaped), not both", at: given["ramp"]!)
                }
                if let from = schedule.from, let until = schedule.until, until <= from {
                    throw s.error("'until' (\(until)) must be after 'from' (\(from)): the term would never be on", at: given["until"]!)
                }
                if let decay = schedule.decay {
                    guard let until = schedule.until else {
                        throw s.error("'decay' falls to zero at 'until': give 'until' too", at: given["decay"]!)
                    }
                    if decay > until - (schedule.from ?? 0) {
                        throw s.error("'decay' (\(decay)) is longer than the term is on (\(until - (schedule.from ?? 0)) steps)", at: given["decay"]!)
                    }
                }
                return schedule
            case ","?: s.advance()
            case let c?: throw s.error("expected ',' or ']' after schedule setting '\(key)', found '\(c)'", at: s.pos)
            }
        }
    }
}
