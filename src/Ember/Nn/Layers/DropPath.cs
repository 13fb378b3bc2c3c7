using System.Globalization;
using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Stochastic depth (timm's DropPath): in training each sample's residual branch is dropped with probability
/// dropProb and kept samples are scaled by 1/(1 − dropProb) when scaleByKeep. The identity in evaluation.
/// </summary>
public sealed class DropPath(double dropProb = 0, bool scaleByKeep = true, Generator? generator = null) : Module
{
    /// <summary>Per-sample drop probability; settable so a schedule can raise it with depth or time.</summary>
    public double DropProb { get; set; } = Dropout.ValidP(dropProb, "DropPath");
    /// <summary>Whether kept samples are rescaled.</summary>
    public bool ScaleByKeep { get; } = scaleByKeep;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.DropPath(input, DropProb, Training, ScaleByKeep, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"drop_prob={Math.Round(DropProb, 3).ToString("0.000", CultureInfo.InvariantCulture)}";
}
