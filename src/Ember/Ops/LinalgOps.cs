using Ember.Autograd;
using Ember.Backends;

namespace Ember.Ops;

/// <summary>Matrix products with PyTorch's matmul rules (1-D, 2-D, batched with broadcasting).</summary>
internal static class LinalgOps
{
    /// <summary>
    /// alpha·A·B for 2-D × 2-D or [*, m, k] × [*, k, n] with equal batch dims (any strides, expanded ones included): the
    /// primitive, with grads gA = alpha·g·Bᵀ, gB = alpha·Aᵀ·g (alpha rides in the GEMMs' store, no pass of its own).
    /// A batched product is laid out as <paramref name="layoutOf"/> where that is a permuted dense tensor of its rank
    /// (<see cref="DenseOrder"/>), contiguous otherwise.
    /// </summary>
    public static Tensor Mm(Tensor a, Tensor b, string op, double alpha = 1, Tensor? layoutOf = null)
    {
        // autocast: both operands in half precision (cast first, so a half activation meets a float32 weight); the
        // backend widens them to float32 for the GEMM and rounds the product once, and the graph saves the half copies
        if (Training.Amp.Autocast.Active is not null) { a = PrecisionOps.ForAutocast(a); b = PrecisionOps.ForAutocast(b); }
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: expected both operands to have the same dtype, but got {a.DType.TorchName()} and {b.DType.TorchName()}");
        if (!a.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected floating point operands, got {a.DType.TorchName()}");
        if (a.shape[^1] != b.shape[^2])
            throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} cannot be multiplied ({a.shape[^1]} != {b.shape[^2]})");
        if (a.Rank != b.Rank || !a.shape.AsSpan(0, a.Rank - 2).SequenceEqual(b.shape.AsSpan(0, b.Rank - 2)))
            throw new ArgumentException($"{op}: expected equal batch dims, got shapes {a.Shape} and {b.Shape}");
        // an empty operand (a batch of 0, or k = 0: a sum of no terms) needs no GEMM: the product is empty or zeros, as in PyTorch
        var y = a.NumEl == 0 || b.NumEl == 0 ? Torch.Zeros([.. a.shape.AsSpan(0, a.Rank - 1), b.shape[^1]], a.DType)
            : Backend.Of(a).MatMul(a, b, alpha, layoutOf is null || layoutOf.Rank != a.Rank ? null : DenseOrder(layoutOf));
        // A gradient takes the layout of its operand (as PyTorch's mm backward does): for a transposed view such as
        // linear's Wᵀ, (Aᵀ·g) is computed as (gᵀ·A)ᵀ, so W's gradient arrives contiguous instead of as a transposed view
        // that accumulation would copy element by element. Each product sums the same terms in the same order.
        return Recording.Binary(y, a.Rank >= 3 ? "BmmBackward0" : "MmBackward0", a, b,
            g => GradOfLeft(g, a, b, op, alpha), g => GradOfRight(g, a, b, op, alpha), a, b);
    }

    // A batched operand that lies permuted (attention heads [N, H, L, d] cut from [N, L, E]) gets its gradient laid out
    // the same way, so that the gradient flows back through the operand's permute and reshape as views, not copies.
    static Tensor GradOfLeft(Tensor g, Tensor a, Tensor b, string op, double alpha = 1) =>
        IsColumnMajor(a) ? Mm(b, g.MT, op, alpha, a.MT).MT : Mm(g, b.MT, op, alpha, a);

    static Tensor GradOfRight(Tensor g, Tensor a, Tensor b, string op, double alpha = 1) =>
        IsColumnMajor(b) ? Mm(g.MT, a, op, alpha, b.MT).MT : Mm(a.MT, g, op, alpha, b);

    /// <summary>
    /// The order of <paramref name="t"/>'s dims in memory, outermost first, where t is a dense, non-contiguous view of
    /// rank 3 or more whose last dim is innermost (heads [N, H, L, d] cut from an [N, L, E] tensor lie as [N, L, H, d]:
    /// 0, 2, 1, 3); null for anything else, whose products are stored contiguous.
    /// </summary>
    internal static int[]? DenseOrder(Tensor t)
    {
        int r = t.Rank;
        if (r < 3 || t.IsContiguous || t.strides[r - 1] != 1) return null;
        var order = new int[r];
        for (int i = 0; i < r; i++) order[i] = i;
        // by stride, largest first; equal strides keep their dims' order (insertion sort: a handful of dims)
        for (int i = 1; i < r; i++)
            for (int j = i; j > 0 && t.strides[order[j]] > t.strides[order[j - 1]]; j--)
                (order[j], order[j - 1]) = (order[j - 1], order[j]);
        if (order[r - 1] != r - 1) return null;
        long expected = 1;
        for (int i = r - 1; i >= 0; i--)
        {
            int d = order[i];
            if (t.shape[d] != 1 && t.strides[d] != expected) return null;
            expected *= t.shape[d];
        }
        return order;
    }

