using System.Globalization;
using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Tests.Nn.Losses;

/// <summary>
/// Every case of LossReference.g.cs (made by tools/oracle/losses.cs from libtorch): the value and the input gradient
/// of each loss for each reduction and option combination, float32 to ~1e-5 relative, float64 to ~1e-10.
/// </summary>
public class LossOracleTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in LossReference.Cases) data.Add(c.Name);
        return data;
    }

    static Reduction Red(Dictionary<string, string> o) => o.GetValueOrDefault("reduction", "mean") switch
    {
        "none" => Reduction.None,
        "sum" => Reduction.Sum,
        _ => Reduction.Mean,
    };

    static double Num(Dictionary<string, string> o, string key, double fallback)
        => o.TryGetValue(key, out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The Ember call that mirrors each oracle op.</summary>
    internal static Tensor Run(LossCase c, Dictionary<string, Tensor> t)
    {
        var o = c.Options;
        var input = t["input"]; var target = t["target"];
        var weight = t.GetValueOrDefault("weight");
        var posWeight = t.GetValueOrDefault("pos_weight");
        return c.Op switch
        {
            "bce" => F.BinaryCrossEntropy(input, target, weight, Red(o)),
            "bce_logits" => F.BinaryCrossEntropyWithLogits(input, target, weight, posWeight, Red(o)),
            "ce" => F.CrossEntropy(input, target, weight, (int)Num(o, "ignore_index", -100), Red(o), Num(o, "label_smoothing", 0)),
            "nll" => F.NllLoss(input, target, weight, (int)Num(o, "ignore_index", -100), Red(o)),
            "kldiv" => F.KlDiv(input, target, o.GetValueOrDefault("reduction") switch
            {
                "none" => Reduction.None,
                "sum" => Reduction.Sum,
                "batchmean" => Reduction.BatchMean,
                _ => Reduction.Mean,
            }, o.GetValueOrDefault("log_target") == "true"),
            "softmargin" => F.SoftMarginLoss(input, target, Red(o)),
            "sigmoid_focal" => F.SigmoidFocalLoss(input, target, Num(o, "alpha", 0.25), Num(o, "gamma", 2), Red(o)),
            "focal" => F.FocalLoss(input, target, Num(o, "gamma", 1.5), Num(o, "alpha", 0.25), Red(o),
                F.BinaryCrossEntropyWithLogits(input, target, posWeight: posWeight, reduction: Reduction.None)),
            "l1" => F.L1Loss(input, target, Red(o)),
            "mse" => F.MseLoss(input, target, Red(o)),
            "smoothl1" => F.SmoothL1Loss(input, target, Red(o), Num(o, "beta", 1)),
            "huber" => F.HuberLoss(input, target, Red(o), Num(o, "delta", 1)),
            "mape" => F.MapeLoss(input, target, t.GetValueOrDefault("mask")),
            "smape" => F.SmapeLoss(input, target, t.GetValueOrDefault("mask")),
            "mase" => F.MaseLoss(t["insample"], (int)Num(o, "freq", 1), input, target, t.GetValueOrDefault("mask")),
            "bbox_iou" => Boxes.MatchedIou(input, target, Kind(o), Format(o)),
            "iou_loss" => F.IouLoss(input, target, Kind(o), Format(o), Red(o)),
            "box_iou" => Boxes.PairwiseIou(input, target),
            _ => throw new InvalidOperationException($"unknown oracle op {c.Op}"),
        };
    }

    static IoUKind Kind(Dictionary<string, string> o) => Enum.Parse<IoUKind>(o["kind"], ignoreCase: true);
    static BoxFormat Format(Dictionary<string, string> o) => Enum.Parse<BoxFormat>(o["format"], ignoreCase: true);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Value_and_input_gradient_match_pytorch(string name)
    {
        var c = LossReference.Cases.Single(k => k.Name == name);
        var tensors = c.Inputs.ToDictionary(i => i.Name, i => i.Tensor.ToTensor());
        tensors["input"].RequiresGradInPlace();
        var y = Run(c, tensors);

        bool f64 = c.Value.DType == "float64";
        double rtol = f64 ? 1e-10 : 2e-5, atol = f64 ? 1e-12 : 2e-6;
        Assert.Equal(c.Value.Shape, y.Shape.ToArray());
        Assert.Equal(f64 ? DType.Float64 : DType.Float32, y.DType);
        TestUtil.Close(c.Value.Data, y, rtol, atol);

        (y * c.Cotangent.ToTensor()).Sum().Backward();
        var grad = tensors["input"].Grad;
        Assert.NotNull(grad);
        TestUtil.Close(c.Grad.Data, grad!, rtol, atol);
    }

    [Fact]
    public void The_reference_covers_every_op_and_reduction()
    {
        var ops = LossReference.Cases.Select(c => c.Op).ToHashSet();
        foreach (var op in new[] { "bce", "bce_logits", "ce", "nll", "kldiv", "softmargin", "sigmoid_focal", "focal", "l1", "mse", "smoothl1", "huber", "mape", "smape", "mase", "bbox_iou", "iou_loss", "box_iou" })
            Assert.Contains(op, ops);
        Assert.True(LossReference.Cases.Count(c => c.Options.GetValueOrDefault("reduction") == "none") >= 20);
        Assert.Equal(LossReference.Cases.Length, LossReference.Cases.Select(c => c.Name).Distinct().Count());
    }
}
