using Ember.Autograd;
using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Sum of all elements (torch.sum).</summary>
    public Tensor Sum() => ReductionOps.Sum(this, null, false);
    /// <summary>Sum over one dim (torch.sum(dim, keepdim)).</summary>
    public Tensor Sum(int dim, bool keepDim = false) => ReductionOps.Sum(this, [dim], keepDim);
    /// <summary>Sum over several dims.</summary>
    public Tensor Sum(int[] dims, bool keepDim = false) => ReductionOps.Sum(this, dims, keepDim);

    /// <summary>Mean of all elements (torch.mean).</summary>
    public Tensor Mean() => ReductionOps.Mean(this, null, false);
    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => ReductionOps.Mean(this, [dim], keepDim);
    /// <summary>Mean over several dims.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false) => ReductionOps.Mean(this, dims, keepDim);

    /// <summary>Product of all elements (torch.prod).</summary>
    public Tensor Prod() => ReductionOps.Prod(this, null, false);
    /// <summary>Product over one dim.</summary>
    public Tensor Prod(int dim, bool keepDim = false) => ReductionOps.Prod(this, [dim], keepDim);

    /// <summary>Variance with Bessel's correction by default (torch.var; correction = 1 is unbiased, 0 biased).</summary>
    public Tensor Var(int[]? dims = null, bool keepDim = false, double correction = 1)
    {
        var d = ReductionOps.NormalizeDims(this, dims, "var");
        int n = 1;
        foreach (var i in d) n *= shape[i];
        var centered = this - Mean(d, keepDim: true);
        return Recording.Named((centered * centered).Sum(d, keepDim) / Math.Max(0, n - correction), "VarBackward0", this);
    }
    /// <summary>Variance over one dim.</summary>
    public Tensor Var(int dim, bool keepDim = false, bool unbiased = true) => Var([dim], keepDim, unbiased ? 1 : 0);

    /// <summary>Standard deviation (torch.std).</summary>
    public Tensor Std(int[]? dims = null, bool keepDim = false, double correction = 1) => Recording.Named(Var(dims, keepDim, correction).Sqrt(), "StdBackward0", this);
    /// <summary>Standard deviation over one dim.</summary>
    public Tensor Std(int dim, bool keepDim = false, bool unbiased = true) => Recording.Named(Var(dim, keepDim, unbiased).Sqrt(), "StdBackward0", this);

    /// <summary>Maximum of all elements (torch.max()).</summary>
    public Tensor Max() => ReductionOps.MaxAll(this, max: true);
    /// <summary>Minimum of all elements (torch.min()).</summary>
    public Tensor Min() => ReductionOps.MaxAll(this, max: false);
    /// <summary>Maximum values and their first indices along dim (torch.max(dim)).</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => ReductionOps.MaxDim(this, dim, keepDim, max: true);
    /// <summary>Minimum values and their first indices along dim (torch.min(dim)).</summary>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => ReductionOps.MaxDim(this, dim, keepDim, max: false);
    /// <summary>Index of the maximum along dim, or over the flattened tensor when dim is null (torch.argmax).</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => dim is int d ? Max(d, keepDim).Indices : Reshape(-1).Max(0).Indices;
    /// <summary>Index of the minimum (torch.argmin).</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) => dim is int d ? Min(d, keepDim).Indices : Reshape(-1).Min(0).Indices;

    /// <summary>log Σ exp(x) along dims, stabilised by the maximum (torch.logsumexp).</summary>
    public Tensor LogSumExp(int[] dims, bool keepDim = false)
    {
        var d = ReductionOps.NormalizeDims(this, dims, "logsumexp");
        var m = Detach().Amax(d, keepDim: true);
        m = m.MaskedFill(m.IsInf(), 0.0);
        var result = (this - m).Exp().Sum(d, keepDim: true).Log() + m;
        return Recording.Named(keepDim ? result : result.Squeeze(d), "LogsumexpBackward0", this);
    }
    /// <summary>log Σ exp(x) along one dim.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);

    /// <summary>Vector p-norm over all elements or dims: p = 1, 2 or ∞ (torch.norm / torch.linalg.vector_norm).</summary>
    public Tensor Norm(double p = 2, int[]? dims = null, bool keepDim = false)
    {
        if (double.IsPositiveInfinity(p)) { var a = Abs(); return dims is null && !keepDim ? a.Max() : a.Amax(dims ?? [], keepDim); }
        if (p == 1) return Abs().Sum(dims ?? [], keepDim);
        if (p == 2) return ReductionOps.Norm2(this, dims, keepDim);
        return Abs().Pow(p).Sum(dims ?? [], keepDim).Pow(1 / p);
    }

    /// <summary>Maximum over several dims (torch.amax); the gradient is shared evenly between ties.</summary>
    public Tensor Amax(int[] dims, bool keepDim = false) => ReductionOps.AMaxMin(this, dims, keepDim, max: true);
    /// <summary>Minimum over several dims (torch.amin); the gradient is shared evenly between ties.</summary>
    public Tensor Amin(int[] dims, bool keepDim = false) => ReductionOps.AMaxMin(this, dims, keepDim, max: false);

    /// <summary>Whether any element is non-zero (torch.any(x).item()).</summary>
    internal bool AnyNonzero() => Nonzero().Size(0) > 0;

    /// <summary>Softmax along dim, numerically stable (torch.softmax).</summary>
    public Tensor Softmax(int dim) => ReductionOps.Softmax(this, dim, log: false);
    /// <summary>Log-softmax along dim (torch.log_softmax).</summary>
    public Tensor LogSoftmax(int dim) => ReductionOps.Softmax(this, dim, log: true);
}
