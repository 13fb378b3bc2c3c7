using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Writes <paramref name="outOfPlace"/>'s result into this tensor's storage. Under autograd the history is rebased:
    /// this tensor takes the new grad_fn, and a stand-in keeps the old one, as PyTorch does for in-place ops.
    /// </summary>
    Tensor InPlace(string op, Func<Tensor> outOfPlace)
    {
        var result = outOfPlace();
        bool recorded = result.gradFn != null;
        if (recorded && IsLeaf && requiresGrad)
            throw new InvalidOperationException($"{op}: a leaf Variable that requires grad is being used in an in-place operation (shape {Shape}); wrap it in Torch.NoGrad() or use the out-of-place form");
        if (!result.Shape.Equals(Shape))
            throw new ArgumentException($"{op}: output with shape {Shape} doesn't match the broadcast shape {result.Shape}");
        Backend.Of(this).Copy(result, this.Detach());
        BumpVersion();
        if (recorded)
        {
            var previous = new Tensor(storage, shape, strides, offset) { requiresGrad = requiresGrad, gradFn = gradFn };
            var node = result.gradFn!;
            for (int i = 0; i < node.Inputs.Length; i++)
                if (ReferenceEquals(node.Inputs[i], this)) node.Inputs[i] = previous;
            gradFn = node;
        }
        return this;
    }

    bool FastInPlace(Tensor other) =>
        !(GradMode.IsEnabled && (RequiresGrad || other.RequiresGrad)) && IsContiguous && other.IsContiguous
        && other.DType == DType && DType.IsFloatingPoint() && (other.NumEl == NumEl && other.shape.AsSpan().SequenceEqual(shape) || other.NumEl == 1);

    Tensor FastBinary(BinaryOp op, Tensor other)
    {
        if (DType == DType.Float32)
        {
            var s = Span<float>();
            if (other.NumEl == 1 && NumEl != 1) Kernels.Loops.Contiguous.BinaryScalarRight(op, s, other.Span<float>()[0], s);
            else Kernels.Loops.Contiguous.Binary(op, s, other.Span<float>(), s);
        }
        else
        {
            var s = Span<double>();
            if (other.NumEl == 1 && NumEl != 1) Kernels.Loops.Contiguous.BinaryScalarRight(op, s, other.Span<double>()[0], s);
            else Kernels.Loops.Contiguous.Binary(op, s, other.Span<double>(), s);
        }
        BumpVersion();
        return this;
    }

    /// <summary>this += other·alpha (torch.Tensor.add_).</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        if (alpha == 1 && FastInPlace(other)) return FastBinary(BinaryOp.Add, other);
        return InPlace("add_", () => Add(other, alpha));
    }
    /// <summary>this += scalar.</summary>
    public Tensor AddInPlace(double value) => AddInPlace(ScalarLike(value));
    /// <summary>this −= other·alpha (torch.Tensor.sub_).</summary>
    public Tensor SubInPlace(Tensor other, double alpha = 1)
    {
        if (alpha == 1 && FastInPlace(other)) return FastBinary(BinaryOp.Sub, other);
        return InPlace("sub_", () => Sub(other, alpha));
    }
    /// <summary>this ·= other (torch.Tensor.mul_).</summary>
    public Tensor MulInPlace(Tensor other) => FastInPlace(other) ? FastBinary(BinaryOp.Mul, other) : InPlace("mul_", () => Mul(other));
    /// <summary>this ·= scalar.</summary>
    public Tensor MulInPlace(double value) => MulInPlace(ScalarLike(value));
    /// <summary>this /= other (torch.Tensor.div_).</summary>
    public Tensor DivInPlace(Tensor other) => FastInPlace(other) ? FastBinary(BinaryOp.Div, other) : InPlace("div_", () => Div(other));
    /// <summary>this /= scalar.</summary>
    public Tensor DivInPlace(double value) => DivInPlace(ScalarLike(value));
    /// <summary>Clamps in place (torch.Tensor.clamp_).</summary>
    public Tensor ClampInPlace(double? min = null, double? max = null) => InPlace("clamp_", () => Clamp(min, max));
    /// <summary>ReLU in place (torch.relu_).</summary>
    public Tensor ReluInPlace() => InPlace("relu_", Relu);
    /// <summary>Fills with value where mask is true, in place (torch.Tensor.masked_fill_).</summary>
    public Tensor MaskedFillInPlace(Tensor mask, double value) => InPlace("masked_fill_", () => MaskedFill(mask, value));

    /// <summary>Sets every element to <paramref name="value"/> (torch.Tensor.fill_).</summary>
    public Tensor FillInPlace(double value)
    {
        if (GradMode.IsEnabled && IsLeaf && requiresGrad)
            throw new InvalidOperationException($"fill_: a leaf Variable that requires grad is being used in an in-place operation (shape {Shape})");
        Backend.Of(this).Fill(this, value);
        BumpVersion();
        if (gradFn != null) gradFn = new Node("FillBackward0", [], (g, _) => []);
        return this;
    }

    /// <summary>Sets every element to zero (torch.Tensor.zero_).</summary>
    public Tensor ZeroInPlace() => FillInPlace(0);

    /// <summary>Copies src (broadcast, converted) into this tensor's elements (torch.Tensor.copy_).</summary>
    public Tensor CopyFrom(Tensor src)
    {
        if (GradMode.IsEnabled && src.RequiresGrad)
            return InPlace("copy_", () => src.To(DType).Expand(shape) + Torch.ZerosLike(this));
        if (GradMode.IsEnabled && IsLeaf && requiresGrad)
            throw new InvalidOperationException($"copy_: a leaf Variable that requires grad is being used in an in-place operation (shape {Shape})");
        Broadcasting.Shape(src.shape, shape, "copy_");
        if (src.Rank > Rank || !Broadcasting.Shape(src.shape, shape, "copy_").AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"copy_: source of shape {src.Shape} cannot be broadcast to the destination shape {Shape}");
        Backend.Of(this).Copy(src, this);
        BumpVersion();
        return this;
    }
}
