import CLossKitABI

/// Checks for option values: each returns nil when the value is fine, else the message the user
/// sees ("tau must be > 0, got -1.0").
public enum Check {
    public static func positive<V: Comparable & ExpressibleByIntegerLiteral>(_ name: String) -> (V) -> String? {
        { $0 > 0 ? nil : "\(name) must be > 0, got \($0)" }
    }

    public static func nonNegative<V: Comparable & ExpressibleByIntegerLiteral>(_ name: String) -> (V) -> String? {
        { $0 >= 0 ? nil : "\(name) must be ≥ 0, got \($0)" }
    }

    public static func within<V: Comparable>(_ name: String, _ range: ClosedRange<V>) -> (V) -> String? {
        { range.contains($0) ? nil : "\(name) must be in \(range.lowerBound)...\(range.upperBound), got \($0)" }
    }

    public static func below<V: Comparable & ExpressibleByIntegerLiteral>(_ name: String, _ limit: V) -> (V) -> String? {
        { $0 >= 0 && $0 < limit ? nil : "\(name) must be in [0, \(limit)), got \($0)" }
    }

    public static func oneOf(_ name: String, _ choices: [String]) -> (String) -> String? {
        { choices.contains($0) ? nil : "\(name) must be \(choices.dropLast().joined(separator: ", ")) or \(choices.last!), got '\($0)'" }
    }
}

extension Runtime {
    /// The body of an exported option setter: checks `value`, then assigns it to the instance.
    ///
    ///     @_cdecl("nce_set_tau")
    ///     public func nceSetTau(_ p: UnsafeMutableRawPointer?, _ v: Double, _ e: UnsafeMutablePointer<lk_error>?) -> Int32 {
    ///         Runtime.set(p, e, v, check: Check.positive("tau")) { (n: NCE, v) in n.tau = v }
    ///     }
    public static func set<T, V>(_ p: UnsafeMutableRawPointer?, _ e: UnsafeMutablePointer<lk_error>?, _ value: V,
                                 check: (V) -> String? = { _ in nil }, _ assign: (T, V) -> Void) -> Int32 {
        set(p, e) { (instance: T) in
            if let message = check(value) { throw PluginError(message) }
            assign(instance, value)
        }
    }

    /// The same for a string option (the C string is copied before the call returns).
    public static func set<T>(_ p: UnsafeMutableRawPointer?, _ e: UnsafeMutablePointer<lk_error>?, _ value: UnsafePointer<CChar>?,
                              check: (String) -> String? = { _ in nil }, _ assign: (T, String) -> Void) -> Int32 {
        set(p, e, value.map { String(cString: $0) } ?? "", check: check, assign)
    }
}
