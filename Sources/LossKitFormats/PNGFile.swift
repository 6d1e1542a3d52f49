import CLossKitShims
import Foundation

/// PNG files through libpng (Debian's libpng16), 8 bits per channel.
public enum PNGFile {
    /// Writes `pixels` (rows top to bottom; 1 = gray, 3 = RGB, 4 = RGBA channels).
    public static func write(path: String, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard [1, 3, 4].contains(channels), pixels.count == width * height * channels, width > 0, height > 0 else {
            throw DataError("PNG \(path): \(pixels.count) bytes do not make a \(width)×\(height) image of \(channels) channels")
        }
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { p in
            lk_png_write(path, UInt32(width), UInt32(height), Int32(channels), p.baseAddress, &message, Int32(message.count))
        }
        guard status == 0 else { throw DataError("cannot write PNG \(path): \(String(cString: message))") }
    }

    /// Reads any PNG as 8-bit RGBA.
    public static func readRGBA(path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var width: UInt32 = 0, height: UInt32 = 0
        var buffer: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: 256)
        guard lk_png_read_rgba(path, &width, &height, &buffer, &message, Int32(message.count)) == 0, let buffer else {
            throw DataError("cannot read PNG \(path): \(String(cString: message))")
        }
        defer { free(buffer) }
        return (Int(width), Int(height), Array(UnsafeBufferPointer(start: buffer, count: Int(width * height * 4))))
    }
}

/// Tiles a batch of images [n, c, h, w] into one picture, `columns` per row with a 1-pixel
/// gap; values from `low` to `high` map to 0...255 (clamped). One or three channels.
public struct ImageGrid {
    public let width: Int, height: Int, channels: Int
    public let pixels: [UInt8]

    public init(values: [Float], count n: Int, channels c: Int, height h: Int, width w: Int, low: Float, high: Float, columns: Int = 8) {
        let cols = max(1, min(columns, n)), rows = (n + cols - 1) / cols
        let outChannels = c == 1 ? 1 : 3
        width = cols * (w + 1) + 1
        height = rows * (h + 1) + 1
        channels = outChannels
        var out = [UInt8](repeating: 64, count: width * height * outChannels)
        let scale = high > low ? 255 / (high - low) : 0
        for i in 0..<n {
            let ox = 1 + (i % cols) * (w + 1), oy = 1 + (i / cols) * (h + 1)
            for y in 0..<h {
                for x in 0..<w {
                    for k in 0..<outChannels {
                        let v = values[((i * c + min(k, c - 1)) * h + y) * w + x]
                        out[((oy + y) * width + ox + x) * outChannels + k] = UInt8(max(0, min(255, ((v - low) * scale).rounded())))
                    }
                }
            }
        }
        pixels = out
    }

    public func write(to path: String) throws {
        try PNGFile.write(path: path, width: width, height: height, channels: channels, pixels: pixels)
    }
}
