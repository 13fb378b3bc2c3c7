using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Operators;

namespace Ember.Ops;

/// <summary>Broadcasting binary ops. Each gradient is reduced back to its input's shape with SumTo.</summary>
internal static class BinaryOps
{
    /// <summary>Promotes both operands to a common dtype (torch.result_type).</summary>
    static (Tensor, Tensor) Promote(Tensor a, Tensor b)
    {
        if (a.DType == b.DType) return (a, b);
        var t = ResultType(a, b);
        return (a.To(t), b.To(t));
    }

    /// <summary><see cref="Promote"/> for add, sub, mul and div, which may leave a 0-d operand in float32 beside a half-type tensor.</summary>
    static (Tensor, Tensor) PromoteArithmetic(Tensor a, Tensor b)
    {
        if (a.DType == b.DType) return (a, b);
        var t = ResultType(a, b);
        // A 0-d operand next to a half-type tensor stays in float32 (the backend computes half types in float32):
        // PyTorch uses such a scalar's original value, so h * 0.1 is rounded once, not after rounding 0.1 to half.
        if (t.IsReducedFloat())
        {
            if (a.Rank == 0 && a.DType != t) return (a.To(DType.Float32), b.To(t));
            if (b.Rank == 0 && b.DType != t) return (a.To(t), b.To(DType.Float32));
        }
        return (a.To(t), b.To(t));
    }

    /// <summary>
    /// torch.result_type for two tensors: a 0-d tensor next to a dimensioned one only decides the type when it is of a
    /// higher category (bool &lt; integer &lt; floating), so float32 · float64-scalar stays float32 while int64 · float64-scalar is float64.
    /// </summary>
    internal static DType ResultType(Tensor a, Tensor b)
    {
        if (a.DType == b.DType) return a.DType;
        if ((a.Rank == 0) != (b.Rank == 0))
        {
            var (dimensioned, zeroDim) = a.Rank == 0 ? (b.DType, a.DType) : (a.DType, b.DType);
            return Category(zeroDim) > Category(dimensioned) ? zeroDim : dimensioned;
        }
        return DTypeExtensions.Promote(a.DType, b.DType);
    }

    static int Category(DType t) => t.Category();

    static Tensor Prim(BinaryOp op, Tensor a, Tensor b) => Backend.Of(a).Binary(op, a, b);

    // The hot arithmetic ops build their backward closures in separate methods, only when recording: a lambda that
    // captures locals makes the compiler allocate its closure on entry, which doubled the cost of a small add.
    public static Tensor Add(Tensor a, Tensor b)
    {
        (a, b) = PromoteArithmetic(a, b);
        var y = Prim(BinaryOp.Add, a, b);
        return Recording.IsOn(a, b) ? RecordAdd(y, a, b) : y;
    }

    static Tensor RecordAdd(Tensor y, Tensor a, Tensor b)
    {
        int[] sa = a.shape, sb = b.shape;
        return Recording.Binary(y, "AddBackward0", a, b, g => g.SumTo(sa), g => g.SumTo(sb));
    }

    public static Tensor Sub(Tensor a, Tensor b)
    {
        (a, b) = PromoteArithmetic(a, b);
        var y = Prim(BinaryOp.Sub, a, b);
        return Recording.IsOn(a, b) ? RecordSub(y, a, b) : y;
    }

    static Tensor RecordSub(Tensor y, Tensor a, Tensor b)
    {
        int[] sa = a.shape, sb = b.shape;
        return Recording.Binary(y, "SubBackward0", a, b, g => g.SumTo(sa), g => (-g).SumTo(sb));
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        (a, b) = PromoteArithmetic(a, b);
        var y = Prim(BinaryOp.Mul, a, b);
        return Recording.IsOn(a, b) ? RecordMul(y, a, b) : y;
    }

    static Tensor RecordMul(Tensor y, Tensor a, Tensor b)
    {
        int[] sa = a.shape, sb = b.shape;
        return Recording.Binary(y, "MulBackward0", a, b, g => (g * b).SumTo(sa), g => (g * a).SumTo(sb), a, b);
    }

