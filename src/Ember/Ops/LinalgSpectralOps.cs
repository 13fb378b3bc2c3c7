using Ember.Autograd;
using Ember.Kernels.Linalg;

namespace Ember.Ops;

/// <summary>
/// torch.linalg.eigh / eigvalsh, pinv and lstsq over batches of matrices: forward in float64 kernels
/// (Ember.Kernels.Linalg), backward as PyTorch's formulas written in differentiable ops.
/// </summary>
internal static class LinalgSpectralOps
{
    /// <summary>torch.finfo(dtype).eps, the default tolerances' unit.</summary>
    static double Eps(DType dtype) => dtype switch
    {
        DType.Float64 => Math.Pow(2, -52),
        DType.Float16 => Math.Pow(2, -10),
        DType.BFloat16 => Math.Pow(2, -7),
        _ => Math.Pow(2, -23),
    };

    /// <summary>
    /// A = V·diag(L)·Vᵀ for symmetric A, L ascending, reading the lower (or upper) triangle only. The gradient is
    /// PyTorch's linalg_eig_backward for Hermitian input: gA = V·(skew(Vᵀ·gV) ⊘ E + diag(gL))·Vᵀ with
    /// E_ij = L_j − L_i and skew(X) = (X − Xᵀ)/2, defined where the eigenvalues are distinct.
    /// </summary>
    public static (Tensor L, Tensor V) Eigh(Tensor a, bool upper)
    {
        const string op = "linalg.eigh";
        LinalgBatch.CheckSquare(a, op);
        int n = a.shape[^1], nn = n * n, count = LinalgBatch.Count(a.shape), size = n + nn;
        var data = LinalgBatch.Data(a);
        var packed = new double[count * size];
        for (int b = 0; b < count; b++)
            JacobiEigen.Decompose(data.AsSpan(b * nn, nn), n, packed.AsSpan(b * size, n), packed.AsSpan(b * size + n, nn), upper);
        var batch = a.shape[..^2];
        var y = LinalgBatch.Result(packed, [.. batch, size], a.DType);
        Tensor l = null!, v = null!;
        y = Recording.Unary(y, "LinalgEighBackward0", a, g =>
        {
            var gL = g.Narrow(-1, 0, n);
            var gV = g.Narrow(-1, n, nn).Reshape([.. batch, n, n]);
            bool hasV;
            using (Torch.NoGrad()) hasV = gV.Ne(0.0).AnyNonzero();
            // a loss on the eigenvalues alone takes the exact V·diag(gL)·Vᵀ, finite even for repeated eigenvalues
            if (!hasV) return v.MatMul(gL.Unsqueeze(-1) * v.MT);
            var vtgv = v.MT.MatMul(gV);
            var e = l.Unsqueeze(-2) - l.Unsqueeze(-1) + Torch.Eye(n, dtype: l.DType);
            var inner = 0.5 * (vtgv - vtgv.MT) / e + LinalgBatch.DiagEmbed(gL);
            return v.MatMul(inner).MatMul(v.MT);
        }, a);
        l = y.Narrow(-1, 0, n);
        v = y.Narrow(-1, n, nn).Reshape([.. batch, n, n]);
        return (l, v);
    }

    /// <summary>
    /// The Moore–Penrose pseudoinverse [..., n, m] (torch.linalg.pinv): singular values (or |eigenvalues| when
    /// <paramref name="hermitian"/>) at most max(atol, rtol·σ_max) count as zero; with neither tolerance given
    /// rtol = eps·max(m, n), and an atol &gt; 0 alone sets rtol = 0, as PyTorch. The gradient is PyTorch's
    /// pinv_backward, −A⁺ᵀ·G·A⁺ᵀ + (I − A·A⁺)·Gᵀ·A⁺·A⁺ᵀ + A⁺ᵀ·A⁺·Gᵀ·(I − A⁺·A), valid where the rank is constant.
    /// </summary>
    public static Tensor Pinv(Tensor a, double? atol, double? rtol, bool hermitian)
    {
        const string op = "linalg.pinv";
        if (hermitian) LinalgBatch.CheckSquare(a, op); else LinalgBatch.CheckMatrix(a, op);
        int m = a.shape[^2], n = a.shape[^1];
        double at = atol ?? 0, rt = rtol ?? (at > 0 ? 0 : Eps(a.DType) * Math.Max(m, n));
        var (values, _) = PinvValues(LinalgBatch.Data(a), LinalgBatch.Count(a.shape), m, n, at, rt, hermitian);
        var batch = a.shape[..^2];
        Tensor p = null!;
        p = Recording.Unary(LinalgBatch.Result(values, [.. batch, n, m], a.DType), "LinalgPinvBackward0", a, g =>
        {
            var pt = p.MT; var gt = g.MT;
            var left = a.MatMul(p); var right = p.MatMul(a);
            return -pt.MatMul(g).MatMul(pt) + (gt - left.MatMul(gt)).MatMul(p).MatMul(pt) + pt.MatMul(p).MatMul(gt - gt.MatMul(right));
        });
        return p;
    }

