import LossKitData
import LossKitFormats
import LossKitTestSupport
import XCTest

final class DataSourceTests: XCTestCase {
    func testParseAcceptsEveryDocumentedFormAndDescriptionParsesBack() throws {
        let cases: [(String, DataSource.Kind, String?)] = [
            ("fashion-mnist", .fashionMNIST, nil),
            ("fashion-mnist:/data/fm", .fashionMNIST, "/data/fm"),
            ("mnist:/data/mnist", .mnist, "/data/mnist"),
            ("idx:relative/dir", .idx, "relative/dir"),
            ("cifar10:/data/cifar", .cifar10, "/data/cifar"),
        ]
        for (text, kind, directory) in cases {
            let source = try DataSource.parse(text)
            XCTAssertEqual(source, DataSource(kind: kind, directory: directory), text)
            XCTAssertEqual(source.description, text)
            XCTAssertEqual(try DataSource.parse(source.description), source)
        }
    }

    func testParseTrimsSurroundingSpaceIgnoresKindCaseAndKeepsColonsInTheFolder() throws {
        XCTAssertEqual(try DataSource.parse("  CIFAR10:/a:b/c \n"), DataSource(kind: .cifar10, directory: "/a:b/c"))
    }

    func testParseRejectsAnUnknownKindListingTheAcceptedForms() {
        let message = errorMessage { _ = try DataSource.parse("svhn:/data") }
        XCTAssertTrue(message.contains("'svhn:/data'"), message)
        for form in ["fashion-mnist", "fashion-mnist:DIR", "mnist:DIR", "idx:DIR", "cifar10:DIR"] {
            XCTAssertTrue(message.contains(form), "\(form) missing from: \(message)")
        }
        XCTAssertTrue(errorMessage { _ = try DataSource.parse("") }.contains("idx:DIR"))
    }

    func testParseRejectsAMissingOrEmptyFolder() {
        for text in ["mnist", "idx", "cifar10"] {
            let message = errorMessage { _ = try DataSource.parse(text) }
            XCTAssertTrue(message.contains("\(text):DIR"), message)
        }
        for text in ["idx:", "fashion-mnist:"] {
            let message = errorMessage { _ = try DataSource.parse(text) }
            XCTAssertTrue(message.contains("empty"), message)
        }
    }

    private func checkIDXFolderLoads(gzip: Bool) throws {
        let folder = try TemporaryFolders.make("data")
        let train = IDXSplitFixture(labels: [0, 2, 1, 2, 0], height: 3, width: 4, salt: 0)
        let test = IDXSplitFixture(labels: [1, 4], height: 3, width: 4, salt: 100)
        try writeIDXFolder(folder, train: train, test: test, gzip: gzip)
        let source = try DataSource.parse("idx:" + folder)
        for (split, fixture) in [(DatasetSplit.train, train), (.test, test)] {
            let data = try source.load(split)
            XCTAssertEqual([data.count, data.channels, data.height, data.width], [fixture.labels.count, 1, 3, 4])
            XCTAssertEqual(data.pixels, fixture.pixels)
            XCTAssertEqual(data.labels, fixture.labels.map(Int32.init))
            // The largest label of either split (4, in the test file) fixes the class count of both.
            XCTAssertEqual(data.classCount, 5, "\(split)")
        }
    }

    func testIdxFolderOfPlainFilesLoadsBothSplits() throws {
        try checkIDXFolderLoads(gzip: false)
    }

    func testIdxFolderOfGzippedFilesLoadsBothSplits() throws {
        try checkIDXFolderLoads(gzip: true)
    }

    func testMnistFolderHasTenDigitClasses() throws {
        let folder = try TemporaryFolders.make("data")
        let split = IDXSplitFixture(labels: [3, 9], height: 2, width: 2, salt: 1)
        try writeIDXFolder(folder, train: split, test: split, gzip: true)
        let data = try DataSource.parse("mnist:" + folder).load(.test)
        XCTAssertEqual(data.classCount, 10)
        XCTAssertEqual(data.classNames, (0 ..< 10).map(String.init))
        XCTAssertEqual(data.pixels, split.pixels)
    }

    func testACorruptTrainingLabelThatWouldAddClassesIsRefusedByIndex() throws {
        let folder = try TemporaryFolders.make("data")
        let train = IDXSplitFixture(labels: [0, 2, 1, 200, 0], height: 2, width: 2, salt: 0)
        let test = IDXSplitFixture(labels: [1, 2], height: 2, width: 2, salt: 1)
        try writeIDXFolder(folder, train: train, test: test, gzip: false)
        for split in [DatasetSplit.train, .test] {
            let message = errorMessage { _ = try DataSource.parse("idx:" + folder).load(split) }
            XCTAssertEqual(message, "IDX data (\(folder)): the training labels run up to 200 but no training image has class 3, 4, 5, 6, 7, … (197 in all); "
                           + "classes are 0...the largest label, so a label of 200 (the first at index 3 of \(folder)/train-labels-idx1-ubyte) is likely corrupt")
        }
    }

