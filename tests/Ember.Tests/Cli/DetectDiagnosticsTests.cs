using Ember.Cli.Commands.Detect;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>
/// The diagnostics used to find why the Fashion-MNIST detector stalled (issue 23): class-agnostic validation
/// (`detect val --single-cls`) and the loss gains as options (`--box`, `--obj`, `--cls`).
/// </summary>
public class DetectDiagnosticsTests
{
    // One 64×64 image with one labelled box of class 0 at (32, 32, 20×20) and one decoded prediction on exactly that box
    // whose class scores say class 1 (class 0's probability is 0, so no class-0 detection survives NMS).
    static (Tensor Images, Tensor Decoded, Tensor Targets) WrongClassPerfectBox()
    {
        var images = Torch.Zeros(1, 3, 64, 64);
        var decoded = Torch.FromArray(new float[]
        {
            32, 32, 20, 20, 0.9f, 0f, 0.9f,
            10, 10, 8, 8, 0f, 0.5f, 0.5f, // objectness 0: dropped by NMS
        }, [1, 2, 7]);
        var targets = Torch.FromArray(new float[] { 0, 0, 0.5f, 0.5f, 20 / 64f, 20 / 64f }, [1, 6]);
        return (images, decoded, targets);
    }

    [Fact]
    public void Single_class_evaluation_scores_the_boxes_whatever_their_class()
    {
        var (images, decoded, targets) = WrongClassPerfectBox();
        var perClass = new DetectionEvaluator(numClasses: 2);
        perClass.Update(images, decoded, targets, null);
        var agnostic = new DetectionEvaluator(numClasses: 2, singleClass: true);
        agnostic.Update(images, decoded, targets, null);

        var m = perClass.Result().Metrics;
        Assert.Equal([0], m.Classes); // only class 0 has labels, and it has no detection
        Assert.Equal(0, m.Map50, 12);
        var a = agnostic.Result().Metrics;
        Assert.Equal([0], a.Classes);
        // the one detection covers the one label exactly: AP 1 at every IoU threshold (101-point interpolation)
        Assert.True(a.Map50 > 0.99 && a.Map50To95 > 0.99, $"single-class mAP {a.Map50} / {a.Map50To95}");
        var cm = agnostic.Result().Confusion;
        Assert.Equal(1, cm.NumClasses);
        Assert.Equal(1, cm[0, 0]); // the detection matched as the one class
        Assert.Equal(1, perClass.Result().Confusion[1, 0]); // per class it is a class-1 prediction of a class-0 label
    }

    [Fact]
    public void Loss_gains_are_options_scaled_as_train_py()
    {
        var config = DetectConfig.Apply(new DetectConfig(), new Dictionary<string, string?> { ["cls"] = "2", ["box"] = "0.1", ["obj"] = "0.5" }, "command line");
        var o = config.LossOptions(numLevels: 3, numClasses: 10, imageSize: 320);
        Assert.Equal(2 * 10 / 80.0, o.Class, 12);
        Assert.Equal(0.1, o.Box, 12);
        Assert.Equal(0.5 * 0.25, o.Objectness, 12);
        var defaults = new DetectConfig().LossOptions(3, 10, 320);
        Assert.Equal(0.5 * 10 / 80.0, defaults.Class, 12); // hyp.scratch-low's 0.5, as before the options existed
        var e = Assert.Throws<ConfigException>(() => DetectConfig.Apply(new DetectConfig(), new Dictionary<string, string?> { ["cls"] = "-1" }, "command line"));
        Assert.Contains("cls", e.Message);
        Assert.Contains("-1", e.Message);
    }
}