    /// <summary>The pseudoinverses (n×m each, row-major) and each matrix's rank, from SVD (or the eigendecomposition).</summary>
    static (double[] Values, long[] Ranks) PinvValues(double[] data, int count, int m, int n, double atol, double rtol, bool hermitian)
    {
        int k = Math.Min(m, n);
        var result = new double[count * n * m];
        var ranks = new long[count];
        var u = new double[m * k]; var s = new double[k]; var vt = new double[k * n];
        for (int b = 0; b < count; b++)
        {
            var mat = data.AsSpan(b * m * n, m * n);
            if (hermitian)
            {
                // A = V·diag(λ)·Vᵀ: the same sum as the SVD's with u = v, vt = vᵀ and the signed eigenvalue
                JacobiEigen.Decompose(mat, n, s, u);
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) vt[i * n + j] = u[j * n + i];
            }
            else JacobiSvd.Decompose(mat, m, n, u, s, vt);
            double max = 0;
            for (int l = 0; l < k; l++) max = Math.Max(max, Math.Abs(s[l]));
            double cutoff = Math.Max(atol, rtol * max);
            var slot = result.AsSpan(b * n * m, n * m);
            for (int l = 0; l < k; l++)
            {
                if (!(Math.Abs(s[l]) > cutoff)) continue;
                ranks[b]++;
                double inv = 1 / s[l];
                for (int i = 0; i < n; i++)
                {
                    double vi = vt[l * n + i] * inv;
                    for (int j = 0; j < m; j++) slot[i * m + j] += vi * u[j * k + l];
                }
            }
        }
        return (result, ranks);
    }

    /// <summary>
    /// torch.linalg.lstsq with CPU's default driver 'gelsy': the least-squares solution of A·X = B (minimum-norm where
    /// A is wide or rank-deficient), the rank of each A (σ_i &gt; rcond·σ_max, rcond = eps·max(m, n) unless given),
    /// and, as gelsy on CPU returns them, empty residuals and singular values. The solution is pinv(A)·B, so its
    /// gradient flows to A and B through pinv's backward (PyTorch's lstsq backward is the same formula).
    /// </summary>
    public static (Tensor Solution, Tensor Residuals, Tensor Rank, Tensor SingularValues) Lstsq(Tensor a, Tensor b, double? rcond)
    {
        const string op = "linalg.lstsq";
        LinalgBatch.CheckMatrix(a, op);
        if (b.DType != a.DType)
            throw new ArgumentException($"{op}: Expected B to have the same dtype as A, but got B.dtype={b.DType.TorchName()} and A.dtype={a.DType.TorchName()}");
        bool vector = b.Rank == a.Rank - 1;
        if (b.Rank < 1 || (b.Rank != a.Rank && !vector))
            throw new ArgumentException($"{op}: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1 (A shape {a.Shape}, B shape {b.Shape})");
        int m = a.shape[^2], n = a.shape[^1];
        int bRows = vector ? b.shape[^1] : b.shape[^2];
        if (bRows != m)
            throw new ArgumentException($"{op}: input.size(-2) should match other.size(-{(vector ? 1 : 2)}) (A shape {a.Shape}, B shape {b.Shape})");
        double rc = rcond ?? Eps(a.DType) * Math.Max(m, n);
        var x = Pinv(a, 0, rc, hermitian: false);
        var solution = vector ? x.MatMul(b.Unsqueeze(-1)).Squeeze(-1) : x.MatMul(b);
        var (_, ranks) = PinvValues(LinalgBatch.Data(a), LinalgBatch.Count(a.shape), m, n, 0, rc, hermitian: false);
        var rank = Torch.FromArray(ranks, a.shape[..^2]);
        return (solution, Torch.Zeros([0], a.DType), rank, Torch.Zeros([0], a.DType));
    }
}
