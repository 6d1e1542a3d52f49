/// The layout of a GEMM's left operand for `EngineKernels.panelGemm`: panels of `rows`
/// consecutive rows, each stored column by column ([m / rows][k][rows]), so that the kernel
/// reads the `rows` values it multiplies next as one contiguous group.
///
/// The Winograd convolution multiplies the same transformed filters U[ξ] by every chunk's tiles:
/// packing them once a pass is what OpenBLAS otherwise redoes on every call (with m, k = 32–128
/// and 48–100 tiles a call, its packing and the zeroing of C before it took about a quarter of
/// the GEMMs' time in a one-thread `ce + swwae` step, perf). Layout only, no arithmetic: any
/// build may pack for any other.
public enum GemmPanels {
    /// Rows per panel; m must be a multiple of it.
    public static let rows = 4
    /// The fewest columns (n) the kernel takes: its narrowest block.
    public static let minColumns = 8

    /// Whether `panelGemm` takes an [m × k] · [k × n] product.
    @inlinable public static func fits(m: Int, n: Int) -> Bool {
        m > 0 && m % rows == 0 && n >= minColumns
    }

    /// Packs A (m × k, row-major; with `transposed`, A is the transpose of the k × m row-major
    /// matrix `a`) into `panels`, m · k floats.
    public static func pack(_ a: UnsafePointer<Float>, m: Int, k: Int, transposed: Bool, into panels: UnsafeMutablePointer<Float>) {
        precondition(m % rows == 0, "GemmPanels.pack: \(m) rows are not whole panels of \(rows)")
        var p = panels
        for panel in 0..<(m / rows) {
            let first = panel * rows
            for column in 0..<k {
                for r in 0..<rows {
                    p[r] = transposed ? a[column * m + first + r] : a[(first + r) * k + column]
                }
                p += rows
            }
        }
    }
}
