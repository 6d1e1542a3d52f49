import Foundation
import LossKitCore
import LossKitFormats

/// Random-resized crops: drawing the window and resampling it to the image size.
extension BatchAssembler {
    /// One resized-crop window in padded coordinates, torchvision's `RandomResizedCrop.get_params`:
    /// up to ten tries of an area fraction `uniform(minScale, 1)` and a log-uniform aspect ratio in
    /// `Augmentation.cropRatios` (width = round(√(area·ratio)), height = round(√(area/ratio))),
    /// keeping the first that fits, placed with `below(H' - height + 1)` then `below(W' - width + 1)`;
    /// if none fits, the whole padded image. Draws per try: scale, ratio (two `uniform()`s).
    func resizedCropWindow(padding p: Int, minScale: Float, random: RandomGenerator) -> AugmentationDraw {
        let ph = dataset.height + 2 * p, pw = dataset.width + 2 * p
        let area = Float(ph * pw)
        let logLow = Foundation.log(Augmentation.cropRatios.lowerBound), logHigh = Foundation.log(Augmentation.cropRatios.upperBound)
        for _ in 0 ..< 10 {
            let target = area * random.uniform(minScale, 1)
            let ratio = Foundation.exp(random.uniform(logLow, logHigh))
            let w = Int((target * ratio).squareRoot().rounded()), h = Int((target / ratio).squareRoot().rounded())
            if w >= 1, w <= pw, h >= 1, h <= ph {
                let top = random.below(ph - h + 1), left = random.below(pw - w + 1)
                return AugmentationDraw(top: top, left: left, flip: false, height: h, width: w)
            }
        }
        return AugmentationDraw(top: 0, left: 0, flip: false, height: ph, width: pw)
    }

    /// Writes one image resampled from the draw's window of the padded source: bilinear, with
    /// source coordinate `(out + 0.5)·window/size - 0.5` clamped at the window's edges
    /// (PyTorch's `align_corners = false`). Interpolating normalised values equals interpolating
    /// raw ones and normalising, as normalisation is affine. Padding pixels are raw 0.
    static func fillResized(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<UInt8>,
                            lut: UnsafePointer<Float>, channels: Int, height h: Int, width w: Int,
                            padding p: Int, draw: AugmentationDraw) {
        let wh = draw.height ?? h, ww = draw.width ?? w
        /// For each output index: the two padded source indices and the weight of the second.
        func taps(out n: Int, window: Int, origin: Int) -> [(Int, Int, Float)] {
            let scale = Float(window) / Float(n)
            return (0 ..< n).map { o in
                let s = max(0, (Float(o) + 0.5) * scale - 0.5)
                let i0 = min(Int(s), window - 1), i1 = min(i0 + 1, window - 1)
                return (origin + i0, origin + i1, s - Float(i0))
            }
        }
        let rows = taps(out: h, window: wh, origin: draw.top), cols = taps(out: w, window: ww, origin: draw.left)
        for c in 0 ..< channels {
            let channelLUT = lut + c * 256
            let black = channelLUT[0]
            let plane = src + c * h * w
            @inline(__always) func value(_ py: Int, _ px: Int) -> Float {
                let y = py - p, x = px - p
                return y >= 0 && y < h && x >= 0 && x < w ? channelLUT[Int(plane[y * w + x])] : black
            }
            for y in 0 ..< h {
                let (y0, y1, fy) = rows[y]
                let row = dst + (c * h + y) * w
                for x in 0 ..< w {
                    let (x0, x1, fx) = cols[x]
                    let top = value(y0, x0) + fx * (value(y0, x1) - value(y0, x0))
                    let bottom = value(y1, x0) + fx * (value(y1, x1) - value(y1, x0))
                    row[draw.flip ? w - 1 - x : x] = top + fy * (bottom - top)
                }
            }
        }
    }
}
