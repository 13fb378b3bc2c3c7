namespace Ember.Nn.Functional;

// Multiplicative-noise dropout: the notes' remedies for the variance shift between dropout and BatchNorm.
public static partial class F
{
    /// <summary>
    /// Gaussian dropout (Srivastava et al. 2014): in training each element is multiplied by noise from N(1, p/(1 − p)),
    /// the same mean and variance as standard dropout's {0, 1/(1 − p)} mask but with no element zeroed; the identity in
    /// evaluation.
    /// </summary>
    public static Tensor GaussianDropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        CheckProbability("gaussian_dropout", p);
        if (p == 1) throw new ArgumentException("gaussian_dropout: p = 1 gives an infinite noise variance; use p < 1");
        if (!training || p == 0) return input;
        input.DType.RequireNonBool("gaussian_dropout");
        double std = Math.Sqrt(p / (1 - p));
        var noise = Torch.Randn(input.Shape.ToArray(), FloatOf(input), generator) * std + 1.0;
        return input * noise.To(input.DType);
    }

    /// <summary>
    /// Uniform dropout ("Uout", Li et al. 2019, Understanding the Disharmony between Dropout and Batch Normalization):
    /// in training each element is multiplied by 1 + r with r ~ U(−β, β), a noise of mean 1 and variance β²/3 whose
    /// small, bounded variance shifts BN's statistics far less than dropout's mask; the identity in evaluation.
    /// </summary>
    public static Tensor UniformDropout(Tensor input, double beta = 0.1, bool training = true, Generator? generator = null)
    {
        if (!(beta >= 0 && beta <= 1)) throw new ArgumentException($"uniform_dropout: beta must be in [0, 1], got {beta}");
        if (!training || beta == 0) return input;
        input.DType.RequireNonBool("uniform_dropout");
        var noise = Torch.Rand(input.Shape.ToArray(), FloatOf(input), generator) * (2 * beta) + (1 - beta);
        return input * noise.To(input.DType);
    }
}
