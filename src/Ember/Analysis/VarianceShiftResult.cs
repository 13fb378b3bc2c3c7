namespace Ember.Analysis;

/// <summary>
/// One run of <see cref="VarianceShiftExperiment"/>: test accuracy and loss, each BN's variance shift as
/// <see cref="VarianceShift.Measure"/> gives it (train-mode vs eval-mode input on the same batch) and as
/// <see cref="VarianceShift.MeasureRunning"/> does (running variance vs eval-mode input), and the training time.
/// </summary>
public sealed record VarianceShiftResult(string Placement, long Seed, double Top1, double TestLoss, IReadOnlyList<VarianceShiftLayer> Layers,
    IReadOnlyList<VarianceShiftLayer> RunningLayers, double TrainSeconds)
{
    /// <summary>The mean of the BNs' train/eval variance ratios.</summary>
    public double MeanShift => Layers.Average(l => l.Shift);

    /// <summary>The ratio farthest from 1 (on a log scale): the worst mismatch of any BN.</summary>
    public double WorstShift => Layers.MaxBy(l => Math.Abs(Math.Log(l.Shift)))!.Shift;
}
