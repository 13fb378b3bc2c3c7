namespace Ember.Nn.Functional;

// Dropout family. Masks come from a Generator (the global default unless one is given), so runs are reproducible.
public static partial class F
{
    static void CheckProbability(string op, double p)
    {
        if (p < 0 || p > 1 || double.IsNaN(p)) throw new ArgumentException($"{op}: dropout probability has to be between 0 and 1, but got {p}");
    }

    static DType FloatOf(Tensor x) => x.DType == DType.Float64 ? DType.Float64 : DType.Float32;

    /// <summary>A {0, 1/keep} mask of <paramref name="shape"/>: 1/keep with probability keep.</summary>
    static Tensor KeepMask(int[] shape, double keep, DType dtype, Generator? generator, bool scale = true)
    {
        var u = Torch.Rand(shape, dtype, generator);
        var mask = (u < keep).To(dtype);
        return scale && keep > 0 ? mask * (1 / keep) : mask;
    }

    /// <summary>
    /// Zeroes each element with probability p and scales the rest by 1/(1 − p) during training, so the expectation is
    /// unchanged; the identity when <paramref name="training"/> is false (torch.nn.functional.dropout).
    /// </summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        CheckProbability("dropout", p);
        if (!training || p == 0) return input;
        input.DType.RequireNonBool("dropout");
        if (p == 1) return input * 0.0;
        return input * KeepMask(input.Shape.ToArray(), 1 - p, FloatOf(input), generator).To(input.DType);
    }

    /// <summary>
    /// Channel dropout (torch.nn.functional.dropout2d): whole feature maps x[n, c] are zeroed with probability p and the
    /// rest scaled by 1/(1 − p). The input is [N, C, *] (a 3-D input is read as [N, C, L], as PyTorch does).
    /// </summary>
    public static Tensor Dropout2d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        CheckProbability("dropout2d", p);
        if (input.Rank < 2) throw new ArgumentException($"dropout2d: expected an input [N, C, *] of at least 2 dimensions, got shape {input.Shape}");
        if (!training || p == 0) return input;
        input.DType.RequireNonBool("dropout2d");
        if (p == 1) return input * 0.0;
        var shape = Enumerable.Repeat(1, input.Rank).ToArray();
        shape[0] = input.Size(0);
        shape[1] = input.Size(1);
        return input * KeepMask(shape, 1 - p, FloatOf(input), generator).To(input.DType);
    }

    /// <summary>
    /// Alpha dropout for SELU networks (torch.nn.functional.alpha_dropout): dropped elements take SELU's negative
    /// saturation α' = −scale·α, then an affine map a·x + b restores zero mean and unit variance.
    /// </summary>
    public static Tensor AlphaDropout(Tensor input, double p = 0.5, bool training = false, Generator? generator = null)
    {
        CheckProbability("alpha_dropout", p);
        if (!training || p == 0) return input;
        input.DType.RequireNonBool("alpha_dropout");
        if (p == 1) return input * 0.0;
        const double alphaPrime = -SeluScale * SeluAlpha;
        double keep = 1 - p;
        double a = 1 / Math.Sqrt(keep * (1 + p * alphaPrime * alphaPrime));
        double b = -a * alphaPrime * p;
        var mask = KeepMask(input.Shape.ToArray(), keep, FloatOf(input), generator, scale: false).To(input.DType);
        return (input * mask + (1.0 - mask) * alphaPrime) * a + b;
    }

    /// <summary>
    /// Stochastic depth (timm's drop_path): each sample's whole residual branch is zeroed with probability
    /// <paramref name="dropProb"/>; kept samples are scaled by 1/keep when <paramref name="scaleByKeep"/>.
    /// </summary>
    public static Tensor DropPath(Tensor input, double dropProb = 0, bool training = false, bool scaleByKeep = true, Generator? generator = null)
    {
        CheckProbability("drop_path", dropProb);
        if (!training || dropProb == 0) return input;
        input.DType.RequireNonBool("drop_path");
        var shape = Enumerable.Repeat(1, input.Rank).ToArray();
        if (input.Rank > 0) shape[0] = input.Size(0);
        return input * KeepMask(shape, 1 - dropProb, FloatOf(input), generator, scaleByKeep).To(input.DType);
    }

    /// <summary>
    /// DropBlock (Ghiasi et al. 2018) on an [N, C, H, W] input: seeds are drawn where a whole
    /// block_size × block_size block fits, with rate γ = drop_prob/block² · H·W/((H − block + 1)(W − block + 1)),
    /// each seed zeroes the block centred on it, and the output is rescaled by count(mask)/count_ones(mask).
    /// </summary>
    public static Tensor DropBlock2d(Tensor input, double dropProb = 0.1, int blockSize = 7, bool training = false, Generator? generator = null)
    {
        CheckProbability("drop_block2d", dropProb);
        if (input.Rank != 4) throw new ArgumentException($"drop_block2d: expected a 4-D input [N, C, H, W], got shape {input.Shape}");
        if (blockSize < 1) throw new ArgumentException($"drop_block2d: block_size must be positive, got {blockSize}");
        if (!training || dropProb == 0) return input;
        input.DType.RequireNonBool("drop_block2d");
        int n = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3);
        int block = Math.Min(blockSize, Math.Min(h, w));
        double gamma = dropProb / (block * block) * h * w / ((h - block + 1) * (w - block + 1));
        var dtype = FloatOf(input);
        // Seeds only in the valid region: positions whose block lies inside the map.
        var seeds = (Torch.Rand([n, c, h - block + 1, w - block + 1], dtype, generator) < gamma).To(dtype);
        // Seed (i, j) zeroes map rows i..i+block−1 and columns j..j+block−1. Padding the seed grid by block−1 on every
        // side and taking the max over block×block shifted windows spreads each seed over its block (the mask is 0/1
        // and carries no gradient, so plain shifts do).
        int pad = block - 1;
        var padded = Torch.Pad(seeds, [pad, pad, pad, pad]);
        var dropped = Torch.ZerosLike(input, dtype);
        for (int dy = 0; dy < block; dy++)
            for (int dx = 0; dx < block; dx++)
                dropped = dropped.Maximum(padded.Slice(2, dy, dy + h).Slice(3, dx, dx + w));
        var keep = 1.0 - dropped;
        double ones = keep.Sum().Item();
        double scale = ones == 0 ? 0 : keep.NumEl / ones;
        return input * (keep * scale).To(input.DType);
    }
}
