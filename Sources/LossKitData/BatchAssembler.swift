import LossKitCore
import LossKitFormats

/// Turns data-set rows into the model's input: a `[B, C, H, W]` float tensor of augmented,
/// normalised images, and the matching labels.
///
/// Each pixel becomes `(raw/255 - mean[c]) / std[c]`, the `ToTensor` + `Normalize` convention,
/// through a 256-entry table per channel, so a pixel costs one load and the values are exactly
/// what that formula gives in Float. Padding added by a random crop is raw 0 (black), i.e. the
/// table's entry for 0, as torchvision pads before normalising.
///
/// Randomness: for each image in order, `images(_:augmentation:random:)` draws the crop window
/// (a resized crop's, see `resizedCropWindow`, if `cropScale > 0`; otherwise the offset, `top`
/// then `left`, each `random.below(2P + 1)`, if `P > 0`), then the flip (`random.below(2) == 1`)
/// if flipping, then brightness and contrast (`random.uniform(1 - j, 1 + j)` each) if
/// jittering; nothing is drawn for `Augmentation.none`. All draws
/// happen before any pixel is written, and images are then filled in parallel with
/// `parallelFor`, each by one thread, so the result depends only on the generator's state, not
/// on the thread count.
public struct BatchAssembler {
    public let dataset: ImageDataset
    public let mean: [Float]
    public let std: [Float]
    /// `table[c * 256 + v]` is the normalised value of raw byte `v` in channel `c`.
    private let table: [Float]

    /// `mean` and `std` need one value per channel, every `std` positive.
    public init(dataset: ImageDataset, mean: [Float], std: [Float]) {
        precondition(mean.count == dataset.channels && std.count == dataset.channels,
                     "BatchAssembler: \(dataset.name) has \(dataset.channels) channels but \(mean.count) means and \(std.count) standard deviations were given")
        precondition(std.allSatisfy { $0 > 0 }, "BatchAssembler: standard deviations must be positive, got \(std)")
        self.dataset = dataset
        self.mean = mean
        self.std = std
        var table = [Float](repeating: 0, count: dataset.channels * 256)
        for c in 0 ..< dataset.channels {
            for v in 0 ..< 256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
        }
        self.table = table
    }

    /// The normalised values of raw 0 and raw 255: the smallest over channels of the first and
    /// the largest over channels of the second. Every input value lies in this range (useful to
    /// clamp generated images, or to map inputs back to pixels for display).
    public var pixelRange: (min: Float, max: Float) {
        let channels = 0 ..< dataset.channels
        return (channels.map { table[$0 * 256] }.min()!, channels.map { table[$0 * 256 + 255] }.max()!)
    }

    /// The images at `indices`, in that order, augmented with draws from `random`.
    public func images(_ indices: [Int], augmentation: Augmentation, random: RandomGenerator) -> Tensor {
        images(indices, cropPadding: augmentation.cropPadding,
               draws: draws(count: indices.count, augmentation: augmentation, random: random))
    }

    /// The draws `images(_:augmentation:random:)` makes for `count` images, in its order.
    public func draws(count: Int, augmentation: Augmentation, random: RandomGenerator) -> [AugmentationDraw] {
        let p = augmentation.cropPadding
        var result = [AugmentationDraw](repeating: .identity(padding: p), count: count)
        if augmentation.isIdentity { return result }
        for i in 0 ..< count {
            if augmentation.cropScale > 0 {
                result[i] = resizedCropWindow(padding: p, minScale: augmentation.cropScale, random: random)
            } else if p > 0 {
                result[i].top = random.below(2 * p + 1)
                result[i].left = random.below(2 * p + 1)
            }
            if augmentation.horizontalFlip { result[i].flip = random.below(2) == 1 }
            if augmentation.jitter > 0 {
                let j = augmentation.jitter
                result[i].brightness = random.uniform(1 - j, 1 + j)
                result[i].contrast = random.uniform(1 - j, 1 + j)
            }
        }
        return result
    }

