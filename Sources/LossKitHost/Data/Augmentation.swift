/// The random image transformations applied to training inputs.
///
/// These follow torchvision's `RandomCrop(size, padding=P)` then `RandomHorizontalFlip()` on a
/// `ToTensor` image: the image is padded on every side with `cropPadding` black pixels (raw 0,
/// before normalisation), a window of the original size is cut at a uniformly random offset in
/// `0...2P` along each axis, and the result is mirrored left-right with probability 1/2.
/// Codable so a run's configuration can record exactly what was applied.
public struct Augmentation: Equatable, Codable, Sendable {
    /// Zero-padding in pixels on each side before the random crop; 0 disables cropping.
    public var cropPadding: Int
    /// Mirror each image left-right with probability 1/2.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0, "cropPadding must not be negative, got \(cropPadding)")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// The identity: inputs are only scaled and normalised (evaluation, or no augmentation).
    public static let none = Augmentation()

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }
}

/// The random choices for one image under an `Augmentation`, drawn before the pixels are
/// written so that filling images in parallel cannot change what was drawn.
///
/// `top` and `left` are the corner of the crop window in padded coordinates, `0...2P`; `P, P`
/// leaves the image where it was. Output pixel `(y, x)` is therefore source pixel
/// `(y + top - P, x' + left - P)`, black where that falls into the padding, with
/// `x' = width - 1 - x` when `flip` is set and `x' = x` otherwise (the flip follows the crop).
public struct AugmentationDraw: Equatable, Sendable {
    public var top: Int
    public var left: Int
    public var flip: Bool

    public init(top: Int, left: Int, flip: Bool) {
        self.top = top
        self.left = left
        self.flip = flip
    }

    /// The draw that changes nothing under padding `P`.
    public static func identity(padding: Int) -> AugmentationDraw {
        AugmentationDraw(top: padding, left: padding, flip: false)
    }
}
