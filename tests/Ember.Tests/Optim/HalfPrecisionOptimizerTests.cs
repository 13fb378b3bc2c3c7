using Ember.Optim;
using Ember.Tests.Reference.Optim;

namespace Ember.Tests.Optim;

/// <summary>
/// Optimizers on float16/bfloat16 parameters: two steps against PyTorch's update run on half tensors
/// (Reference/Optim/half_optimizers.oracle.csx), state kept in the parameter's dtype, and every optimizer's half step equal to
/// its float32 step rounded once.
/// </summary>
public class HalfPrecisionOptimizerTests
{
    const int N = 37;

    static double[] Vals(double a, double s)
    {
        var v = new double[N];
        for (int i = 0; i < N; i++) v[i] = Math.Sin(a * i + 0.3) * s;
        return v;
    }

    static Tensor Param(DType dtype) => Torch.FromArray(Vals(0.37, 0.5), [N]).To(dtype).RequiresGradInPlace();
    static Tensor GradAt(int t, DType dtype) => Torch.FromArray(t == 0 ? Vals(0.91, 0.3) : Vals(1.7, 0.2), [N]).To(dtype);

    /// <summary>One unit in the last place of <paramref name="x"/> in the half type (7 stored significand bits for bfloat16, 10 for float16).</summary>
    static double Ulp(double x, DType dtype)
    {
        int bits = dtype == DType.BFloat16 ? 7 : 10;
        int e = x == 0 ? -24 : Math.Max(Math.ILogB(x), dtype == DType.BFloat16 ? -126 : -14);
        return Math.ScaleB(1.0, e - bits);
    }

    /// <summary>
    /// Each value of a two-step trajectory within two half-precision ulps, at the scale of that element's values (initial, after
    /// step 1, after step 2), of PyTorch's: PyTorch rounds every intermediate (a gradient with weight decay, a buffer, a
    /// Nesterov sum) to the half type and Ember rounds once, so where an update cancels most of a value the difference is in
    /// ulps of the operands, not of the small result. PyTorch's own optimizer classes differ from its algorithm by up to 6e-5. <paramref name="skip"/>
    /// leaves out elements checked another way.
    /// </summary>
    static void WithinTwoUlps(double[] expected, double[] actual, DType dtype, bool[]? skip = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        var p0 = Torch.FromArray(Vals(0.37, 0.5), [N]).To(dtype).ToDoubleArray();
        for (int i = 0; i < expected.Length; i++)
        {
            int e = i % N;
            if (skip is not null && skip[e]) continue;
            double scale = Math.Max(Math.Abs(p0[e]), Math.Max(Math.Abs(expected[e]), expected.Length > N ? Math.Abs(expected[N + e]) : 0));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2 * Ulp(scale, dtype),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (more than two {dtype} ulps at scale {scale} apart)");
        }
    }

