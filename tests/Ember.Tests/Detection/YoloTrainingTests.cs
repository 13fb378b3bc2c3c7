using Ember.Analysis;
using Ember.Detection.Loss;
using Ember.Detection.Model;
using Ember.Optim;

namespace Ember.Tests.Detection;

public class YoloTrainingTests
{
    [Fact]
    public void Model_and_loss_learn_a_two_image_batch()
    {
        // two 64×64 images, each with one bright square (class 0 top-left, class 1 bottom-right)
        var img = new float[2 * 3 * 64 * 64];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                {
                    if (y >= 8 && y < 28 && x >= 8 && x < 28) img[(0 * 3 + c) * 4096 + y * 64 + x] = 1;
                    if (y >= 30 && y < 60 && x >= 34 && x < 60) img[(1 * 3 + c) * 4096 + y * 64 + x] = 0.8f;
                }
        var images = Torch.FromArray(img, [2, 3, 64, 64]);
        var targets = Torch.FromArray(new float[] { 0, 0, 18 / 64f, 18 / 64f, 20 / 64f, 20 / 64f, 1, 1, 47 / 64f, 45 / 64f, 26 / 64f, 30 / 64f }, [2, 6]);
        var model = new YoloV5(2, YoloSize.N);
        var loss = new YoloLoss(model.Detect, new YoloLossOptions().ScaledFor(3, 2, 64));
        var opt = new Adam(model.Parameters(), new AdamOptions { LearningRate = 0.01 });
        double first = 0, last = 0;
        for (int step = 0; step < 25; step++)
        {
            opt.ZeroGrad();
            var l = loss.Forward(model.Call(images), targets);
            l.Backward();
            opt.Step();
            if (step == 0) first = l.Item();
            last = l.Item();
        }
        Assert.True(last < 0.5 * first, $"loss {first} → {last}");
    }

    [Fact]
    public void Fusing_batch_norm_keeps_the_decoded_output()
    {
        var model = new YoloV5(3, YoloSize.N);
        var x = Torch.Rand([1, 3, 64, 64], DType.Float32, new Generator(3));
        // a few training-mode passes so BN running statistics are not the identity
        for (int i = 0; i < 2; i++) model.Call(x);
        model.Eval();
        var before = model.Call(x);
        var (_, fused) = Fusion.FuseModel(model);
        Assert.True(fused > 50, $"fused {fused} conv/BN pairs");
        TestUtil.Close(before, model.Call(x), rtol: 1e-3, atol: 1e-3);
    }
}
