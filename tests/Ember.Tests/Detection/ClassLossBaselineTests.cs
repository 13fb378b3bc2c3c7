using Ember.Detection.Loss;
using Ember.Detection.Model;

namespace Ember.Tests.Detection;

/// <summary>
/// The class loss of a head that has learned nothing about classes (every class logit still at YOLOv5's prior
/// log(0.6 / (nc − 0.99))), worked out by hand: the number the Fashion-MNIST detector's class loss is compared with
/// (docs/detection.md, issue 23) to tell "not learning" from "wired wrong".
/// </summary>
public class ClassLossBaselineTests
{
    [Fact]
    public void Class_loss_at_the_prior_is_gain_times_levels_times_the_prior_entropy()
    {
        const int nc = 10, img = 320;
        var head = new DetectHead(nc, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        double prior = Math.Log(0.6 / (nc - 0.99));
        var maps = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            int g = img / (8 << i);
            var m = new float[3 * g * g * (5 + nc)];
            for (int k = 0; k < m.Length; k++) if (k % (5 + nc) >= 5) m[k] = (float)prior;
            maps[i] = Torch.FromArray(m, [1, 3, g, g, 5 + nc]).To(DType.Float64);
        }
        // one 60×60 px box: within anchor_t = 4 of an anchor on every level (33×23, 62×45, 116×90), so each level adds a term
        var targets = Torch.FromArray(new float[] { 0, 3, 0.5f, 0.5f, 60f / img, 60f / img }, [1, 6]);
        var options = new YoloLossOptions().ScaledFor(3, nc, img);
        var result = new YoloLoss(head, options).Compute(maps, targets);

        double p = 1 / (1 + Math.Exp(-prior)); // 0.6 / 9.61 ≈ 0.0624
        double perEntry = (-Math.Log(p) - (nc - 1) * Math.Log(1 - p)) / nc; // BCE mean over the classes of one assigned entry
        double expected = 0.5 * nc / 80.0 * 3 * perEntry; // gain 0.0625 × 3 levels × 0.335
        Assert.Equal(expected, result.Class, 6);
        Assert.InRange(result.Class, 0.0625, 0.0632); // the value detect train's first epoch starts from
    }
}
