import CLossKitABI
import Foundation
import LossKitCore

/// Conversions between host objects and the opaque C handles of losskit.h. A handle is the
/// object's address, unretained: whoever hands it out keeps the object alive for as long as
/// the header promises the handle is valid (the graph for nodes and taps, the instance context
/// for parameters and states).
@inline(__always) func handle(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passUnretained(object).toOpaque())
}

@inline(__always) func object<T: AnyObject>(_ pointer: OpaquePointer, as: T.Type) -> T {
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

/// A non-trained tensor that a plugin owns through the host: saved in checkpoints by name.
public final class StateTensor {
    public let name: String
    public let value: Tensor
    init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }
}

/// The named outputs of one encoder pass.
public final class TapSet {
    public private(set) var names: [String] = []
    public private(set) var nodes: [Node] = []
    private var cNames: [UnsafeMutablePointer<CChar>] = []

    public init() {}
    deinit { cNames.forEach { free($0) } }

    public func emit(_ name: String, _ node: Node) {
        if let i = names.firstIndex(of: name) {
            nodes[i] = node
        } else {
            names.append(name)
            nodes.append(node)
            cNames.append(strdup(name))
        }
    }

    public subscript(name: String) -> Node? {
        names.firstIndex(of: name).map { nodes[$0] }
    }

    func cName(_ i: Int) -> UnsafePointer<CChar>? {
        i >= 0 && i < cNames.count ? UnsafePointer(cNames[i]) : nil
    }

    /// Tap names matching a pattern where '*' matches any run of characters ("pool*").
    public func matching(_ pattern: String) -> [String] {
        names.filter { tapNameMatches($0, pattern) }
    }
}

/// Glob match with '*' only, as loss expressions and `taps_read` use it.
public func tapNameMatches(_ name: String, _ pattern: String) -> Bool {
    guard pattern.contains("*") else { return name == pattern }
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    var rest = Substring(name)
    for (i, part) in parts.enumerated() {
        if i == 0 {
            guard rest.hasPrefix(part) else { return false }
            rest = rest.dropFirst(part.count)
        } else if i == parts.count - 1 {
            return part.isEmpty || rest.hasSuffix(part)
        } else if let r = rest.range(of: part) {
            rest = rest[r.upperBound...]
        } else {
            return false
        }
    }
    return rest.isEmpty
}
