/// Brightness and contrast jitter of one assembled image.
extension BatchAssembler {
    /// Applies the draw's brightness then contrast factor to an image already written in
    /// normalised values, working on raw values in [0, 1] (`v·std + mean`) so the clamping is
    /// torchvision's, then normalising again. The contrast pivot is the mean raw value of the
    /// brightened image over all channels.
    func jitter(_ image: UnsafeMutablePointer<Float>, plane: Int, draw: AugmentationDraw) {
        let channels = mean.count
        var total: Float = 0
        for c in 0 ..< channels {
            let m = mean[c], s = std[c], p = image + c * plane
            for i in 0 ..< plane {
                let raw = min(max((p[i] * s + m) * draw.brightness, 0), 1)
                p[i] = raw
                total += raw
            }
        }
        let pivot = total / Float(channels * plane)
        let k = draw.contrast, offset = (1 - draw.contrast) * pivot
        for c in 0 ..< channels {
            let m = mean[c], inv = 1 / std[c], p = image + c * plane
            for i in 0 ..< plane { p[i] = (min(max(k * p[i] + offset, 0), 1) - m) * inv }
        }
    }
}