    /// <summary>
    /// A state tensor within two half ulps at the scale of its own value or of <paramref name="operands"/> (the terms of its
    /// last update, which may cancel): PyTorch's update of it is two or three half-precision ops, each rounding.
    /// </summary>
    static void StateWithinTwoUlps(double[] expected, double[] actual, DType dtype, double[]? operands = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Max(Math.Abs(expected[i]), operands is null ? 0 : Math.Abs(operands[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2 * Ulp(scale, dtype), $"state element {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    static (double[] Trace, Tensor Param) Run(DType dtype, Func<Tensor, Optimizer> make)
    {
        var p = Param(dtype);
        var opt = make(p);
        var trace = new List<double>();
        for (int t = 0; t < 2; t++)
        {
            p.Grad = GradAt(t, dtype);
            opt.Step();
            Assert.Equal(dtype, p.DType);
            trace.AddRange(p.ToDoubleArray());
        }
        return (trace.ToArray(), p);
    }

    [Fact]
    public void Adam_bfloat16_matches_PyTorch_and_keeps_its_state_in_bfloat16()
    {
        Adam? opt = null;
        var (trace, p) = Run(DType.BFloat16, q => opt = new Adam([q], new AdamOptions { LearningRate = 0.01 }));
        WithinTwoUlps(HalfOptimizerReference.adam_bf16, trace, DType.BFloat16);
        var state = opt!.State(p)!;
        Assert.Equal(DType.BFloat16, state.ExpAvg.DType);
        Assert.Equal(DType.BFloat16, state.ExpAvgSq.DType);
        Assert.Equal(2, state.Step);
        StateWithinTwoUlps(HalfOptimizerReference.adam_bf16_exp_avg_sq, state.ExpAvgSq.ToDoubleArray(), DType.BFloat16);
    }

    [Fact]
    public void Adam_weight_decay_amsgrad_and_AdamW_on_bfloat16()
    {
        WithinTwoUlps(HalfOptimizerReference.adam_bf16_weight_decay_amsgrad,
            Run(DType.BFloat16, q => new Adam([q], new AdamOptions { LearningRate = 0.01, WeightDecay = 0.1, Amsgrad = true })).Trace, DType.BFloat16);
        WithinTwoUlps(HalfOptimizerReference.adamw_bf16,
            Run(DType.BFloat16, q => new AdamW([q], new AdamWOptions { LearningRate = 0.01, WeightDecay = 0.05 })).Trace, DType.BFloat16);
    }

    [Fact]
    public void Adam_float16_matches_PyTorch_where_its_float16_intermediates_are_normal_and_is_more_accurate_where_they_underflow()
    {
        Adam? opt = null;
        var (trace, p) = Run(DType.Float16, q => opt = new Adam([q], new AdamOptions { LearningRate = 0.01 }));
        Assert.Equal(DType.Float16, opt!.State(p)!.ExpAvg.DType);
        // PyTorch's (1 − β₂)·g² is a float16 op: below 2⁻¹⁴ it is subnormal and keeps fewer digits; where its rounding error
        // exceeds 2⁻⁸ (a normal float16 rounds within 2⁻¹¹) the step it takes is off by more than an ulp. Ember computes it in
        // float32 (its stored v rounds to float16 all the same, so step 2 inherits that rounding there: not compared).
        var g1 = GradAt(0, DType.Float16).ToDoubleArray(); var g2 = GradAt(1, DType.Float16).ToDoubleArray();
        var underflow = new bool[N];
        foreach (var g in new[] { g1, g2 })
        {
            var v = new double[N];
            for (int i = 0; i < N; i++) v[i] = 0.001 * g[i] * g[i];
            var v16 = Torch.FromArray(v, [N]).To(DType.Float16).ToDoubleArray();
            for (int i = 0; i < N; i++) underflow[i] |= Math.Abs(v16[i] - v[i]) > Math.ScaleB(v[i], -8);
        }
        Assert.Contains(true, underflow);
        WithinTwoUlps(HalfOptimizerReference.adam_fp16, trace, DType.Float16, underflow);
        // there, step 1 is the exact (float64) Adam step, p − lr·sign(g)·|m̂|/(√v̂ + ε), rounded to float16 within one ulp
        var p0 = Torch.FromArray(Vals(0.37, 0.5), [N]).To(DType.Float16).ToDoubleArray();
        for (int i = 0; i < N; i++)
        {
            if (!underflow[i]) continue;
            double m = 0.1 * g1[i] / 0.1, v = 0.001 * g1[i] * g1[i] / 0.001;
            double exact = p0[i] - 0.01 * m / (Math.Sqrt(v) + 1e-8);
            Assert.True(Math.Abs(trace[i] - exact) <= Ulp(exact, DType.Float16), $"element {i}: exact step {exact:R}, got {trace[i]:R}, PyTorch {HalfOptimizerReference.adam_fp16[i]:R}");
        }
        var terms = new double[N];     // exp_avg = 0.9·exp_avg + 0.1·g: terms at the scale of 0.1·|g|
        for (int i = 0; i < N; i++) terms[i] = 0.1 * Math.Max(Math.Abs(g1[i]), Math.Abs(g2[i]));
        StateWithinTwoUlps(HalfOptimizerReference.adam_fp16_exp_avg, opt.State(p)!.ExpAvg.ToDoubleArray(), DType.Float16, terms);
    }

    [Fact]
    public void Sgd_momentum_on_half_parameters_matches_PyTorch()
    {
        Sgd? opt = null;
        var (trace, p) = Run(DType.BFloat16, q => opt = new Sgd([q], new SgdOptions { LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0.01 }));
        WithinTwoUlps(HalfOptimizerReference.sgd_momentum_bf16, trace, DType.BFloat16);
        Assert.Equal(DType.BFloat16, opt!.State(p)!.MomentumBuffer!.DType);
        StateWithinTwoUlps(HalfOptimizerReference.sgd_momentum_bf16_momentum_buffer, opt.State(p)!.MomentumBuffer!.ToDoubleArray(), DType.BFloat16,
            GradAt(1, DType.BFloat16).ToDoubleArray());     // buffer = 0.9·buffer + g: may cancel down to well below g
        WithinTwoUlps(HalfOptimizerReference.sgd_nesterov_fp16,
            Run(DType.Float16, q => new Sgd([q], new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Nesterov = true })).Trace, DType.Float16);
    }

    public static TheoryData<string, DType> Every() => new()
    {
        { "SGD", DType.BFloat16 }, { "Adam", DType.Float16 }, { "AdamW", DType.BFloat16 }, { "Adagrad", DType.BFloat16 },
        { "Adamax", DType.Float16 }, { "NAdam", DType.BFloat16 }, { "RMSprop", DType.Float16 },
    };

    static Optimizer Make(string name, Tensor p) => name switch
    {
        "SGD" => new Sgd([p], new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }),
        "Adam" => new Adam([p], new AdamOptions { LearningRate = 0.01 }),
        "AdamW" => new AdamW([p], new AdamWOptions { LearningRate = 0.01 }),
        "Adagrad" => new Adagrad([p], new AdagradOptions { LearningRate = 0.1 }),
        "Adamax" => new Adamax([p], new AdamaxOptions { LearningRate = 0.01 }),
        "NAdam" => new NAdam([p], new NAdamOptions { LearningRate = 0.01 }),
        "RMSprop" => new RmsProp([p], new RmsPropOptions { LearningRate = 0.01, Momentum = 0.5, Centered = true }),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Every))]
    public void Every_optimizer_steps_a_half_parameter_as_its_float32_step_rounded_once(string name, DType dtype)
    {
        var half = Param(dtype);
        var single = half.Detach().To(DType.Float32).RequiresGradInPlace();     // the same (half-representable) values
        var optHalf = Make(name, half);
        var optSingle = Make(name, single);
        for (int t = 0; t < 2; t++)
        {
            half.Grad = GradAt(t, dtype);
            single.Grad = half.Grad.To(DType.Float32);
            optHalf.Step(); optSingle.Step();
            Assert.Equal(dtype, half.DType);
            if (t == 0)     // one step from zero state: exactly the float32 result rounded to the half type
                Assert.Equal(single.To(dtype).ToDoubleArray(), half.ToDoubleArray());
        }
        // after two steps the half state has been rounded in between: within a few half ulps of the float32 trajectory
        var h = half.ToDoubleArray(); var s = single.ToDoubleArray();
        for (int i = 0; i < N; i++) Assert.True(Math.Abs(h[i] - s[i]) <= 4 * Ulp(s[i], dtype), $"{name}: element {i}: {h[i]} vs float32 {s[i]}");
    }
}
