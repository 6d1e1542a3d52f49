import CLossKitABI
import Foundation

/// The values a numeric option accepts, declared with it (lk_option_desc.bounds; ABI 1.3). The
/// host checks a user's value against it before the option is set, and `losskit plugins info`
/// shows it.
public struct Bounds {
    let flags: Int32, minimum: Double, maximum: Double
    public static let any = Bounds(flags: 0, minimum: 0, maximum: 0)
    /// lo ≤ v ≤ hi
    public static func within(_ lo: Double, _ hi: Double) -> Bounds { Bounds(flags: LK_BOUND_MIN | LK_BOUND_MAX, minimum: lo, maximum: hi) }
    /// v ≥ lo
    public static func atLeast(_ lo: Double) -> Bounds { Bounds(flags: LK_BOUND_MIN, minimum: lo, maximum: 0) }
    /// v > lo
    public static func above(_ lo: Double) -> Bounds { Bounds(flags: LK_BOUND_MIN | LK_BOUND_MIN_OPEN, minimum: lo, maximum: 0) }
    /// lo < v ≤ hi
    public static func above(_ lo: Double, upTo hi: Double) -> Bounds {
        Bounds(flags: LK_BOUND_MIN | LK_BOUND_MIN_OPEN | LK_BOUND_MAX, minimum: lo, maximum: hi)
    }
    /// lo ≤ v < hi
    public static func from(_ lo: Double, below hi: Double) -> Bounds {
        Bounds(flags: LK_BOUND_MIN | LK_BOUND_MAX | LK_BOUND_MAX_OPEN, minimum: lo, maximum: hi)
    }
    /// v ≤ hi
    public static func atMost(_ hi: Double) -> Bounds { Bounds(flags: LK_BOUND_MAX, minimum: 0, maximum: hi) }
}

/// An option declared once — name, the instance property it sets, default, accepted values,
/// doc — from which the SDK writes its `lk_option_desc` and the typed function the host calls,
/// so the declared C type and the receiving function cannot disagree:
///
///     static let options: [Option<NCE>] = [
///         .double("tau", \.tau, default: 0.07, .above(0), doc: "softmax temperature"),
///         .int("views", \.views, default: 1, .within(1, 2), doc: "1: the paper; 2: a second view"),
///     ]
public struct Option<Instance: AnyObject> {
    let name: String, type: Int32, defaultText: String, doc: String, bounds: Bounds, choices: [String]?
    let assign: (Instance, DeclaredValue) -> Void

    public static func double(_ name: String, _ key: ReferenceWritableKeyPath<Instance, Double>, default value: Double,
                              _ bounds: Bounds = .any, doc: String) -> Option {
        Option(name: name, type: LK_TYPE_DOUBLE, defaultText: "\(value)", doc: doc, bounds: bounds, choices: nil) {
            if case .double(let v) = $1 { $0[keyPath: key] = v }
        }
    }

    public static func float(_ name: String, _ key: ReferenceWritableKeyPath<Instance, Float>, default value: Float,
                             _ bounds: Bounds = .any, doc: String) -> Option {
        Option(name: name, type: LK_TYPE_FLOAT, defaultText: "\(value)", doc: doc, bounds: bounds, choices: nil) {
            if case .float(let v) = $1 { $0[keyPath: key] = v }
        }
    }

    /// An integer option (int64 on the wire; the host's range check keeps it within `Int`).
    public static func int(_ name: String, _ key: ReferenceWritableKeyPath<Instance, Int>, default value: Int,
                           _ bounds: Bounds = .any, doc: String) -> Option {
        Option(name: name, type: LK_TYPE_INT64, defaultText: "\(value)", doc: doc, bounds: bounds, choices: nil) {
            if case .int64(let v) = $1 { $0[keyPath: key] = Int(v) }
        }
    }

    public static func bool(_ name: String, _ key: ReferenceWritableKeyPath<Instance, Bool>, default value: Bool, doc: String) -> Option {
        Option(name: name, type: LK_TYPE_BOOL, defaultText: value ? "true" : "false", doc: doc, bounds: .any, choices: nil) {
            if case .bool(let v) = $1 { $0[keyPath: key] = v }
        }
    }

    /// A string option, any text or one of `choices`.
    public static func string(_ name: String, _ key: ReferenceWritableKeyPath<Instance, String>, default value: String,
                              choices: [String]? = nil, doc: String) -> Option {
        Option(name: name, type: LK_TYPE_STRING, defaultText: value, doc: doc, bounds: .any, choices: choices) {
            if case .string(let v) = $1 { $0[keyPath: key] = v }
        }
    }