    /// The images at `indices` with explicit crop offsets and flips, one draw per image: the
    /// deterministic core that the random version calls, public so tests and tools can place
    /// a crop exactly. Each window must lie inside the padded image: for a plain crop `top` and
    /// `left` in `0...2 * cropPadding`.
    public func images(_ indices: [Int], cropPadding: Int, draws: [AugmentationDraw]) -> Tensor {
        precondition(draws.count == indices.count, "BatchAssembler: \(indices.count) images but \(draws.count) augmentation draws")
        precondition(cropPadding >= 0, "BatchAssembler: cropPadding must not be negative")
        let (c, h, w) = (dataset.channels, dataset.height, dataset.width)
        let plane = h * w, imageSize = c * plane
        for (i, d) in zip(indices, draws) {
            precondition(i >= 0 && i < dataset.count, "BatchAssembler: index \(i) is outside 0..<\(dataset.count)")
            let wh = d.height ?? h, ww = d.width ?? w
            precondition(wh >= 1 && ww >= 1 && d.top >= 0 && d.left >= 0 && d.top + wh <= h + 2 * cropPadding && d.left + ww <= w + 2 * cropPadding,
                         "BatchAssembler: crop window \(wh)×\(ww) at (\(d.top), \(d.left)) is outside the \(h + 2 * cropPadding)×\(w + 2 * cropPadding) padded image")
        }
        let out = Tensor(uninitialized: [indices.count, c, h, w])
        let dst = out.data
        dataset.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                indices.withUnsafeBufferPointer { indices in
                    draws.withUnsafeBufferPointer { draws in
                        let src = pixels.baseAddress!, lut = table.baseAddress!
                        parallelFor(indices.count, minChunk: 16) { start, end in
                            for b in start ..< end where draws[b].height != nil || draws[b].width != nil {
                                Self.fillResized(dst + b * imageSize, from: src + indices[b] * imageSize, lut: lut,
                                                 channels: c, height: h, width: w, padding: cropPadding, draw: draws[b])
                            }
                            for b in start ..< end where draws[b].height == nil && draws[b].width == nil {
                                Self.fill(dst + b * imageSize, from: src + indices[b] * imageSize, lut: lut,
                                          channels: c, height: h, width: w, padding: cropPadding, draw: draws[b])
                            }
                            for b in start ..< end where draws[b].brightness != 1 || draws[b].contrast != 1 {
                                jitter(dst + b * imageSize, plane: plane, draw: draws[b])
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Writes one image. Rows and columns that come from the padding get the table's value for
    /// raw 0; the rest is a table look-up of the shifted (and possibly mirrored) source row.
    @inline(__always)
    private static func fill(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<UInt8>,
                             lut: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                             padding p: Int, draw: AugmentationDraw) {
        let dy = draw.top - p, dx = draw.left - p
        // Output columns x whose source column x + dx (before mirroring) lies inside the image.
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        for c in 0 ..< channels {
            let channelLUT = lut + c * 256
            let black = channelLUT[0]
            for y in 0 ..< h {
                let row = dst + (c * h + y) * w
                let sy = y + dy
                guard sy >= 0, sy < h, x0 < x1 else {
                    row.update(repeating: black, count: w)
                    continue
                }
                let srcRow = src + (c * h + sy) * w
                if draw.flip {
                    // Cropped column x lands at w - 1 - x after mirroring.
                    for x in 0 ..< x0 { row[w - 1 - x] = black }
                    for x in x0 ..< x1 { row[w - 1 - x] = channelLUT[Int(srcRow[x + dx])] }
                    for x in x1 ..< w { row[w - 1 - x] = black }
                } else {
                    for x in 0 ..< x0 { row[x] = black }
                    for x in x0 ..< x1 { row[x] = channelLUT[Int(srcRow[x + dx])] }
                    for x in x1 ..< w { row[x] = black }
                }
            }
        }
    }

    /// The labels of the images at `indices`.
    public func labels(_ indices: [Int]) -> [Int32] {
        indices.map { dataset.labels[$0] }
    }

    /// The labels of a sampled batch, with -1 on unlabelled rows so that no code can train on a
    /// hidden label by mistake.
    public func labels(_ batch: SampledBatch) -> [Int32] {
        zip(batch.indices, batch.labelled).map { $1 ? dataset.labels[$0] : -1 }
    }
}