    /// The files' own faults come before the class check: a truncated image file is named as
    /// truncated, not as the class gap its labels might suggest.
    func testATruncatedImageFileIsNamedBeforeAnyLabelCheck() throws {
        let folder = try TemporaryFolders.make("data")
        let train = IDXSplitFixture(labels: [0, 2, 1, 200, 0], height: 2, width: 2, salt: 0)
        try writeIDXFolder(folder, train: train, test: train, gzip: false)
        let images = folder + "/train-images-idx3-ubyte"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: images))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: images))
        let message = errorMessage { _ = try DataSource.parse("idx:" + folder).load(.train) }
        XCTAssertTrue(message.hasPrefix("\(images): truncated: header promises 20 data bytes"), message)
    }

    func testAFolderWhereAnIDXFileShouldBeIsNamedAsAFolder() throws {
        let folder = try TemporaryFolders.make("data")
        let split = IDXSplitFixture(labels: [1], height: 2, width: 2, salt: 0)
        try writeIDXFolder(folder, train: split, test: split, gzip: false, skip: ["train-labels-idx1-ubyte"])
        try FileManager.default.createDirectory(atPath: folder + "/train-labels-idx1-ubyte", withIntermediateDirectories: false)
        let message = errorMessage { _ = try DataSource.parse("idx:" + folder).load(.train) }
        XCTAssertEqual(message, "IDX data in \(folder): \(folder)/train-labels-idx1-ubyte is a folder; expected the IDX file train-labels-idx1-ubyte (plain or gzipped)")
    }

    func testAnEmptySplitIsRefused() throws {
        let folder = try TemporaryFolders.make("data")
        try writeIDXFolder(folder, train: IDXSplitFixture(labels: [], height: 2, width: 2, salt: 0),
                           test: IDXSplitFixture(labels: [0], height: 2, width: 2, salt: 1), gzip: false)
        let message = errorMessage { _ = try DataSource.parse("idx:" + folder).load(.train) }
        XCTAssertTrue(message.hasSuffix("the file holds no images; a train split needs at least one"), message)
    }

    func testMissingIdxFileIsNamedWithItsFolder() throws {
        let folder = try TemporaryFolders.make("data")
        let split = IDXSplitFixture(labels: [1], height: 2, width: 2, salt: 0)
        try writeIDXFolder(folder, train: split, test: split, gzip: false, skip: ["train-labels-idx1-ubyte"])
        let message = errorMessage { _ = try DataSource.parse("idx:" + folder).load(.train) }
        XCTAssertTrue(message.contains(folder), message)
        XCTAssertTrue(message.contains("neither train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz"), message)
        // The test split is complete and still loads.
        XCTAssertEqual(try DataSource.parse("idx:" + folder).load(.test).count, 1)
    }

    func testMissingFolderMessagesComeFromTheFormatReaders() throws {
        let missing = try TemporaryFolders.make("data") + "/absent"
        let fashion = errorMessage { _ = try DataSource.parse("fashion-mnist:" + missing).load(.train) }
        XCTAssertTrue(fashion.contains("apt-get install dataset-fashion-mnist"), fashion)
        XCTAssertTrue(fashion.contains("the directory does not exist"), fashion)
        let cifar = errorMessage { _ = try DataSource.parse("cifar10:" + missing).load(.test) }
        XCTAssertTrue(cifar.hasPrefix("CIFAR-10 not found in \(missing)"), cifar)
        let mnist = errorMessage { _ = try DataSource.parse("mnist:" + missing).load(.train) }
        XCTAssertTrue(mnist.hasPrefix("MNIST not found in \(missing): the directory does not exist"), mnist)
    }

    func testNormalizationConstantsAndFlipPolicyFollowTheKind() throws {
        let fashion = try XCTUnwrap(try DataSource.parse("fashion-mnist").normalization)
        XCTAssertEqual(fashion.mean, [0.2860]); XCTAssertEqual(fashion.std, [0.3530])
        let mnist = try XCTUnwrap(try DataSource.parse("mnist:/m").normalization)
        XCTAssertEqual(mnist.mean, [0.1307]); XCTAssertEqual(mnist.std, [0.3081])
        let cifar = try XCTUnwrap(try DataSource.parse("cifar10:/c").normalization)
        XCTAssertEqual(cifar.mean, [0.4914, 0.4822, 0.4465]); XCTAssertEqual(cifar.std, [0.2470, 0.2435, 0.2616])
        XCTAssertNil(try DataSource.parse("idx:/i").normalization)

        XCTAssertTrue(try DataSource.parse("fashion-mnist").allowsHorizontalFlip)
        XCTAssertTrue(try DataSource.parse("cifar10:/c").allowsHorizontalFlip)
        XCTAssertFalse(try DataSource.parse("mnist:/m").allowsHorizontalFlip)
        XCTAssertFalse(try DataSource.parse("idx:/i").allowsHorizontalFlip)
    }

    func testIdxNormalizationIsComputedFromTheTrainingSetWhileKnownKindsKeepTheirConstants() throws {
        let data = try ImageDataset(name: "t", count: 2, channels: 1, height: 1, width: 2,
                                    pixels: [0, 255, 255, 255], labels: [0, 0], classCount: 1, classNames: ["a"])
        let idx = try DataSource.parse("idx:/i").normalization(of: data)
        XCTAssertEqual(idx.mean[0], 0.75, accuracy: 1e-6)
        XCTAssertEqual(idx.std[0], Float(0.1875.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(try DataSource.parse("mnist:/m").normalization(of: data).mean, [0.1307])
    }

    /// Uses Debian's dataset-fashion-mnist when it is installed; the other tests never need it.
    func testFashionMNISTFromTheDebianPackageLoadsAndSplits() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory),
                          "dataset-fashion-mnist is not installed")
        let source = try DataSource.parse("fashion-mnist")
        let train = try source.load(.train)
        let test = try source.load(.test)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(test.count, 10000)
        let split = try LabelledSplit.choose(labels: train.labels, classes: train.classCount, perClass: 100, seed: 1)
        XCTAssertEqual(split.labelledIndices.count, 1000)
        // The published constants are the statistics of these very pixels.
        let computed = Normalization.compute(train)
        XCTAssertEqual(computed.mean[0], 0.2860, accuracy: 1e-4)
        XCTAssertEqual(computed.std[0], 0.3530, accuracy: 1e-4)
    }
}
