import XCTest

/// Asserts that `body` throws an `E` whose message (its description) contains every one of
/// `parts`; fails naming what was thrown otherwise.
public func assertThrows<E: Error, T>(_ type: E.Type, _ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                                      _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected \(E.self) containing \(parts), nothing was thrown", file: file, line: line)
    } catch let error as E {
        let message = "\(error)"
        for part in parts where !message.contains(part) {
            XCTFail("\(E.self)'s message lacks \"\(part)\":\n  \(message)", file: file, line: line)
        }
    } catch {
        XCTFail("expected \(E.self), got \(Swift.type(of: error)): \(error)", file: file, line: line)
    }
}

/// `assertThrows` with the parts listed in place.
public func assertThrows<E: Error, T>(_ type: E.Type, _ parts: String..., file: StaticString = #filePath, line: UInt = #line,
                                      _ body: () throws -> T) {
    assertThrows(type, parts, file: file, line: line, body)
}

/// The message of the error `body` throws, failing the test if it throws none.
public func errorMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}
