/// The random image transformations applied to training inputs.
///
/// Without `cropScale` these follow torchvision's `RandomCrop(size, padding=P)` then
/// `RandomHorizontalFlip()` on a `ToTensor` image: the image is padded on every side with
/// `cropPadding` black pixels (raw 0, before normalisation), a window of the original size is
/// cut at a uniformly random offset in `0...2P` along each axis, and the result is mirrored
/// left-right with probability 1/2.
///
/// With `cropScale = s > 0` the crop is torchvision's `Pad(P)` then
/// `RandomResizedCrop(size, scale: (s, 1), ratio: (3/4, 4/3))`: a window covering a random
/// fraction of the padded image's area, of random aspect ratio, resized back to the image size
/// bilinearly. Instance-discrimination methods (NCE) need this much stronger view change: a
/// two-pixel shift leaves an image recognisable by its exact pixels.
///
/// With `jitter = j > 0`, torchvision's `ColorJitter(brightness: j, contrast: j)` in that order:
/// on raw values in [0, 1], `v·b` then `c·v + (1 - c)·mean(image)`, each clamped to [0, 1], with
/// `b` and `c` uniform in `[1 - j, 1 + j]` (the mean is over all channels: the grey-level mean
/// for one channel, a plain mean rather than torchvision's luminance for RGB). On grey images the
/// overall intensity is otherwise an easy cue for telling two instances apart.
/// Codable so a run's configuration can record exactly what was applied.
public struct Augmentation: Equatable, Codable, Sendable {
    /// Zero-padding in pixels on each side before the random crop; 0 disables the shifting crop.
    public var cropPadding: Int
    /// Mirror each image left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Smallest fraction of the (padded) image's area a random-resized crop keeps, in (0, 1];
    /// 0 turns the resized crop off.
    public var cropScale: Float
    /// Strength of the brightness and contrast jitter, in [0, 1); 0 turns it off.
    public var jitter: Float

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, cropScale: Float = 0, jitter: Float = 0) {
        precondition(cropPadding >= 0, "cropPadding must not be negative, got \(cropPadding)")
        precondition(cropScale >= 0 && cropScale <= 1, "cropScale must be in [0, 1], got \(cropScale)")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        precondition(jitter >= 0 && jitter < 1, "jitter must be in [0, 1), got \(jitter)")
        self.cropScale = cropScale
        self.jitter = jitter
    }

    /// The identity: inputs are only scaled and normalised (evaluation, or no augmentation).
    public static let none = Augmentation()

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && cropScale == 0 && jitter == 0 }

    /// The aspect ratios (width / height) a random-resized crop draws from, torchvision's default.
    public static let cropRatios: ClosedRange<Float> = 0.75 ... (4.0 / 3.0)
}

/// The random choices for one image under an `Augmentation`, drawn before the pixels are
/// written so that filling images in parallel cannot change what was drawn.
///
/// `top` and `left` are the corner of the crop window in padded coordinates, `0...2P`; `P, P`
/// leaves the image where it was. Output pixel `(y, x)` is therefore source pixel
/// `(y + top - P, x' + left - P)`, black where that falls into the padding, with
/// `x' = width - 1 - x` when `flip` is set and `x' = x` otherwise (the flip follows the crop).
///
/// A resized crop sets `height` and `width`: the window `top ..< top + height`,
/// `left ..< left + width` of the padded image is resampled to the image size (bilinear, pixel
/// centres aligned as in `F.interpolate(align_corners: false)`) before the flip.
public struct AugmentationDraw: Equatable, Sendable {
    public var top: Int
    public var left: Int
    public var flip: Bool
    /// Window size in padded pixels for a resized crop; nil: the image's own size, no resampling.
    public var height: Int?
    public var width: Int?
    /// Brightness and contrast factors of the jitter, applied after the crop and flip; 1: none.
    public var brightness: Float
    public var contrast: Float

    public init(top: Int, left: Int, flip: Bool, height: Int? = nil, width: Int? = nil, brightness: Float = 1, contrast: Float = 1) {
        self.top = top
        self.left = left
        self.flip = flip
        self.height = height
        self.width = width
        self.brightness = brightness
        self.contrast = contrast
    }

    /// The draw that changes nothing under padding `P`.
    public static func identity(padding: Int) -> AugmentationDraw {
        AugmentationDraw(top: padding, left: padding, flip: false)
    }
}
