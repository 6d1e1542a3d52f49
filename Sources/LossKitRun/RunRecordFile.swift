import Foundation
import LossKitFormats

/// A JSON record a run folder keeps (plugins.json, inversion/inversion.json, samples/samples.json):
/// read back as nil when absent or damaged (a run written before it was kept), written atomically
/// with sorted keys.
public protocol RunRecordFile: Codable {
    /// Where the record lives in a run folder (see RunFolder).
    static func path(in folder: String) -> String
}

extension RunRecordFile {
    public static func read(folder: String) -> Self? {
        FileManager.default.contents(atPath: path(in: folder)).flatMap { try? JSONDecoder().decode(Self.self, from: $0) }
    }

    public func write(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(Array(encoder.encode(self)), to: Self.path(in: folder))
    }
}
