#if canImport(Glibc)
import Glibc
import LossKitFormats
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder holding the four MNIST-layout IDX files, each plain or gzipped.
///
/// Finds the files for a split and, when one is missing, says which, in which folder, and what
/// the folder must hold, in the style of the Formats readers' messages. `dataName` ("MNIST",
/// "IDX data") starts the message so the user sees which `--data` form was being loaded.
struct IDXFolder {
    let directory: String
    let dataName: String

    init(_ directory: String, dataName: String) {
        self.directory = directory
        self.dataName = dataName
    }

    static func imagesName(_ split: DatasetSplit) -> String { "\(prefix(split))-images-idx3-ubyte" }
    static func labelsName(_ split: DatasetSplit) -> String { "\(prefix(split))-labels-idx1-ubyte" }
    private static func prefix(_ split: DatasetSplit) -> String { split == .train ? "train" : "t10k" }

    func files(_ split: DatasetSplit) throws -> (images: String, labels: String) {
        (try locate(Self.imagesName(split)), try locate(Self.labelsName(split)))
    }

    /// The path of `base` or `base.gz` in the folder, the plain file first, if either exists.
    func existing(_ base: String) -> String? {
        [base, base + ".gz"].map { directory + "/" + $0 }.first(where: pathIsFile)
    }

    private func locate(_ base: String) throws -> String {
        if let path = existing(base) { return path }
        // something by that name that is not a file is named as what it is, not as missing
        if let odd = [base, base + ".gz"].map({ directory + "/" + $0 }).first(where: pathIsDirectory) {
            throw DataError("\(dataName) in \(directory): \(odd) is a folder; expected the IDX file \(base) (plain or gzipped)")
        }
        let why = pathIsDirectory(directory)
            ? "neither \(base) nor \(base).gz is there"
            : "the directory does not exist"
        let all = [DatasetSplit.train, .test].flatMap { [Self.imagesName($0), Self.labelsName($0)] }
        throw DataError("\(dataName) not found in \(directory): \(why) (expected the four IDX files \(all.joined(separator: ", ")), each plain or gzipped)")
    }
}

private func pathIsFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR
}

private func pathIsDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

