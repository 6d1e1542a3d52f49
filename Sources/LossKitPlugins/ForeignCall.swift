import CFFI
import CLossKitABI
import CLossKitShims
import Foundation

/// Calls plugin functions whose signature is declared at run time (option setters and probe
/// getters) through libffi: the host cannot know at compile time whether a setter takes a
/// double or an int64, only the declaration says so. A 1.3 declaration's function also takes
/// the declaration's index, after `self`.
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

    /// `lk_status setter(void *self, T value, lk_error *err)`, or with `.address(index)`
    /// `lk_status set(void *self, int32_t index, T value, lk_error *err)`.
    static func callSetter(_ fn: UnsafeMutableRawPointer, call: DeclaredCall, instance: UnsafeMutableRawPointer, value: OptionValue, type: OptionType) throws {
        var index: Int32 = 0
        var argTypes: [UnsafeMutablePointer<ffi_type>?] = [lk_ffi_type_pointer(), ffiType(type), lk_ffi_type_pointer()]
        if case .address(let i) = call {
            index = i
            argTypes.insert(lk_ffi_type_sint32(), at: 1)
        }
        var cif = ffi_cif()
        let prepared = argTypes.withUnsafeMutableBufferPointer { lk_ffi_prep_cif(&cif, UInt32($0.count), lk_ffi_type_sint32(), $0.baseAddress) }
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
                        withUnsafeMutablePointer(to: &index) { ip in
                            var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(sp), vp, UnsafeMutableRawPointer(ep)]
                            if argTypes.count == 4 { args.insert(UnsafeMutableRawPointer(ip), at: 1) }
                            args.withUnsafeMutableBufferPointer { ffi_call(&cif, fnPtr, &result, $0.baseAddress) }
                        }
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

    /// `T getter(void *self)`, or with `.address(index)` `T get(void *self, int32_t index)`,
    /// returned as a Double for logging.
    static func callGetter(_ fn: UnsafeMutableRawPointer, call: DeclaredCall, instance: UnsafeMutableRawPointer, type: OptionType) -> Double {
        var index: Int32 = 0
        var argTypes: [UnsafeMutablePointer<ffi_type>?] = [lk_ffi_type_pointer()]
        if case .address(let i) = call {
            index = i
            argTypes.append(lk_ffi_type_sint32())
        }
        var cif = ffi_cif()
        let prepared = argTypes.withUnsafeMutableBufferPointer { lk_ffi_prep_cif(&cif, UInt32($0.count), ffiType(type), $0.baseAddress) }
        guard prepared == FFI_OK else { return .nan }
        var selfArg: UnsafeMutableRawPointer? = instance
        var slot = (UInt64(0), UInt64(0))  // large enough for any scalar return
        let fnPtr = unsafeBitCast(fn, to: (@convention(c) () -> Void).self)
        withUnsafeMutablePointer(to: &selfArg) { sp in
            withUnsafeMutablePointer(to: &index) { ip in
                var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(sp)]
                if argTypes.count == 2 { args.append(UnsafeMutableRawPointer(ip)) }
                withUnsafeMutableBytes(of: &slot) { raw in
                    args.withUnsafeMutableBufferPointer { ffi_call(&cif, fnPtr, raw.baseAddress, $0.baseAddress) }
                }
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
