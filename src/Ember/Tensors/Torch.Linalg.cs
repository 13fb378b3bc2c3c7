using Ember.Ops;

namespace Ember;

public static partial class Torch
{
    /// <summary>
    /// torch.linalg: inv, det, slogdet, solve, cholesky, qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq and the norms, over batches of matrices
    /// [..., m, n], float32 and float64 (factorizations run in float64 and round back). Errors for non-square, singular
    /// or non-positive-definite input name the op, and within a batch the failing element, as PyTorch's do.
    /// </summary>
    public static class Linalg
    {
        /// <summary>A⁻¹ (torch.linalg.inv); singular input throws.</summary>
        public static Tensor Inv(Tensor a) => LinalgSolveOps.Inv(a);

        /// <summary>det A (torch.linalg.det); 0 for a singular matrix, whose gradient is the cofactor matrix.</summary>
        public static Tensor Det(Tensor a) => LinalgSolveOps.Det(a);

        /// <summary>(sign, log|det A|) (torch.linalg.slogdet); sign is 0 and log|det| −∞ for a singular matrix.</summary>
        public static (Tensor Sign, Tensor LogAbsDet) Slogdet(Tensor a) => LinalgSolveOps.Slogdet(a);

        /// <summary>
        /// X with A·X = B, or X·A = B when <paramref name="left"/> is false (torch.linalg.solve). B [..., n] with A's batch
        /// shape, or 1-D, is a batch of vectors; otherwise B is [..., n, k]; batch dims broadcast.
        /// </summary>
        public static Tensor Solve(Tensor a, Tensor b, bool left = true) => LinalgSolveOps.Solve(a, b, left);

        /// <summary>L with A = L·Lᵀ, or U = Lᵀ with <paramref name="upper"/> (torch.linalg.cholesky); reads A's lower triangle.</summary>
        public static Tensor Cholesky(Tensor a, bool upper = false) => LinalgFactorOps.Cholesky(a, upper);

        /// <summary>
        /// QR (torch.linalg.qr): reduced (the default) Q [..., m, k], R [..., k, n], k = min(m, n); complete Q [..., m, m],
        /// R [..., m, n]; r gives R alone and an empty Q. R's diagonal may be negative, as LAPACK's.
        /// </summary>
        public static (Tensor Q, Tensor R) Qr(Tensor a, QrMode mode = QrMode.Reduced) => LinalgFactorOps.Qr(a, mode);

        /// <summary>
        /// Eigenvalues ascending and eigenvectors (columns of V) of symmetric matrices, A = V·diag(L)·Vᵀ (torch.linalg.eigh);
        /// reads the lower triangle, or the upper one with <paramref name="upper"/> (UPLO='U'). Each eigenvector is unique only
        /// up to sign, so V may differ from LAPACK's by a sign per column; the gradient is defined for distinct eigenvalues.
        /// </summary>
        public static (Tensor L, Tensor V) Eigh(Tensor a, bool upper = false) => LinalgSpectralOps.Eigh(a, upper);

        /// <summary>The eigenvalues of symmetric matrices, ascending (torch.linalg.eigvalsh); gradient V·diag(g)·Vᵀ.</summary>
        public static Tensor Eigvalsh(Tensor a, bool upper = false) => LinalgSpectralOps.Eigh(a, upper).L;

        /// <summary>
        /// The Moore–Penrose pseudoinverse (torch.linalg.pinv): singular values ≤ max(atol, rtol·σ_max) are dropped; by default
        /// rtol = eps·max(m, n). <paramref name="hermitian"/> uses the symmetric eigendecomposition instead of the SVD.
        /// </summary>
        public static Tensor Pinv(Tensor a, double? atol = null, double? rtol = null, bool hermitian = false) => LinalgSpectralOps.Pinv(a, atol, rtol, hermitian);

        /// <summary>
        /// Least squares A·X ≈ B (torch.linalg.lstsq) with the CPU default driver 'gelsy': the solution (minimum norm for wide or
        /// rank-deficient A), the rank of each A, and empty residuals and singular values, as gelsy returns them.
        /// B is [..., m, k] or a vector [..., m].
        /// </summary>
        public static (Tensor Solution, Tensor Residuals, Tensor Rank, Tensor SingularValues) Lstsq(Tensor a, Tensor b, double? rcond = null)
            => LinalgSpectralOps.Lstsq(a, b, rcond);

        /// <summary>
        /// A = U·diag(S)·Vh, S descending (torch.linalg.svd). <paramref name="fullMatrices"/> (PyTorch's default) gives
        /// square U and Vh; false gives the reduced factors. The gradient is PyTorch's: defined where the singular values
        /// are distinct (and, for U or Vh beyond k columns, non-zero); a loss on S alone is always fine.
        /// Singular vectors are unique only up to sign, so values may differ from LAPACK's by a sign per pair.
        /// </summary>
        public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor a, bool fullMatrices = true) => LinalgFactorOps.Svd(a, fullMatrices);

        /// <summary>The singular values, descending (torch.linalg.svdvals); gradient U·diag(g)·Vh.</summary>
        public static Tensor Svdvals(Tensor a) => LinalgFactorOps.Svd(a, fullMatrices: false).S;

        /// <summary>
        /// (Σ|x|^ord)^(1/ord) over <paramref name="dim"/> (all dims when null) (torch.linalg.vector_norm); ord ±inf is max/min
        /// |x|, ord 0 counts non-zeros.
        /// </summary>
        public static Tensor VectorNorm(Tensor x, double ord = 2, int[]? dim = null, bool keepDim = false) => LinalgNormOps.VectorNorm(x, ord, dim, keepDim);

        /// <summary>Matrix norm ord ±1 (max/min column sum), ±inf (row sum) or ±2 (largest/smallest singular value) over <paramref name="dim"/> (default the last two) (torch.linalg.matrix_norm).</summary>
        public static Tensor MatrixNorm(Tensor a, double ord, int[]? dim = null, bool keepDim = false) => LinalgNormOps.MatrixNorm(a, ord, dim, keepDim);

        /// <summary>Frobenius (default) or nuclear norm over <paramref name="dim"/> (default the last two) (torch.linalg.matrix_norm, ord='fro' / 'nuc').</summary>
        public static Tensor MatrixNorm(Tensor a, MatrixNormOrd ord = MatrixNormOrd.Fro, int[]? dim = null, bool keepDim = false) => LinalgNormOps.MatrixNorm(a, ord, dim, keepDim);

        /// <summary>torch.linalg.norm: a vector norm over one dim (or 1-D input), a matrix norm over two (or 2-D input); without ord, the 2-norm (Frobenius for matrices).</summary>
        public static Tensor Norm(Tensor a, double? ord = null, int[]? dim = null, bool keepDim = false) => LinalgNormOps.Norm(a, ord, dim, keepDim);

        /// <summary>torch.linalg.norm with ord='fro' or 'nuc'.</summary>
        public static Tensor Norm(Tensor a, MatrixNormOrd ord, int[]? dim = null, bool keepDim = false) => LinalgNormOps.Norm(a, ord, dim, keepDim);
    }
}
