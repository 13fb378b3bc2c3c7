using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Training;

namespace Ember.Tests.Training;

public class ModelEmaTests
{
    sealed class Tiny : Module
    {
        public readonly Parameter W;
        public Tiny()
        {
            W = RegisterParameter("w", Torch.Tensor(1f, 2f));
            RegisterBuffer("steps", Torch.Scalar(0, DType.Int64));
        }
        public void SetSteps(long v) => SetBuffer("steps", Torch.Scalar(v, DType.Int64));
    }

    [Fact]
    public void Shadow_follows_the_yolov5_formula_and_differs_from_live_weights()
    {
        var model = new Tiny();
        var ema = new ModelEma(model, decay: 0.9, tau: 2);
        double shadow0 = 1, shadow1 = 2;
        for (int step = 1; step <= 4; step++)
        {
            using (Torch.NoGrad()) model.W.AddInPlace(1.0);
            model.SetSteps(step);
            ema.Update();
            double d = 0.9 * (1 - Math.Exp(-step / 2.0));
            Assert.Equal(d, ema.DecayAt(step), 15);
            shadow0 = d * shadow0 + (1 - d) * (1 + step);
            shadow1 = d * shadow1 + (1 - d) * (2 + step);
        }
        TestUtil.Close([shadow0, shadow1], ema.Shadow["w"], rtol: 1e-6);
        Assert.NotEqual(model.W.ToDoubleArray(), ema.Shadow["w"].ToDoubleArray());
        Assert.Equal(4, ema.Shadow["steps"].Item()); // integer buffers are copied, not averaged
        Assert.False(ema.Shadow["w"].RequiresGrad);
    }

    [Fact]
    public void Apply_swaps_the_shadow_in_and_restores_live_weights()
    {
        var model = new Tiny();
        var ema = new ModelEma(model, decay: 0.5, tau: 1);
        using (Torch.NoGrad()) model.W.FillInPlace(10);
        ema.Update();
        var live = model.W.ToDoubleArray();
        using (ema.Apply()) Assert.Equal(ema.Shadow["w"].ToDoubleArray(), model.W.ToDoubleArray());
        Assert.Equal(live, model.W.ToDoubleArray());
    }

    // The vector blend against the float arithmetic it must reproduce bit for bit (each product and the sum rounded to
    // float, no fused multiply-add), at every length 0-257 and from a misaligned start, with NaN, infinities, signed
    // zeros and subnormals among the values; run with DOTNET_EnableAVX512F=0 and DOTNET_EnableAVX2=0 for the other widths.
    [Fact]
    public void Blend_matches_the_scalar_rounding_bit_for_bit_at_every_length()
    {
        var rng = new Random(23);
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1e-42f, -3e-39f, float.MaxValue];
        const float d = 0.99990004f, a = 1 - d;
        for (int n = 0; n <= 257; n++)
            foreach (int offset in new[] { 0, 1 })
            {
                var shadow = new float[n + offset];
                var live = new float[n + offset];
                for (int i = 0; i < shadow.Length; i++)
                {
                    shadow[i] = (float)(rng.NextDouble() * 4 - 2);
                    live[i] = (float)(rng.NextDouble() * 4 - 2);
                    if (rng.Next(16) == 0) shadow[i] = special[rng.Next(special.Length)];
                    if (rng.Next(16) == 0) live[i] = special[rng.Next(special.Length)];
                }
                var expected = new float[n];
                for (int i = 0; i < n; i++)
                {
                    float decayed = shadow[offset + i] * d;
                    float scaled = live[offset + i] * a;
                    expected[i] = decayed + scaled;
                }
                ModelEma.Blend(shadow.AsSpan(offset), live.AsSpan(offset), d, a);
                for (int i = 0; i < n; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(shadow[offset + i]) || float.IsNaN(expected[i]) && float.IsNaN(shadow[offset + i]),
                        $"n = {n}, offset {offset}, element {i}: expected {expected[i]:R}, got {shadow[offset + i]:R}");
            }
    }

    [Fact]
    public void Update_of_a_large_parameter_matches_mul_then_add_in_place()
    {
        // over several vectors of every width, through Update: the composite ops the blend replaced are the oracle
        var model = new Linear(67, 31);
        var ema = new ModelEma(model, decay: 0.9999, tau: 3);
        var before = ema.Shadow["weight"].Clone();
        using (Torch.NoGrad()) model.Weight.AddInPlace(Torch.Randn(31, 67));
        ema.Update();
        double d = ema.DecayAt(1);
        var expected = before.Clone();
        using (Torch.NoGrad())
        {
            expected.MulInPlace(d);
            expected.AddInPlace(model.Weight, 1 - d);
        }
        Assert.Equal(expected.ToArray<float>(), ema.Shadow["weight"].ToArray<float>());
    }
}
