namespace Ember.Optim;

/// <summary>Options with Adam-style betas (Adam, AdamW, NAdam, Adamax): OneCycleLR cycles beta1 as the momentum.</summary>
public interface IBetasOptions
{
    /// <summary>Coefficients of the running averages of the gradient and of its square (PyTorch's <c>betas</c>).</summary>
    (double Beta1, double Beta2) Betas { get; set; }
}
