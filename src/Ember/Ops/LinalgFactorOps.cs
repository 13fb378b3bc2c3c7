using Ember.Autograd;
using Ember.Kernels.Linalg;

namespace Ember.Ops;

/// <summary>
/// torch.linalg.cholesky, qr and svd over batches of matrices, with PyTorch's backward formulas written in
/// differentiable ops. Several outputs are one packed tensor underneath (one node), handed out as views, so the
/// backward sees every output's gradient at once (zeros for the ones not used).
/// </summary>
internal static class LinalgFactorOps
{
    public static Tensor Cholesky(Tensor a, bool upper)
    {
        const string op = "linalg.cholesky";
        LinalgBatch.CheckSquare(a, op);
        int n = a.shape[^1], nn = n * n, count = LinalgBatch.Count(a.shape);
        var data = LinalgBatch.Data(a);
        var result = new double[data.Length];
        for (int b = 0; b < count; b++)
        {
            int info = CholeskyFactorization.Factor(data.AsSpan(b * nn, nn), n, result.AsSpan(b * nn, nn));
            if (info != 0)
                throw new ArgumentException($"{op}: {LinalgBatch.Where(a, b)}The factorization could not be completed because the input is not positive-definite (the leading minor of order {info} is not positive-definite).");
        }
        var l = LinalgBatch.Result(result, a.shape, a.DType);
        // Murray (2016), as PyTorch's cholesky_backward: Φ = tril(Lᵀ·g) with the diagonal halved and mirrored,
        // gA = L⁻ᵀ·Φ·L⁻¹ (symmetric)
        l = Recording.Unary(l, "LinalgCholeskyExBackward0", a, g =>
        {
            var p = l.MT.MatMul(g).Tril();
            p = 0.5 * (p + p.Tril(-1).MT);
            p = LinalgSolveOps.Solve(l.MT, p, left: true);
            return LinalgSolveOps.Solve(l, p, left: false);
        }, l);
        return upper ? l.MT : l;
    }

    /// <summary>
    /// QR in PyTorch's modes: reduced (differentiable), complete (Q square; differentiable only where it equals the
    /// reduced one, m ≤ n) and r (R alone, Q empty; the backward throws PyTorch's message).
    /// </summary>
    public static (Tensor Q, Tensor R) Qr(Tensor a, QrMode mode)
    {
        int m = a.Rank >= 2 ? a.shape[^2] : 0, n = a.Rank >= 2 ? a.shape[^1] : 0;
        if (mode == QrMode.Reduced || (mode == QrMode.Complete && m <= n)) return Qr(a);
        const string op = "linalg.qr";
        LinalgBatch.CheckMatrix(a, op);
        if (mode == QrMode.R)
        {
            Tensor r;
            using (Torch.NoGrad()) r = Qr(a.Detach()).R;
            r = Recording.Unary(r, "LinalgQrBackward0", a, _ => throw new InvalidOperationException(
                "linalg.qr: The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."));
            return (Torch.Zeros([0], a.DType), r);
        }
        int count = LinalgBatch.Count(a.shape), qSize = m * m, rSize = m * n, size = qSize + rSize;
        var data = LinalgBatch.Data(a);
        var packed = new double[count * size];
        for (int b = 0; b < count; b++)
            HouseholderQr.Factor(data.AsSpan(b * m * n, m * n), m, n, packed.AsSpan(b * size, qSize), packed.AsSpan(b * size + qSize, rSize), complete: true);
        var batch = a.shape[..^2];
        var y = Recording.Unary(LinalgBatch.Result(packed, [.. batch, size], a.DType), "LinalgQrBackward0", a, _ => throw new InvalidOperationException(
            $"linalg.qr: The QR decomposition is not differentiable when mode='complete' and nrows > ncols (got {m} by {n})."));
        return (y.Narrow(-1, 0, qSize).Reshape([.. batch, m, m]), y.Narrow(-1, qSize, rSize).Reshape([.. batch, m, n]));
    }

    /// <summary>Reduced QR: Q [..., m, k] with orthonormal columns, R [..., k, n] upper triangular, k = min(m, n).</summary>
    public static (Tensor Q, Tensor R) Qr(Tensor a)
    {
        const string op = "linalg.qr";
        LinalgBatch.CheckMatrix(a, op);
        int m = a.shape[^2], n = a.shape[^1], k = Math.Min(m, n), count = LinalgBatch.Count(a.shape);
        var data = LinalgBatch.Data(a);
        int qSize = m * k, rSize = k * n, size = qSize + rSize;
        var packed = new double[count * size];
        for (int b = 0; b < count; b++)
            HouseholderQr.Factor(data.AsSpan(b * m * n, m * n), m, n, packed.AsSpan(b * size, qSize), packed.AsSpan(b * size + qSize, rSize));
        var batch = a.shape[..^2];
        var y = LinalgBatch.Result(packed, [.. batch, size], a.DType);
        Tensor q = null!, r = null!;
        y = Recording.Unary(y, "LinalgQrBackward0", a, g =>
        {
            var gQ = g.Narrow(-1, 0, qSize).Reshape([.. batch, m, k]);
            var gR = g.Narrow(-1, qSize, rSize).Reshape([.. batch, k, n]);
            if (m >= n) return QrBackwardTall(gQ, gR, q, r);
            // A = [X | Y] with X square: Q and the left block U of R come from X alone, R's right block V = Qᵀ·Y
            var x = a.Narrow(-1, 0, m); var rest = a.Narrow(-1, m, n - m);
            var u = r.Narrow(-1, 0, m);
            var gU = gR.Narrow(-1, 0, m); var gV = gR.Narrow(-1, m, n - m);
            var gX = QrBackwardTall(gQ + rest.MatMul(gV.MT), gU, q, u);
            return Torch.Cat([gX, q.MatMul(gV)], -1);
        }, a);
        q = y.Narrow(-1, 0, qSize).Reshape([.. batch, m, k]);
        r = y.Narrow(-1, qSize, rSize).Reshape([.. batch, k, n]);
        return (q, r);
    }

