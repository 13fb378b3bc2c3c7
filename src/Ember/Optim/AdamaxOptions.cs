namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="Adamax"/> (torch.optim.Adamax's arguments).</summary>
public sealed record AdamaxOptions : AdaptiveMomentOptions
{
    /// <summary>Defaults as PyTorch: lr 2e-3, betas (0.9, 0.999), eps 1e-8, no weight decay (an L2 penalty).</summary>
    public AdamaxOptions() : base(2e-3) { }

    private protected override IEnumerable<(string Name, double Value)> OwnScalars() => [];
}