    /// A string option whose values are an enumeration's raw values: the choices are its cases.
    public static func choice<E: CaseIterable & RawRepresentable>(_ name: String, _ key: ReferenceWritableKeyPath<Instance, E>,
                                                                   default value: E, doc: String) -> Option where E.RawValue == String {
        Option(name: name, type: LK_TYPE_STRING, defaultText: value.rawValue, doc: doc, bounds: .any, choices: E.allCases.map(\.rawValue)) {
            if case .string(let v) = $1, let e = E(rawValue: v) { $0[keyPath: key] = e }
        }
    }
}

/// A probe declared once: a number the host logs after each logged step.
///
///     static let probes: [Probe<SC>] = [.init("positive_distance", \.positiveDistance, doc: "mean d(a_i, b_i)")]
public struct Probe<Instance: AnyObject> {
    let name: String, doc: String
    let read: (Instance) -> Double
    public init(_ name: String, _ key: KeyPath<Instance, Double>, doc: String) {
        self.name = name
        self.doc = doc
        read = { $0[keyPath: key] }
    }
}

/// A value the host passed to a declared setter, in its declared type.
enum DeclaredValue {
    case int64(Int64), double(Double), float(Float), bool(Bool), string(String)
}

/// An instance's declarations, type-erased and bound to it, kept in its box for the thunks below.
struct Declarations {
    let setters: [(DeclaredValue) -> Void]
    let getters: [() -> Double]
}

/// Each described plugin type's declarations, recorded by `describe` (when the library's
/// descriptor list is built, before any instance) and bound to each instance `Runtime.create`
/// makes. Keyed by the type itself, so a subclass described as a plugin of its own has its own.
final class DeclarationRegistry: @unchecked Sendable {
    static let shared = DeclarationRegistry()
    private let lock = NSLock()
    private var binders: [ObjectIdentifier: (AnyObject) -> Declarations] = [:]

    func register<T: AnyObject>(_ type: T.Type, options: [Option<T>], probes: [Probe<T>]) {
        lock.lock()
        defer { lock.unlock() }
        binders[ObjectIdentifier(type)] = { object in
            let instance = object as! T
            return Declarations(setters: options.map { option in { [unowned instance] value in option.assign(instance, value) } },
                                getters: probes.map { probe in { [unowned instance] in probe.read(instance) } })
        }
    }

    func bind(_ instance: AnyObject) -> Declarations? {
        lock.lock()
        defer { lock.unlock() }
        return binders[ObjectIdentifier(type(of: instance))].map { $0(instance) }
    }
}

/// The functions a declaration's `set` and `get` point at: one per C type, each finding the
/// instance's declaration by the index the host passes.
enum DeclaredThunks {
    static func set(_ p: UnsafeMutableRawPointer?, _ index: Int32, _ value: DeclaredValue, _ err: UnsafeMutablePointer<lk_error>?) -> Int32 {
        guard let setters = Runtime.box(p)?.declarations?.setters, setters.indices.contains(Int(index)) else {
            setError(err, "no option \(index) on this instance")
            return LK_ERROR
        }
        setters[Int(index)](value)
        return LK_OK
    }

    static let setInt64: @convention(c) (UnsafeMutableRawPointer?, Int32, Int64, UnsafeMutablePointer<lk_error>?) -> Int32 = { set($0, $1, .int64($2), $3) }
    static let setDouble: @convention(c) (UnsafeMutableRawPointer?, Int32, Double, UnsafeMutablePointer<lk_error>?) -> Int32 = { set($0, $1, .double($2), $3) }
    static let setFloat: @convention(c) (UnsafeMutableRawPointer?, Int32, Float, UnsafeMutablePointer<lk_error>?) -> Int32 = { set($0, $1, .float($2), $3) }
    static let setBool: @convention(c) (UnsafeMutableRawPointer?, Int32, Bool, UnsafeMutablePointer<lk_error>?) -> Int32 = { set($0, $1, .bool($2), $3) }
    static let setString: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafeMutablePointer<lk_error>?) -> Int32 = {
        set($0, $1, .string($2.map { String(cString: $0) } ?? ""), $3)
    }
    static let getDouble: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Double = { p, index in
        guard let getters = Runtime.box(p)?.declarations?.getters, getters.indices.contains(Int(index)) else { return .nan }
        return getters[Int(index)]()
    }

    static func setter(for type: Int32) -> lk_fn {
        switch type {
        case LK_TYPE_INT64: return unsafeBitCast(setInt64, to: lk_fn.self)
        case LK_TYPE_DOUBLE: return unsafeBitCast(setDouble, to: lk_fn.self)
        case LK_TYPE_FLOAT: return unsafeBitCast(setFloat, to: lk_fn.self)
        case LK_TYPE_BOOL: return unsafeBitCast(setBool, to: lk_fn.self)
        default: return unsafeBitCast(setString, to: lk_fn.self)
        }
    }
}
