using Ember.Autograd;
using Ember.Kernels.Linalg;

namespace Ember.Ops;

/// <summary>
/// torch.linalg.inv, det, slogdet and solve over batches of square matrices, through an LU factorization with partial
/// pivoting. Backward formulas are PyTorch's, written with these same ops so higher-order gradients work.
/// </summary>
internal static class LinalgSolveOps
{
    public static Tensor Inv(Tensor a)
    {
        const string op = "linalg.inv";
        LinalgBatch.CheckSquare(a, op);
        int n = a.shape[^1], nn = n * n, count = LinalgBatch.Count(a.shape);
        var data = LinalgBatch.Data(a);
        var result = new double[data.Length];
        var pivots = new int[n];
        for (int b = 0; b < count; b++)
        {
            var lu = data.AsSpan(b * nn, nn);
            int info = LuFactorization.Factor(lu, n, pivots, out _);
            if (info != 0)
                throw new ArgumentException($"{op}: {LinalgBatch.Where(a, b)}The diagonal element {info} is zero, the inversion could not be completed because the input matrix is singular.");
            var x = result.AsSpan(b * nn, nn);
            for (int i = 0; i < n; i++) x[i * n + i] = 1;
            LuFactorization.Solve(lu, n, pivots, x, n);
        }
        var y = LinalgBatch.Result(result, a.shape, a.DType);
        // d(A⁻¹) = −A⁻¹·dA·A⁻¹, so gA = −A⁻ᵀ·g·A⁻ᵀ
        return Recording.Unary(y, "LinalgInvExBackward0", a, g => { var yt = y.MT; return -yt.MatMul(g).MatMul(yt); }, y);
    }

    /// <summary>det A = sign(P)·Π diag(U); a zero pivot gives 0, as LAPACK.</summary>
    public static Tensor Det(Tensor a)
    {
        LinalgBatch.CheckSquare(a, "linalg.det");
        var (det, _, singular) = Factorize(a);
        var y = LinalgBatch.Result(det, a.shape[..^2], a.DType);
        // ∂det/∂A = det·A⁻ᵀ; where a matrix is singular that formula fails, and the cofactor matrix (from the SVD) is
        // used instead, as PyTorch's linalg_det_backward does (that branch is first order only)
        return Recording.Unary(y, "LinalgDetBackward0", a, g =>
        {
            var gm = g.Unsqueeze(-1).Unsqueeze(-1);
            if (!singular) return gm * y.Unsqueeze(-1).Unsqueeze(-1) * Inv(a).MT;
            Tensor cofactor;
            using (Torch.NoGrad()) cofactor = Cofactor(a);
            return gm * cofactor;
        }, a, y);
    }

    /// <summary>(sign, log|det A|); the sign carries no gradient, log|det| has A⁻ᵀ.</summary>
    public static (Tensor Sign, Tensor LogAbsDet) Slogdet(Tensor a)
    {
        LinalgBatch.CheckSquare(a, "linalg.slogdet");
        var (_, logAbs, _) = Factorize(a, out var signs);
        var sign = LinalgBatch.Result(signs, a.shape[..^2], a.DType);
        var y = LinalgBatch.Result(logAbs, a.shape[..^2], a.DType);
        y = Recording.Unary(y, "LinalgSlogdetBackward0", a, g => g.Unsqueeze(-1).Unsqueeze(-1) * Inv(a).MT, a);
        return (sign, y);
    }

    static (double[] Det, double[] LogAbs, bool AnySingular) Factorize(Tensor a) => Factorize(a, out _);

    static (double[] Det, double[] LogAbs, bool AnySingular) Factorize(Tensor a, out double[] signs)
    {
        int n = a.shape[^1], nn = n * n, count = LinalgBatch.Count(a.shape);
        var data = LinalgBatch.Data(a);
        var det = new double[count]; var logAbs = new double[count]; signs = new double[count];
        var pivots = new int[n];
        bool anySingular = false;
        for (int b = 0; b < count; b++)
        {
            var lu = data.AsSpan(b * nn, nn);
            int info = LuFactorization.Factor(lu, n, pivots, out int sign);
            anySingular |= info != 0;
            double product = sign, log = 0, s = sign;
            for (int i = 0; i < n; i++)
            {
                double d = lu[i * n + i];
                product *= d;
                log += Math.Log(Math.Abs(d));
                s *= Math.Sign(d);
            }
            det[b] = product; logAbs[b] = log; signs[b] = s;
        }
        return (det, logAbs, anySingular);
    }

