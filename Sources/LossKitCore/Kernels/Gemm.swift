import COpenBLAS

/// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS `cblas_sgemm`.
/// `op(A)` is m×k (A stored k×m when `transA`), `op(B)` is k×n (B stored n×k when `transB`).
///
/// With beta 0, where OpenBLAS would clear C with its scalar loop
/// (`BLASCore.clearsCWithScalarLoop`), C is cleared here and OpenBLAS gets beta 1: the same bits,
/// since OpenBLAS also clears C first and then adds the product onto it, but one vector fill
/// instead of a store per float.
@inline(__always)
public func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    beta: Float = 0, c: UnsafeMutablePointer<Float>
) {
    guard m > 0, n > 0 else { return }
    var beta = beta
    if beta == 0 && (k == 0 || BLASCore.clearsCWithScalarLoop) {
        c.update(repeating: 0, count: m * n)
        beta = 1
    }
    guard k > 0 else { return }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
        beta, c, Int32(n))
}
