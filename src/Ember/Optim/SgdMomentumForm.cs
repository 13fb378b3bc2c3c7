namespace Ember.Optim;

/// <summary>The two ways of writing SGD momentum (see <see cref="SgdOptions.MomentumForm"/>).</summary>
public enum SgdMomentumForm
{
    /// <summary>torch.optim.SGD: b ← μ·b + (1 − τ)·g, θ ← θ − lr·b (Nesterov: θ ← θ − lr·(g + μ·b)).</summary>
    PyTorch,

    /// <summary>
    /// The notes' velocity form (Sutskever et al. 2013, cs231n): v ← μ·v − lr·(1 − τ)·g, θ ← θ + v
    /// (Nesterov: θ ← θ + μ·v − lr·g, the notes' θ += −μ·v_prev + (1 + μ)·v). The first step is v = −lr·g, as PyTorch's
    /// first buffer is g, so the forms agree exactly while lr is constant.
    /// </summary>
    Velocity,
}