    /// <summary>
    /// The cofactor matrix adj(A)ᵀ = det(U)·det(V)·U·diag(Π_{j≠i} σ_j)·Vᵀ from A = U·diag(σ)·Vᵀ: defined for singular
    /// matrices too.
    /// </summary>
    static Tensor Cofactor(Tensor a)
    {
        int n = a.shape[^1], nn = n * n, count = LinalgBatch.Count(a.shape);
        var data = LinalgBatch.Data(a);
        var result = new double[data.Length];
        var u = new double[nn]; var s = new double[n]; var vt = new double[nn]; var lu = new double[nn];
        var pivots = new int[n];
        for (int b = 0; b < count; b++)
        {
            JacobiSvd.Decompose(data.AsSpan(b * nn, nn), n, n, u, s, vt);
            double orient = DetOf(u, lu, n, pivots) * DetOf(vt, lu, n, pivots);
            var c = result.AsSpan(b * nn, nn);
            for (int i = 0; i < n; i++)
            {
                double others = orient;
                for (int j = 0; j < n; j++) if (j != i) others *= s[j];
                for (int r = 0; r < n; r++)
                    for (int col = 0; col < n; col++) c[r * n + col] += u[r * n + i] * others * vt[i * n + col];
            }
        }
        return LinalgBatch.Result(result, a.shape, a.DType);
    }

    static double DetOf(double[] m, double[] scratch, int n, int[] pivots)
    {
        m.CopyTo(scratch, 0);
        LuFactorization.Factor(scratch, n, pivots, out int sign);
        double d = sign;
        for (int i = 0; i < n; i++) d *= scratch[i * n + i];
        return d;
    }

    /// <summary>
    /// X with A·X = B (left) or X·A = B. B is a batch of vectors when it is 1-D or its shape is A's without the last
    /// dim (PyTorch's rule); batch dims broadcast.
    /// </summary>
    public static Tensor Solve(Tensor a, Tensor b, bool left)
    {
        const string op = "linalg.solve";
        LinalgBatch.CheckSquare(a, op);
        if (!b.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: Expected a floating point tensor as B. Got {b.DType.TorchName()}");
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: Expected A and B to have the same dtype, but found A of type {a.DType.TorchName()} and B of type {b.DType.TorchName()} instead");
        bool vector = b.Rank == 1 || (b.Rank == a.Rank - 1 && b.shape.AsSpan().SequenceEqual(a.shape.AsSpan(0, a.Rank - 1)));
        if (!left) return vector ? Solve(a.MT, b, left: true) : Solve(a.MT, b.MT, left: true).MT;
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.shape[^2] != a.shape[^1])
            throw new ArgumentException($"{op}: Incompatible shapes of A and B for the equation AX = B ({a.shape[^2]}x{a.shape[^1]} and {bm.shape[^2]}x{bm.shape[^1]})");
        var x = SolveMatrices(a, bm);
        return vector ? x.Squeeze(-1) : x;
    }

    static Tensor SolveMatrices(Tensor a, Tensor b)
    {
        const string op = "linalg.solve";
        int n = a.shape[^1], k = b.shape[^1], nn = n * n;
        var batch = Broadcasting.Shape(a.shape[..^2], b.shape[..^2], op);
        var ae = a.Expand([.. batch, n, n]);
        var be = b.Expand([.. batch, n, k]);
        var aData = LinalgBatch.Data(ae);
        var result = LinalgBatch.Data(be);
        int count = LinalgBatch.Count(ae.shape);
        var pivots = new int[n];
        for (int i = 0; i < count; i++)
        {
            var lu = aData.AsSpan(i * nn, nn);
            if (LuFactorization.Factor(lu, n, pivots, out _) != 0)
                throw new ArgumentException($"{op}: {LinalgBatch.Where(ae, i)}The solver failed because the input matrix is singular.");
            LuFactorization.Solve(lu, n, pivots, result.AsSpan(i * n * k, n * k), k);
        }
        var y = LinalgBatch.Result(result, [.. batch, n, k], a.DType);
        int[] aShape = a.shape, bShape = b.shape;
        // gB = A⁻ᵀ·g, gA = −gB·Xᵀ (each summed back over broadcast batch dims)
        return Recording.Binary(y, "LinalgSolveExBackward0", a, b,
            g => (-SolveMatrices(a.MT, g).MatMul(y.MT)).SumTo(aShape),
            g => SolveMatrices(a.MT, g).SumTo(bShape), a, y);
    }
}
