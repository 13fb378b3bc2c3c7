using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Writes <paramref name="outOfPlace"/>'s result into this tensor's storage. Under autograd the history is rebased,
    /// as PyTorch does for in-place ops: the op is recorded against a stand-in that keeps this tensor's old grad_fn,
    /// then this tensor takes the new grad_fn. If the op saved its input for backward (mul_, div_, clamp_ with a
    /// tensor), it runs on a copy of the old values, so the backward never reads the overwritten data.
    /// </summary>
    Tensor InPlace(string op, Func<Tensor, Tensor> outOfPlace)
    {
        if (!GradMode.IsEnabled) return WriteBack(op, outOfPlace(this));
        var standIn = new Tensor(storage, shape, strides, offset) { requiresGrad = requiresGrad, gradFn = gradFn };
        var result = outOfPlace(standIn);
        var node = result.gradFn;
        if (node is null) return WriteBack(op, result);
        if (IsLeaf && requiresGrad)
            throw new InvalidOperationException($"{op}: a leaf Variable that requires grad is being used in an in-place operation (shape {Shape}); wrap it in Torch.NoGrad() or use the out-of-place form");
        if (node.SavesStorage(storage))
        {
            result = outOfPlace(standIn.Clone());
            node = result.gradFn!;
        }
        WriteBack(op, result);
        gradFn = node;
        return this;
    }

    Tensor WriteBack(string op, Tensor result)
    {
        if (!result.Shape.Equals(Shape))
            throw new ArgumentException($"{op}: output with shape {Shape} doesn't match the broadcast shape {result.Shape}");
        Backend.Of(this).Copy(result, Detach());
        BumpVersion();
        return this;
    }

    bool FastInPlace(Tensor other) =>
        !(GradMode.IsEnabled && (RequiresGrad || other.RequiresGrad)) && IsContiguous && other.IsContiguous
        && other.DType == DType && DType is DType.Float32 or DType.Float64 && (other.NumEl == NumEl && other.shape.AsSpan().SequenceEqual(shape) || other.NumEl == 1);

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
        return InPlace("add_", x => x.Add(other, alpha));
    }
    /// <summary>this += scalar.</summary>
    public Tensor AddInPlace(double value) => AddInPlace(ScalarLike(value));
    /// <summary>this −= other·alpha (torch.Tensor.sub_).</summary>
    public Tensor SubInPlace(Tensor other, double alpha = 1)
    {
        if (alpha == 1 && FastInPlace(other)) return FastBinary(BinaryOp.Sub, other);
        return InPlace("sub_", x => x.Sub(other, alpha));
    }
    /// <summary>this ·= other (torch.Tensor.mul_).</summary>
    public Tensor MulInPlace(Tensor other) => FastInPlace(other) ? FastBinary(BinaryOp.Mul, other) : InPlace("mul_", x => x.Mul(other));
    /// <summary>this ·= scalar.</summary>
    public Tensor MulInPlace(double value) => MulInPlace(ScalarLike(value));
    /// <summary>this /= other (torch.Tensor.div_).</summary>
    public Tensor DivInPlace(Tensor other) => FastInPlace(other) ? FastBinary(BinaryOp.Div, other) : InPlace("div_", x => x.Div(other));
    /// <summary>this /= scalar.</summary>
    public Tensor DivInPlace(double value) => DivInPlace(ScalarLike(value));
    /// <summary>Clamps in place (torch.Tensor.clamp_).</summary>
    public Tensor ClampInPlace(double? min = null, double? max = null) => InPlace("clamp_", x => x.Clamp(min, max));
    /// <summary>ReLU in place (torch.relu_).</summary>
    public Tensor ReluInPlace() => InPlace("relu_", x => x.Relu());
    /// <summary>Fills with value where mask is true, in place (torch.Tensor.masked_fill_).</summary>
    public Tensor MaskedFillInPlace(Tensor mask, double value) => InPlace("masked_fill_", x => x.MaskedFill(mask, value));

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
        if (src.Rank > Rank || !Broadcasting.Shape(src.shape, shape, "copy_").AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"copy_: source of shape {src.Shape} cannot be broadcast to the destination shape {Shape}");
        // under autograd the old values no longer matter: the new history is src's, expanded and converted
        if (GradMode.IsEnabled && IsLeaf && requiresGrad)
            throw new InvalidOperationException($"copy_: a leaf Variable that requires grad is being used in an in-place operation (shape {Shape})");
        if (GradMode.IsEnabled && (src.RequiresGrad || RequiresGrad))
            return InPlace("copy_", x => Torch.Where(Torch.Ones(shape, DType.Bool), src.To(DType), x));
        Backend.Of(this).Copy(src, this);
        BumpVersion();
        return this;
    }
}
