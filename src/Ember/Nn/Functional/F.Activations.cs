namespace Ember.Nn.Functional;

// Activations, written from the core ops: most backwards come from the composition; the piecewise-linear ones have their
// own (Ops.PiecewiseOps) so the gradient at a breakpoint is PyTorch's.
public static partial class F
{
    const double SeluAlpha = 1.6732632423543772848170429916717;
    const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>max(0, x) (torch.nn.functional.relu); <paramref name="inplace"/> overwrites x.</summary>
    public static Tensor Relu(Tensor x, bool inplace = false) => inplace ? x.ReluInPlace() : x.Relu();

    /// <summary>min(max(0, x), 6) (torch.nn.functional.relu6).</summary>
    public static Tensor Relu6(Tensor x) => Hardtanh(x, 0, 6);

    /// <summary>x for x &gt; 0, slope·x otherwise (torch.nn.functional.leaky_relu).</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01)
        => Autograd.Recording.Named(Torch.Where(x > 0.0, x, x * negativeSlope), "LeakyReluBackward0", x);

    /// <summary>x where x &gt; threshold, else value (torch.nn.functional.threshold); the gradient is 0 at the threshold.</summary>
    public static Tensor Threshold(Tensor x, double threshold, double value) => Ops.PiecewiseOps.Threshold(x, threshold, value);

    /// <summary>
    /// x for x &gt; 0, w·x otherwise (torch.nn.functional.prelu). <paramref name="weight"/> has one element (shared) or
    /// one per channel, the channel being dim 1 (dim 0 for a 1-D input).
    /// </summary>
    public static Tensor Prelu(Tensor x, Tensor weight)
    {
        var w = weight;
        if (weight.NumEl != 1)
        {
            int channelDim = x.Rank >= 2 ? 1 : 0;
            if (x.Rank == 0 || x.Size(channelDim) != weight.NumEl)
                throw new ArgumentException($"prelu: expected {weight.NumEl} channels in dim {channelDim} of the input (one per weight), got input shape {x.Shape}");
            var shape = Enumerable.Repeat(1, x.Rank).ToArray();
            shape[channelDim] = weight.NumEl;
            w = weight.Reshape(shape);
        }
        else w = weight.Reshape();
        return Torch.Where(x > 0.0, x, w * x);
    }

    /// <summary>
    /// Randomized leaky ReLU (torch.nn.functional.rrelu): in training each negative element gets its own slope
    /// a ~ U(lower, upper) drawn from <paramref name="generator"/>; in evaluation the slope is (lower + upper)/2.
    /// </summary>
    public static Tensor Rrelu(Tensor x, double lower = 1.0 / 8, double upper = 1.0 / 3, bool training = false, Generator? generator = null)
    {
        if (lower > upper) throw new ArgumentException($"rrelu: expected lower <= upper, got lower={lower}, upper={upper}");
        if (!training) return LeakyRelu(x, (lower + upper) / 2);
        x.DType.RequireNonBool("rrelu");
        var slope = Torch.Uniform(lower, upper, x.Shape.ToArray(), x.DType == DType.Float64 ? DType.Float64 : DType.Float32, generator);
        return Torch.Where(x >= 0.0, x, x * slope.To(x.DType));
    }

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (torch.nn.functional.elu).</summary>
    public static Tensor Elu(Tensor x, double alpha = 1.0)
        // expm1 sees min(x, 0) so the unused branch cannot overflow into a NaN gradient
        => Autograd.Recording.Named(Torch.Where(x > 0.0, x, x.Clamp(max: 0).Expm1() * alpha), "EluBackward0", x);

    /// <summary>scale·elu(x, α) with the self-normalizing constants (torch.nn.functional.selu).</summary>
    public static Tensor Selu(Tensor x) => Autograd.Recording.Named(Elu(x, SeluAlpha) * SeluScale, "EluBackward0", x);

    /// <summary>max(0, x) + min(0, α(e^(x/α) − 1)) (torch.nn.functional.celu).</summary>
    public static Tensor Celu(Tensor x, double alpha = 1.0)
    {
        if (alpha == 0) throw new ArgumentException("celu: alpha must not be 0");
        return Autograd.Recording.Named(Torch.Where(x > 0.0, x, (x.Clamp(max: 0) / alpha).Expm1() * alpha), "CeluBackward0", x);
    }

    /// <summary>x·σ(x), also called Swish (torch.nn.functional.silu).</summary>
    public static Tensor Silu(Tensor x) => Ops.UnaryOps.Silu(x);

    /// <summary>x·Φ(x), exact or with the tanh approximation (torch.nn.functional.gelu).</summary>
    public static Tensor Gelu(Tensor x, GeluApproximate approximate = GeluApproximate.None)
    {
        return approximate == GeluApproximate.Tanh ? Ops.UnaryOps.GeluTanh(x) : Ops.UnaryOps.Gelu(x);
    }

    /// <summary>x·tanh(softplus(x)) (torch.nn.functional.mish).</summary>
    public static Tensor Mish(Tensor x) => x * x.Softplus().Tanh();

    /// <summary>1/(1 + e⁻ˣ) (torch.sigmoid).</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    /// <summary>log σ(x), stable for large |x| (torch.nn.functional.logsigmoid).</summary>
    public static Tensor LogSigmoid(Tensor x) => x.LogSigmoid();

    /// <summary>tanh(x) (torch.tanh).</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();

    /// <summary>clamp(x, min, max); the gradient is zero outside (min, max) and at its ends (torch.nn.functional.hardtanh).</summary>
    public static Tensor Hardtanh(Tensor x, double minVal = -1, double maxVal = 1)
    {
        if (maxVal < minVal) throw new ArgumentException($"hardtanh: max_val ({maxVal}) cannot be less than min_val ({minVal})");
        return Ops.PiecewiseOps.Hardtanh(x, minVal, maxVal);
    }

    /// <summary>log(1 + e^(βx))/β, linear where βx &gt; threshold (torch.nn.functional.softplus).</summary>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => x.Softplus(beta, threshold);

    /// <summary>x/(1 + |x|) (torch.nn.functional.softsign).</summary>
    public static Tensor Softsign(Tensor x)
    {
        x.DType.RequireNonBool("softsign");
        return x / (x.Abs() + 1.0);
    }

    /// <summary>x·relu6(x + 3)/6 (torch.nn.functional.hardswish).</summary>
    public static Tensor Hardswish(Tensor x) => Ops.PiecewiseOps.Hardswish(x);

    /// <summary>relu6(x + 3)/6 (torch.nn.functional.hardsigmoid).</summary>
    public static Tensor Hardsigmoid(Tensor x) => Ops.PiecewiseOps.Hardsigmoid(x);

    /// <summary>exp(xᵢ)/Σⱼexp(xⱼ) along <paramref name="dim"/> (torch.nn.functional.softmax).</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    /// <summary>log softmax along <paramref name="dim"/> (torch.nn.functional.log_softmax).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    /// <summary>softmax(−x) along <paramref name="dim"/> (torch.nn.functional.softmin).</summary>
    public static Tensor Softmin(Tensor x, int dim)
    {
        x.DType.RequireNonBool("softmin");
        return (-x).Softmax(dim);
    }
}
