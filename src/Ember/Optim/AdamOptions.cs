namespace Ember.Optim;

/// <summary>
/// Hyper-parameters of <see cref="Adam"/> (torch.optim.Adam's arguments). Defaults as PyTorch: lr 1e-3, betas (0.9,
/// 0.999), eps 1e-8, no weight decay (an L2 penalty on the gradient here; for decoupled decay use <see cref="AdamW"/>).
/// </summary>
public sealed record AdamOptions : AdamFamilyOptions;
