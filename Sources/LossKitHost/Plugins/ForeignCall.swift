import CFFI
import CLossKitABI
import CLossKitShims
import Foundation

/// A user's option text converted to the option's declared C type.
public enum OptionValue: Equatable {
    case int64(Int64), double(Double), float(Float), bool(Bool), string(String)

    /// Parses `text` as `type`; the error says which type was expected.
    public static func parse(_ text: String, as type: OptionType, option: String) throws -> OptionValue {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch type {
        case .int64:
            guard let v = Int64(t) else { throw HostError("option '\(option)' takes an integer; got '\(text)'") }
            return .int64(v)
        case .double:
            guard let v = Double(t), v.isFinite else { throw HostError("option '\(option)' takes a finite number; got '\(text)'") }
            return .double(v)
        case .float:
            guard let v = Float(t), v.isFinite else { throw HostError("option '\(option)' takes a finite number; got '\(text)'") }
            return .float(v)
        case .bool:
            switch t.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: throw HostError("option '\(option)' takes true or false; got '\(text)'")
            }
        case .string:
            return .string(text)
        }
    }

    public var text: String {
        switch self {
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .float(let v): return String(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return v
        }
    }
}

/// Calls plugin functions whose signature is declared at run time (option setters and probe
/// getters) through libffi: the host cannot know at compile time whether `nce_set_tau` takes a
/// double or an int64, only the descriptor says so.
enum ForeignCall {
    static func ffiType(_ t: OptionType) -> UnsafeMutablePointer<ffi_type> {
        switch t {
        case .int64: return lk_ffi_type_sint64()
        case .double: return lk_ffi_type_double()
        case .float: return lk_ffi_type_float()
        case .bool: return lk_ffi_type_uint8()
        case .string: return lk_ffi_type_pointer()
        }
    }

    /// `lk_status setter(void *self, T value, lk_error *err)`.
    static func callSetter(_ fn: UnsafeMutableRawPointer, instance: UnsafeMutableRawPointer, value: OptionValue, type: OptionType) throws {
        var argTypes: [UnsafeMutablePointer<ffi_type>?] = [lk_ffi_type_pointer(), ffiType(type), lk_ffi_type_pointer()]
        var cif = ffi_cif()
        let prepared = argTypes.withUnsafeMutableBufferPointer { lk_ffi_prep_cif(&cif, 3, lk_ffi_type_sint32(), $0.baseAddress) }
        guard prepared == FFI_OK else { throw HostError("libffi could not prepare the setter call (status \(prepared))") }

        var selfArg: UnsafeMutableRawPointer? = instance
        var err = lk_error()
        var result: UInt64 = 0  // ffi_arg-sized return slot
        let cString = strdup(value.text)!
        defer { free(cString) }
        var i64: Int64 = 0, dbl: Double = 0, flt: Float = 0, bool: UInt8 = 0
        var str: UnsafeMutablePointer<CChar>? = cString
        switch value {
        case .int64(let v): i64 = v
        case .double(let v): dbl = v
        case .float(let v): flt = v
        case .bool(let v): bool = v ? 1 : 0
        case .string: break
        }
        let fnPtr = unsafeBitCast(fn, to: (@convention(c) () -> Void).self)
        withUnsafeMutablePointer(to: &err) { errPtr in
            var errArg: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(errPtr)
            withUnsafeMutablePointer(to: &selfArg) { sp in
                withUnsafeMutablePointer(to: &errArg) { ep in
                    func call(_ vp: UnsafeMutableRawPointer) {
                        var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(sp), vp, UnsafeMutableRawPointer(ep)]
                        args.withUnsafeMutableBufferPointer { ffi_call(&cif, fnPtr, &result, $0.baseAddress) }
                    }
                    switch type {
                    case .int64: withUnsafeMutablePointer(to: &i64) { call(UnsafeMutableRawPointer($0)) }
                    case .double: withUnsafeMutablePointer(to: &dbl) { call(UnsafeMutableRawPointer($0)) }
                    case .float: withUnsafeMutablePointer(to: &flt) { call(UnsafeMutableRawPointer($0)) }
                    case .bool: withUnsafeMutablePointer(to: &bool) { call(UnsafeMutableRawPointer($0)) }
                    case .string: withUnsafeMutablePointer(to: &str) { call(UnsafeMutableRawPointer($0)) }
                    }
                }
            }
        }
        let status = Int32(truncatingIfNeeded: result)
        if status != LK_OK {
            let message = readError(err)
            throw HostError(message.isEmpty ? "the setter refused the value (status \(status))" : message)
        }
    }

    /// `T getter(void *self)`, returned as a Double for logging.
    static func callGetter(_ fn: UnsafeMutableRawPointer, instance: UnsafeMutableRawPointer, type: OptionType) -> Double {
        var argTypes: [UnsafeMutablePointer<ffi_type>?] = [lk_ffi_type_pointer()]
        var cif = ffi_cif()
        let prepared = argTypes.withUnsafeMutableBufferPointer { lk_ffi_prep_cif(&cif, 1, ffiType(type), $0.baseAddress) }
        guard prepared == FFI_OK else { return .nan }
        var selfArg: UnsafeMutableRawPointer? = instance
        var slot = (UInt64(0), UInt64(0))  // large enough for any scalar return
        let fnPtr = unsafeBitCast(fn, to: (@convention(c) () -> Void).self)
        withUnsafeMutablePointer(to: &selfArg) { sp in
            var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(sp)]
            withUnsafeMutableBytes(of: &slot) { raw in
                args.withUnsafeMutableBufferPointer { ffi_call(&cif, fnPtr, raw.baseAddress, $0.baseAddress) }
            }
        }
        return withUnsafeBytes(of: &slot) { raw in
            switch type {
            case .int64: return Double(raw.load(as: Int64.self))
            case .double: return raw.load(as: Double.self)
            case .float: return Double(raw.load(as: Float.self))
            case .bool: return raw.load(as: UInt8.self) != 0 ? 1 : 0
            case .string: return .nan
            }
        }
    }
}
