import Foundation
import LossKitRun

/// A run's invertibility study as `losskit invert` leaves it in RUN/inversion: the table
/// (inversion.json) and one image per decoder, for `losskit report`.
public struct InversionRecord: RunRecordFile, Equatable {
    public static let folderName = RunFolder.inversionName
    public static let fileName = "inversion.json"
    /// The run's checkpoint step the study inverted.
    public var step: Int
    public var rows: [InversionStudy.Row]

    public init(step: Int, rows: [InversionStudy.Row]) {
        self.step = step
        self.rows = rows
    }

    /// "from-pool2--known.png"
    public static func imageName(_ row: InversionStudy.Row) -> String {
        "from-\(row.layer.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })--\(row.unpool).png"
    }

    public static func path(in folder: String) -> String { RunFolder(folder).inversion + "/" + fileName }
}
