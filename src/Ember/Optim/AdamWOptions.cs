namespace Ember.Optim;

/// <summary>
/// Hyper-parameters of <see cref="AdamW"/> (torch.optim.AdamW's arguments). Defaults as PyTorch: lr 1e-3, betas (0.9,
/// 0.999), eps 1e-8, decoupled weight decay 0.01.
/// </summary>
public sealed record AdamWOptions : AdamFamilyOptions
{
    /// <summary>PyTorch's defaults; weight decay 0.01.</summary>
    public AdamWOptions() => WeightDecay = 0.01;
}
