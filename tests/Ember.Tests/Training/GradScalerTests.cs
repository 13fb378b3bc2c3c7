using Ember.Nn;
using Ember.Training.Amp;

namespace Ember.Tests.Training;

public class GradScalerTests
{
    [Fact]
    public void Skips_the_step_on_inf_backs_off_and_grows_after_good_steps()
    {
        var p = new Parameter(Torch.Tensor(1f));
        var scaler = new GradScaler(initScale: 8, growthInterval: 2);
        int steps = 0;

        p.Grad = Torch.Tensor(float.PositiveInfinity);
        Assert.False(scaler.Step(() => steps++, [p]));
        scaler.Update();
        Assert.Equal(0, steps);
        Assert.Equal(4, scaler.CurrentScale);

        for (int i = 0; i < 2; i++)
        {
            var loss = scaler.Scale(p * 3.0);
            p.Grad = null;
            loss.Backward();
            Assert.Equal(3 * scaler.CurrentScale, p.Grad!.Item());
            Assert.True(scaler.Step(() => steps++, [p]));
            Assert.Equal(3.0, p.Grad!.Item()); // unscaled before the step
            scaler.Update();
        }
        Assert.Equal(2, steps);
        Assert.Equal(8, scaler.CurrentScale); // grew after growthInterval good steps
    }

    [Fact]
    public void Update_without_unscaling_is_an_error()
        => Assert.Throws<InvalidOperationException>(() => new GradScaler().Update());
}
