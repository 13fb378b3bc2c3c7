using Ember.Nn;
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
}