    // m ≥ n (as PyTorch's linalg_qr_backward): with M = gR·Rᵀ − Qᵀ·gQ, gA = (gQ + Q·copyu(M))·R⁻ᵀ, where copyu(M) is
    // the symmetric matrix with M's upper triangle (Qᵀ·dQ is skew and dR·R⁻¹ upper triangular, which fixes the split)
    static Tensor QrBackwardTall(Tensor gQ, Tensor gR, Tensor q, Tensor r)
    {
        var m = gR.MatMul(r.MT) - q.MT.MatMul(gQ);
        var gA = gQ + q.MatMul(m.Triu() + m.Triu(1).MT);
        return LinalgSolveOps.Solve(r.MT, gA, left: false);
    }

    /// <summary>
    /// A = U·diag(S)·Vh with S descending. Reduced: U [..., m, k], Vh [..., k, n]; full: U [..., m, m], Vh [..., n, n]
    /// (the extra columns complete an orthonormal basis and get no gradient, as PyTorch).
    /// </summary>
    public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor a, bool fullMatrices)
    {
        const string op = "linalg.svd";
        LinalgBatch.CheckMatrix(a, op);
        int m = a.shape[^2], n = a.shape[^1], k = Math.Min(m, n), count = LinalgBatch.Count(a.shape);
        int uCols = fullMatrices ? m : k, vRows = fullMatrices ? n : k;
        var data = LinalgBatch.Data(a);
        int uSize = m * uCols, vSize = vRows * n, size = uSize + k + vSize;
        var packed = new double[count * size];
        for (int b = 0; b < count; b++)
        {
            var slot = packed.AsSpan(b * size, size);
            JacobiSvd.Decompose(data.AsSpan(b * m * n, m * n), m, n, slot[..uSize], slot.Slice(uSize, k), slot[(uSize + k)..], fullMatrices);
        }
        var batch = a.shape[..^2];
        var y = LinalgBatch.Result(packed, [.. batch, size], a.DType);
        Tensor u = null!, s = null!, vh = null!;
        y = Recording.Unary(y, "LinalgSvdBackward0", a, g =>
        {
            var gU = g.Narrow(-1, 0, uSize).Reshape([.. batch, m, uCols]).Narrow(-1, 0, k);
            var gS = g.Narrow(-1, uSize, k);
            var gVh = g.Narrow(-1, uSize + k, vSize).Reshape([.. batch, vRows, n]).Narrow(-2, 0, k);
            return SvdBackward(gU, gS, gVh, u.Narrow(-1, 0, k), s, vh.Narrow(-2, 0, k));
        }, a);
        u = y.Narrow(-1, 0, uSize).Reshape([.. batch, m, uCols]);
        s = y.Narrow(-1, uSize, k);
        vh = y.Narrow(-1, uSize + k, vSize).Reshape([.. batch, vRows, n]);
        return (u, s, vh);
    }

    /// <summary>
    /// PyTorch's svd_backward (real case). Gradients of U and Vh that are all zero count as absent, so a loss on S alone
    /// takes the exact U·diag(gS)·Vh path, which stays finite for repeated or zero singular values.
    /// </summary>
    static Tensor SvdBackward(Tensor gU, Tensor gS, Tensor gVh, Tensor u, Tensor s, Tensor vh)
    {
        int m = u.shape[^2], n = vh.shape[^1];
        bool hasU, hasV;
        using (Torch.NoGrad()) { hasU = gU.Ne(0.0).AnyNonzero(); hasV = gVh.Ne(0.0).AnyNonzero(); }
        if (!hasU && !hasV) return u.MatMul(gS.Unsqueeze(-1) * vh);
        var s2 = s * s;
        int k = s.shape[^1];
        var e = s2.Unsqueeze(-2) - s2.Unsqueeze(-1) + Torch.Eye(k, dtype: s.DType);   // E_jk = σ_k² − σ_j², 1 on the diagonal
        Tensor? inner = null;
        if (hasU) { var uhgU = u.MT.MatMul(gU); inner = (uhgU - uhgU.MT) * s.Unsqueeze(-2) / e; }
        if (hasV) { var vhgV = vh.MatMul(gVh.MT); var t = s.Unsqueeze(-1) * (vhgV - vhgV.MT) / e; inner = inner is null ? t : inner + t; }
        var ret = inner! + LinalgBatch.DiagEmbed(gS);
        if (m > n && hasU)
        {
            var gUSinv = gU / s.Unsqueeze(-2);
            var gA = u.MatMul(ret) + gUSinv - u.MatMul(u.MT.MatMul(gUSinv));
            return gA.MatMul(vh);
        }
        if (m < n && hasV)
        {
            var sinvgVh = gVh / s.Unsqueeze(-1);
            var gA = ret.MatMul(vh) + sinvgVh - sinvgVh.MatMul(vh.MT).MatMul(vh);
            return u.MatMul(gA);
        }
        return u.MatMul(ret).MatMul(vh);
    }
}