    public static Tensor Div(Tensor a, Tensor b)
    {
        (a, b) = PromoteArithmetic(a, b);
        if (!a.DType.IsFloatingPoint()) { a = a.To(DType.Float32); b = b.To(DType.Float32); } // true division, as torch.div
        var y = Prim(BinaryOp.Div, a, b);
        return Recording.IsOn(a, b) ? RecordDiv(y, a, b) : y;
    }

    static Tensor RecordDiv(Tensor y, Tensor a, Tensor b)
    {
        int[] sa = a.shape, sb = b.shape;
        return Recording.Binary(y, "DivBackward0", a, b, g => (g / b).SumTo(sa), g => (-g * a / (b * b)).SumTo(sb), a, b);
    }

    public static Tensor Pow(Tensor a, Tensor b)
    {
        (a, b) = Promote(a, b);
        int[] sa = a.shape, sb = b.shape;
        var y = Prim(BinaryOp.Pow, a, b);
        return Recording.Binary(y, "PowBackward1", a, b,
            g => (g * b * a.Pow(b - 1.0)).MaskedFill(b.Eq(0.0), 0.0).SumTo(sa),
            // d/db a^b = a^b·log a; PyTorch defines it as 0 where a == 0 and b ≥ 0
            g => (g * y * a.Log()).MaskedFill(a.Eq(0.0).LogicalAnd(b >= 0.0), 0.0).SumTo(sb),
            a, b, y);
    }

    /// <summary>a^exponent for a scalar exponent; x² and √x keep their exact primitives.</summary>
    public static Tensor Pow(Tensor a, double exponent)
    {
        if (exponent == 2) return UnaryOps.Square(a);
        if (exponent == 1) return a.Clone();
        var e = Torch.Scalar(exponent, a.DType.IsFloatingPoint() ? a.DType : DType.Float32);
        if (!a.DType.IsFloatingPoint() && exponent == Math.Floor(exponent) && exponent >= 0) e = e.To(a.DType);
        var (pa, pe) = Promote(a, e);
        var y = Prim(BinaryOp.Pow, pa, pe);
        return Recording.Unary(y, "PowBackward0", pa, g => exponent == 0 ? Torch.ZerosLike(g) : g * pa.Pow(exponent - 1) * exponent, pa);
    }

    /// <summary>torch.maximum / torch.minimum: ties send half of the gradient to each side, as PyTorch does.</summary>
    public static Tensor MaxMin(Tensor a, Tensor b, bool max)
    {
        (a, b) = Promote(a, b);
        int[] sa = a.shape, sb = b.shape;
        var y = Prim(max ? BinaryOp.Maximum : BinaryOp.Minimum, a, b);
        Tensor Share(Tensor g, Tensor mine, Tensor other)
        {
            var wins = max ? mine > other : mine < other;
            var ties = mine.Eq(other);
            return Torch.Where(wins, g, Torch.Where(ties, g * 0.5, Torch.ZerosLike(g)));
        }
        return Recording.Binary(y, max ? "MaximumBackward0" : "MinimumBackward0", a, b,
            g => Share(g, a, b).SumTo(sa), g => Share(g, b, a).SumTo(sb), a, b);
    }

    public static Tensor Compare(CompareOp op, Tensor a, Tensor b)
    {
        (a, b) = Promote(a, b);
        return Backend.Of(a).Compare(op, a, b);
    }

    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        if (condition.DType != DType.Bool)
            throw new ArgumentException($"where: expected condition to be a bool tensor, got {condition.DType.TorchName()}");
        (a, b) = Promote(a, b);
        int[] sa = a.shape, sb = b.shape;
        var y = Backend.Of(a).Where(condition, a, b);
        return Recording.Binary(y, "WhereBackward0", a, b,
            g => Torch.Where(condition, g, Torch.ZerosLike(g)).SumTo(sa),
            g => Torch.Where(condition, Torch.ZerosLike(g), g).SumTo(sb));
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (the backward of expand).</summary>
    public static Tensor SumTo(Tensor g, int[] shape)
    {
        if (g.shape.AsSpan().SequenceEqual(shape)) return g;
        int lead = g.Rank - shape.Length;
        var dims = new List<int>();
        for (int d = 0; d < g.Rank; d++)
            if (d < lead || (shape[d - lead] == 1 && g.shape[d] != 1)) dims.Add(d);
        var summed = dims.Count == 0 ? g : g.Sum(dims.ToArray(), keepDim: true);
        return summed.Reshape(shape);
    }
}