    /// <summary>
    /// bias + a·b for a [m, k], b [k, n], bias [n] (torch.addmm with beta = alpha = 1, linear's fused form): the bias
    /// rides in the GEMM (no separate add over the product). Grads: g summed over rows for the bias, and mm's for a, b.
    /// Float32 and float64 outside autocast only; callers fall back to mm + add otherwise.
    /// </summary>
    public static Tensor AddMm(Tensor bias, Tensor a, Tensor b)
    {
        const string op = "addmm";
        var y = Backend.Of(a).AddMm(bias, a, b);
        int[] biasShape = bias.shape;
        // bias last, as in the composed mm + add it replaces: the engine then reaches the bias's leaf first, as before
        return Recording.Many(y, "AddmmBackward0", [a, b, bias], (g, node) =>
            [node.NeedsInputGrad(0) ? GradOfLeft(g, a, b, op) : null,
             node.NeedsInputGrad(1) ? GradOfRight(g, a, b, op) : null,
             node.NeedsInputGrad(2) ? g.SumTo(biasShape) : null], a, b);
    }

    static bool IsColumnMajor(Tensor t) =>
        t.shape[^1] > 1 && t.shape[^2] > 1 && t.strides[^2] == 1 && t.strides[^1] >= t.shape[^2];

    /// <summary>
    /// torch.matmul's rules, times <paramref name="alpha"/> (applied by the GEMM as it stores each sum). A batched product
    /// is laid out as <paramref name="layoutOf"/> where that is a permuted dense tensor of its rank (<see cref="DenseOrder"/>).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, double alpha = 1, Tensor? layoutOf = null)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"matmul: both arguments need at least 1 dimension, got shapes {a.Shape} and {b.Shape}");
        // checked here, before 1-D operands get their unit dims, so the message shows the shapes the caller passed
        int inner = a.shape[^1], against = b.Rank == 1 ? b.shape[0] : b.shape[^2];
        if (inner != against)
            throw new ArgumentException($"matmul: shapes {a.Shape} and {b.Shape} cannot be multiplied ({inner} != {against})");
        if (a.Rank == 1 && b.Rank == 1)
        {
            return Mm(a.Unsqueeze(0), b.Unsqueeze(1), "matmul", alpha).Reshape();
        }
        if (a.Rank == 1) return MatMul(a.Unsqueeze(0), b, alpha).Squeeze(-2);
        if (b.Rank == 1) return MatMul(a, b.Unsqueeze(1), alpha).Squeeze(-1);
        if (a.shape[^1] != b.shape[^2])
            throw new ArgumentException($"matmul: shapes {a.Shape} and {b.Shape} cannot be multiplied ({a.shape[^1]} != {b.shape[^2]})");
        if (a.Rank == 2 && b.Rank == 2) return Mm(a, b, "matmul", alpha);
        if (b.Rank == 2)
        {
            // [..., m, k] × [k, n]: fold the batch into rows, one GEMM
            var lead = a.shape[..^1];
            var flat = Mm(a.Reshape(-1, a.shape[^1]), b, "matmul", alpha);
            return flat.Reshape([.. lead, b.shape[1]]);
        }
        var batchA = a.shape[..^2]; var batchB = b.shape[..^2];
        var batch = Broadcasting.Shape(batchA, batchB, "matmul");
        // The batch stays in its dims: the GEMM reads each product where it lies, so a permuted or expanded batch is
        // never copied (folding it into one dim would copy whatever does not merge, e.g. heads cut from [N, L, E]).
        if (!batchA.AsSpan().SequenceEqual(batch)) a = a.Expand([.. batch, a.shape[^2], a.shape[^1]]);
        if (!batchB.AsSpan().SequenceEqual(batch)) b = b.Expand([.. batch, b.shape[^2], b.shape[^1]]);
        return Mm(a, b, "matmul", alpha, layoutOf);
    }
}
