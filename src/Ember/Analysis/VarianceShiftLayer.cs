namespace Ember.Analysis;

/// <summary>One BatchNorm's input variance (mean over channels) in training and in evaluation mode.</summary>
public sealed record VarianceShiftLayer(string Name, double TrainVariance, double EvalVariance)
{
    /// <summary>TrainVariance / EvalVariance: above 1 when dropout upstream inflates the training-time variance.</summary>
    public double Shift => TrainVariance / EvalVariance;
}
