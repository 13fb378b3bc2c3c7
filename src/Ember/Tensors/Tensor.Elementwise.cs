using Ember.Autograd;
using Ember.Kernels.Operators;
using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>A 0-d tensor holding <paramref name="value"/> in the dtype a scalar operand takes next to this tensor.</summary>
    /// Next to a half type it stays float32: PyTorch computes with the scalar's own value, not its half rounding.
    Tensor ScalarLike(double value) => Torch.Scalar(value, DType.IsFloatingPoint() && !DType.IsReducedFloat() ? DType : DType.Float32);
    Tensor ScalarLike(long value) => Torch.Scalar(value, DType == DType.Bool ? DType.Int64 : DType);

    /// <summary>this + other·alpha, broadcasting (torch.add).</summary>
    public Tensor Add(Tensor other, double alpha = 1) => BinaryOps.Add(this, alpha == 1 ? other : other * alpha);
    /// <summary>this − other·alpha (torch.sub).</summary>
    public Tensor Sub(Tensor other, double alpha = 1) => BinaryOps.Sub(this, alpha == 1 ? other : other * alpha);
    /// <summary>Elementwise product (torch.mul).</summary>
    public Tensor Mul(Tensor other) => BinaryOps.Mul(this, other);
    /// <summary>True division (torch.div).</summary>
    public Tensor Div(Tensor other) => BinaryOps.Div(this, other);
    /// <summary>Elementwise power (torch.pow).</summary>
    public Tensor Pow(Tensor exponent) => BinaryOps.Pow(this, exponent);
    /// <summary>Power with a scalar exponent (torch.pow).</summary>
    public Tensor Pow(double exponent) => BinaryOps.Pow(this, exponent);
    /// <summary>Elementwise maximum, NaN-propagating (torch.maximum).</summary>
    public Tensor Maximum(Tensor other) => BinaryOps.MaxMin(this, other, max: true);
    /// <summary>Elementwise minimum, NaN-propagating (torch.minimum).</summary>
    public Tensor Minimum(Tensor other) => BinaryOps.MaxMin(this, other, max: false);

    /// <summary>−x (torch.neg).</summary>
    public Tensor Neg() => UnaryOps.Neg(this);
    /// <summary>|x| (torch.abs).</summary>
    public Tensor Abs() => UnaryOps.Abs(this);
    /// <summary>sign(x) ∈ {−1, 0, 1} (torch.sign).</summary>
    public Tensor Sign() => UnaryOps.Sign(this);
    /// <summary>eˣ (torch.exp).</summary>
    public Tensor Exp() => UnaryOps.Exp(this);
    /// <summary>Natural log (torch.log).</summary>
    public Tensor Log() => UnaryOps.Log(this);
    /// <summary>log(1 + x), accurate near 0 (torch.log1p).</summary>
    public Tensor Log1p() => UnaryOps.Log1p(this);
    /// <summary>eˣ − 1, accurate near 0 (torch.expm1).</summary>
    public Tensor Expm1() => UnaryOps.Expm1(this);
    /// <summary>√x (torch.sqrt).</summary>
    public Tensor Sqrt() => UnaryOps.Sqrt(this);
    /// <summary>1/√x (torch.rsqrt).</summary>
    public Tensor Rsqrt() => UnaryOps.Rsqrt(this);
    /// <summary>x² (torch.square).</summary>
    public Tensor Square() => UnaryOps.Square(this);
    /// <summary>1/x (torch.reciprocal).</summary>
    public Tensor Reciprocal() => UnaryOps.Reciprocal(this);
    /// <summary>sin x (torch.sin).</summary>
    public Tensor Sin() => UnaryOps.Sin(this);
    /// <summary>cos x (torch.cos).</summary>
    public Tensor Cos() => UnaryOps.Cos(this);
    /// <summary>tanh x (torch.tanh).</summary>
    public Tensor Tanh() => UnaryOps.Tanh(this);
    /// <summary>1/(1 + e^(−x)) (torch.sigmoid).</summary>
    public Tensor Sigmoid() => UnaryOps.Sigmoid(this);
    /// <summary>max(x, 0) (torch.relu).</summary>
    public Tensor Relu() => UnaryOps.Relu(this);
    /// <summary>The error function (torch.erf).</summary>
    public Tensor Erf() => UnaryOps.Erf(this);
    /// <summary>log(1 + e^(βx))/β (torch.nn.functional.softplus).</summary>
    public Tensor Softplus(double beta = 1, double threshold = 20) => UnaryOps.Softplus(this, beta, threshold);
    /// <summary>log σ(x) (torch.nn.functional.logsigmoid).</summary>
    public Tensor LogSigmoid() => UnaryOps.LogSigmoid(this);
    /// <summary>Rounds down (torch.floor).</summary>
    public Tensor Floor() => UnaryOps.Floor(this);
    /// <summary>Rounds up (torch.ceil).</summary>
    public Tensor Ceil() => UnaryOps.Ceil(this);
    /// <summary>Rounds half to even (torch.round).</summary>
    public Tensor Round() => UnaryOps.Round(this);
    /// <summary>Rounds toward zero (torch.trunc).</summary>
    public Tensor Trunc() => UnaryOps.Trunc(this);

    /// <summary>Clamps into [min, max]; either bound may be null (torch.clamp). The gradient passes where min ≤ x ≤ max.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("clamp: at least one of min or max must not be None");
        var y = this;
        if (min is double lo) y = Torch.Where(y < lo, BoundLike(lo).ExpandAs(y), y);
        if (max is double hi) y = Torch.Where(y > hi, BoundLike(hi).ExpandAs(y), y);
        return Recording.Named(y, "ClampBackward1", this);
    }

    // An integral bound keeps an integer tensor integer (torch.clamp(int_tensor, 0, 5) is int64); a fractional one promotes.
    Tensor BoundLike(double value) => DType == DType.Int64 && value == Math.Floor(value) ? Torch.Scalar(value, DType.Int64) : ScalarLike(value);

    /// <summary>
    /// Clamps with tensor bounds, broadcasting (torch.clamp with tensors). The gradient goes to the bound where it is
    /// selected and to this tensor elsewhere.
    /// </summary>
    public Tensor Clamp(Tensor? min, Tensor? max)
    {
        if (min is null && max is null) throw new ArgumentException("clamp: at least one of min or max must not be None");
        var y = this;
        if (min is not null) y = Torch.Where(y < min, min, y);
        if (max is not null) y = Torch.Where(y > max, max, y);
        return Recording.Named(y, "ClampBackward0", this, min ?? this, max ?? this);
    }

    /// <summary>Elementwise equality → bool (torch.eq).</summary>
    public Tensor Eq(Tensor other) => BinaryOps.Compare(CompareOp.Eq, this, other);
    /// <summary>Elementwise equality with a scalar → bool.</summary>
    public Tensor Eq(double other) => Eq(ScalarLike(other));
    /// <summary>Elementwise inequality → bool (torch.ne).</summary>
    public Tensor Ne(Tensor other) => BinaryOps.Compare(CompareOp.Ne, this, other);
    /// <summary>Elementwise inequality with a scalar → bool.</summary>
    public Tensor Ne(double other) => Ne(ScalarLike(other));
    /// <summary>this &lt; other (torch.lt).</summary>
    public Tensor Lt(Tensor other) => BinaryOps.Compare(CompareOp.Lt, this, other);
    /// <summary>this ≤ other (torch.le).</summary>
    public Tensor Le(Tensor other) => BinaryOps.Compare(CompareOp.Le, this, other);
    /// <summary>this &gt; other (torch.gt).</summary>
    public Tensor Gt(Tensor other) => BinaryOps.Compare(CompareOp.Gt, this, other);
    /// <summary>this ≥ other (torch.ge).</summary>
    public Tensor Ge(Tensor other) => BinaryOps.Compare(CompareOp.Ge, this, other);

    /// <summary>Logical and of bool tensors (torch.logical_and).</summary>
    public Tensor LogicalAnd(Tensor other) => (AsBoolInt() * other.AsBoolInt()).Ne(0.0);
    /// <summary>Logical or (torch.logical_or).</summary>
    public Tensor LogicalOr(Tensor other) => (AsBoolInt() + other.AsBoolInt()).Ne(0.0);
    /// <summary>Logical xor (torch.logical_xor).</summary>
    public Tensor LogicalXor(Tensor other) => AsBoolInt().Ne(other.AsBoolInt());
    /// <summary>Logical not (torch.logical_not).</summary>
    public Tensor LogicalNot() => AsBoolInt().Eq(0.0);
    Tensor AsBoolInt() => (DType == DType.Bool ? this : Ne(0.0)).To(DType.Int64);

    /// <summary>True where NaN (torch.isnan).</summary>
    public Tensor IsNan() => Ne(this);
    /// <summary>True where finite (torch.isfinite).</summary>
    public Tensor IsFinite() => DType.IsFloatingPoint() ? Detach().Sub(Detach()).Eq(0.0) : Torch.OnesLike(this, DType.Bool);
    /// <summary>True where ±∞ (torch.isinf).</summary>
    public Tensor IsInf() => IsFinite().LogicalOr(IsNan()).LogicalNot();

    /// <summary>Fills value where mask is true (torch.masked_fill); the mask broadcasts.</summary>
    public Tensor MaskedFill(Tensor mask, double value) => Recording.Named(Torch.Where(mask, Torch.Scalar(value, DType), this), "MaskedFillBackward0", this);

    /// <summary>Sums a broadcast tensor down to <paramref name="shape"/> (torch.Tensor.sum_to_size).</summary>
    public Tensor SumTo(int[] shape) => BinaryOps.SumTo(this, shape);

    /// <summary>a + b</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    /// <summary>a + scalar</summary>
    public static Tensor operator +(Tensor a, double b) => BinaryOps.Add(a, a.ScalarLike(b));
    /// <summary>scalar + a</summary>
    public static Tensor operator +(double a, Tensor b) => BinaryOps.Add(b.ScalarLike(a), b);
    /// <summary>a + integer scalar</summary>
    public static Tensor operator +(Tensor a, long b) => BinaryOps.Add(a, a.ScalarLike(b));
    /// <summary>a − b</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    /// <summary>a − scalar</summary>
    public static Tensor operator -(Tensor a, double b) => BinaryOps.Sub(a, a.ScalarLike(b));
    /// <summary>scalar − a</summary>
    public static Tensor operator -(double a, Tensor b) => BinaryOps.Sub(b.ScalarLike(a), b);
    /// <summary>a − integer scalar</summary>
    public static Tensor operator -(Tensor a, long b) => BinaryOps.Sub(a, a.ScalarLike(b));
    /// <summary>−a</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>integer scalar + a</summary>
    public static Tensor operator +(long a, Tensor b) => BinaryOps.Add(b.ScalarLike(a), b);
    /// <summary>integer scalar − a</summary>
    public static Tensor operator -(long a, Tensor b) => BinaryOps.Sub(b.ScalarLike(a), b);
    /// <summary>a · b</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>a · scalar</summary>
    public static Tensor operator *(Tensor a, double b) => BinaryOps.Mul(a, a.ScalarLike(b));
    /// <summary>scalar · a</summary>
    public static Tensor operator *(double a, Tensor b) => BinaryOps.Mul(b.ScalarLike(a), b);
    /// <summary>a · integer scalar</summary>
    public static Tensor operator *(Tensor a, long b) => BinaryOps.Mul(a, a.ScalarLike(b));
    /// <summary>integer scalar · a</summary>
    public static Tensor operator *(long a, Tensor b) => BinaryOps.Mul(b.ScalarLike(a), b);
    /// <summary>a / b</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    /// <summary>a / scalar</summary>
    public static Tensor operator /(Tensor a, double b) => BinaryOps.Div(a, a.ScalarLike(b));
    /// <summary>scalar / a</summary>
    public static Tensor operator /(double a, Tensor b) => BinaryOps.Div(b.ScalarLike(a), b);
    /// <summary>a &lt; b → bool</summary>
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    /// <summary>a &gt; b → bool</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    /// <summary>a ≤ b → bool</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    /// <summary>a ≥ b → bool</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    /// <summary>a &lt; scalar → bool</summary>
    public static Tensor operator <(Tensor a, double b) => a.Lt(a.ScalarLike(b));
    /// <summary>a &gt; scalar → bool</summary>
    public static Tensor operator >(Tensor a, double b) => a.Gt(a.ScalarLike(b));
    /// <summary>a ≤ scalar → bool</summary>
    public static Tensor operator <=(Tensor a, double b) => a.Le(a.ScalarLike(b));
    /// <summary>a ≥ scalar → bool</summary>
    public static Tensor operator >=(Tensor a, double b) => a.Ge(a.ScalarLike(b));
    /// <summary>Logical and of bool tensors.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.LogicalAnd(b);
    /// <summary>Logical or of bool tensors.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.LogicalOr(b);
    /// <summary>Logical not of a bool tensor.</summary>
    public static Tensor operator !(Tensor a) => a.LogicalNot();
}
