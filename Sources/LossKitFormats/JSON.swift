/// A small JSON (RFC 8259) reader and string escaper for the safetensors header.
///
/// Foundation's JSONSerialization would work, but it discards key order (entries should
/// come back in file order), silently keeps the last of duplicate keys, and on Linux hands
/// back NSNumber, where `true`, `2.0` and `2` are hard to tell apart. A header is a few
/// kilobytes of simple JSON, so a strict reader that keeps order, rejects duplicates and
/// keeps numbers as their literal text is less code than working around those.
indirect enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// A non-negative integer written without fraction or exponent, the only kind of
    /// number safetensors uses.
    var nonNegativeInt: Int? {
        guard case let .number(text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }
}

struct JSONError: Error {
    let offset: Int
    let reason: String
}

struct JSONParser {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0

    static func parse(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { p in
            var parser = JSONParser(b: p)
            parser.skipSpace()
            let value = try parser.value()
            parser.skipSpace()
            if parser.i != p.count { throw JSONError(offset: parser.i, reason: "unexpected '\(parser.printable(parser.i))' after the top-level value") }
            return value
        }
    }

    private init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private func printable(_ at: Int) -> String {
        at < b.count ? String(decoding: [b[at]], as: UTF8.self) : "end of input"
    }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard i < b.count, b[i] == c else {
            throw JSONError(offset: i, reason: "expected '\(String(UnicodeScalar(c)))', found \(i < b.count ? "'\(printable(i))'" : "end of input")")
        }
        i += 1
    }

    private mutating func value() throws -> JSONValue {
        guard i < b.count else { throw JSONError(offset: i, reason: "unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw JSONError(offset: i, reason: "nesting deeper than 64 levels") }
            i += 1
            var members: [(String, JSONValue)] = []
            var seen = Set<String>()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipSpace()
                let keyOffset = i
                let key = try string()
                guard seen.insert(key).inserted else { throw JSONError(offset: keyOffset, reason: "duplicate key \"\(key)\"") }
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                members.append((key, try value()))
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(members)
            }
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw JSONError(offset: i, reason: "nesting deeper than 64 levels") }
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(items)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
            return .number(try number())
        default:
            throw JSONError(offset: i, reason: "unexpected '\(printable(i))' where a value was expected")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: n)
        guard i + n <= b.count, (0 ..< n).allSatisfy({ b[i + $0] == expected[$0] }) else {
            throw JSONError(offset: i, reason: "invalid literal, expected \(word)")
        }
        i += n
    }

    private mutating func number() throws -> String {
        let start = i
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.b.count, p.b[p.i] >= 48, p.b[p.i] <= 57 { p.i += 1 }
            return p.i - s
        }
        if b[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        let intDigits = digits(&self)
        guard intDigits > 0 else { throw JSONError(offset: i, reason: "malformed number") }
        if intDigits > 1 && b[intStart] == 48 { throw JSONError(offset: intStart, reason: "number with a leading zero") }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw JSONError(offset: i, reason: "malformed number: no digits after '.'") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw JSONError(offset: i, reason: "malformed number: no digits in exponent") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start ..< i]), as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw JSONError(offset: i, reason: "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0 ..< 4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case 48 ... 57: d = c - 48
            case 65 ... 70: d = c - 55
            case 97 ... 102: d = c - 87
            default: throw JSONError(offset: i, reason: "invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        var runStart = i
        while true {
            guard i < b.count else { throw JSONError(offset: i, reason: "unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart ..< i]))
                i += 1
                break
            }
            if c < 0x20 { throw JSONError(offset: i, reason: "unescaped control character in string") }
            if c != UInt8(ascii: "\\") { i += 1; continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart ..< i]))
            i += 1
            guard i < b.count else { throw JSONError(offset: i, reason: "unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let escapeAt = i - 2
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw JSONError(offset: escapeAt, reason: "unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw JSONError(offset: escapeAt, reason: "invalid surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw JSONError(offset: escapeAt, reason: "unpaired surrogate in \\u escape")
                }
                out.append(contentsOf: Array(String(Character(UnicodeScalar(scalar)!)).utf8))
            default:
                throw JSONError(offset: i - 1, reason: "invalid escape '\\\(printable(i - 1))'")
            }
            runStart = i
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw JSONError(offset: i, reason: "string is not valid UTF-8")
        }
        return s
    }

    /// Escapes `s` as a JSON string literal, including the quotes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                out += "\\u00" + hexByte(UInt8(u.value))
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
