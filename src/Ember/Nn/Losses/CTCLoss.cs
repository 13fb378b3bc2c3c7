using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Connectionist temporal classification loss (torch.nn.CTCLoss); see <see cref="F.CtcLoss(Tensor, Tensor, Tensor, Tensor, int, Reduction, bool)"/>.</summary>
public sealed class CTCLoss : Module
{
    /// <summary>The blank label.</summary>
    public int Blank { get; }
    /// <summary>How per-sample losses are reduced (Mean divides each by its target length first).</summary>
    public Reduction Reduction { get; set; }
    /// <summary>Whether infinite losses and their gradients become 0.</summary>
    public bool ZeroInfinity { get; }

    /// <summary>Creates the loss (torch.nn.CTCLoss).</summary>
    public CTCLoss(int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        Blank = blank; Reduction = reduction; ZeroInfinity = zeroInfinity;
    }

    /// <summary>The loss of log-probabilities [T, N, C] against targets with their lengths.</summary>
    public Tensor Forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths)
        => F.CtcLoss(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"blank={Blank}, reduction={Reduction}, zero_infinity={ZeroInfinity}";
}
