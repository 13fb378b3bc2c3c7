using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// Piecewise-linear activations with PyTorch's own backward, so the gradient at each breakpoint is the one PyTorch
/// defines (a composition of clamps would pass the gradient at the ends, where hardtanh's backward gives 0). The
/// backwards are written with Where, so double backward works.
/// </summary>
internal static class PiecewiseOps
{
    /// <summary>clamp(x, min, max); gradient g where min &lt; x &lt; max, 0 elsewhere, the ends included (hardtanh_backward).</summary>
    public static Tensor Hardtanh(Tensor x, double min, double max)
    {
        Tensor y;
        using (Torch.NoGrad()) y = x.Clamp(min, max);
        return Recording.Unary(y, "HardtanhBackward0", x, g => Torch.Where((x > min).LogicalAnd(x < max), g, 0.0), x);
    }

    /// <summary>x·relu6(x + 3)/6; gradient 0 at and below −3, g·(x/3 + ½) on (−3, 3), g from 3 up (libtorch 2.10's hardswish_backward).</summary>
    public static Tensor Hardswish(Tensor x)
    {
        Tensor y;
        using (Torch.NoGrad()) y = x * (x + 3.0).Clamp(0, 6) / 6.0;
        return Recording.Unary(y, "HardswishBackward0", x,
            g => Torch.Where(x <= -3.0, 0.0, Torch.Where(x < 3.0, g * (x / 3.0 + 0.5), g)), x);
    }

    // libtorch's CPU hardsigmoid_backward multiplies by a float 1/6 whatever the dtype (0.1666666716… in float64)
    const double OneSixth = 1f / 6f;

    /// <summary>relu6(x + 3)/6; gradient g/6 where −3 &lt; x &lt; 3, 0 elsewhere, the ends included (hardsigmoid_backward).</summary>
    public static Tensor Hardsigmoid(Tensor x)
    {
        Tensor y;
        using (Torch.NoGrad()) y = (x + 3.0).Clamp(0, 6) / 6.0;
        return Recording.Unary(y, "HardsigmoidBackward0", x, g => Torch.Where((x > -3.0).LogicalAnd(x < 3.0), g * OneSixth, 0.0), x);
    }

    /// <summary>x where x &gt; threshold, else value; gradient g where x &gt; threshold, 0 at and below it (threshold_backward).</summary>
    public static Tensor Threshold(Tensor x, double threshold, double value)
    {
        Tensor y;
        using (Torch.NoGrad()) y = Torch.Where(x > threshold, x, value);
        return Recording.Unary(y, "ThresholdBackward0", x, g => Torch.Where(x > threshold, g, 0.0), x);
    }
}
