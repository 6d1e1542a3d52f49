import LossKitFormats

/// Per-channel statistics of a data set's pixels, for input normalisation.
///
/// Models train best on inputs of roughly zero mean and unit variance, so each channel is
/// normalised as `(pixel/255 - mean) / std`. Well-known data sets come with published
/// constants (see `DataSource.normalization`); for anything else they are computed here
/// from the training pixels, the same way those constants were: over every pixel of every
/// training image, per channel, on the 0...1 scale, with the population standard deviation.
public enum Normalization {
    /// Mean and standard deviation of each channel of `dataset`'s pixels divided by 255.
    ///
    /// Exact and order-independent: it counts how often each of the 256 byte values occurs
    /// per channel and sums those counts in Double, so the result does not depend on how the
    /// pixels are arranged and costs one pass over the bytes. An empty data set gives mean 0
    /// and std 1 (no change to the inputs); a channel with a single constant value gets std 1
    /// instead of 0, so that normalising never divides by zero.
    public static func compute(_ dataset: ImageDataset) -> (mean: [Float], std: [Float]) {
        let channels = dataset.channels
        let plane = dataset.height * dataset.width
        var histogram = [Int](repeating: 0, count: channels * 256)
        dataset.pixels.withUnsafeBufferPointer { px in
            histogram.withUnsafeMutableBufferPointer { h in
                for image in 0 ..< dataset.count {
                    for c in 0 ..< channels {
                        let start = (image * channels + c) * plane
                        let bins = h.baseAddress! + c * 256
                        for i in start ..< start + plane { bins[Int(px[i])] += 1 }
                    }
                }
            }
        }
        var mean = [Float](repeating: 0, count: channels)
        var std = [Float](repeating: 1, count: channels)
        let n = Double(dataset.count * plane)
        guard n > 0 else { return (mean, std) }
        for c in 0 ..< channels {
            let bins = histogram[c * 256 ..< (c + 1) * 256]
            var sum = 0.0
            for (value, count) in zip(0..., bins) { sum += Double(value) / 255 * Double(count) }
            let m = sum / n
            var squares = 0.0
            for (value, count) in zip(0..., bins) {
                let d = Double(value) / 255 - m
                squares += d * d * Double(count)
            }
            let s = (squares / n).squareRoot()
            mean[c] = Float(m)
            std[c] = s > 0 ? Float(s) : 1
        }
        return (mean, std)
    }
}
