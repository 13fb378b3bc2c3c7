namespace Ember.Data.Transforms;

/// <summary>
/// CutMix (Yun et al., 2019) on a batch of images [N, C, H, W]: with λ ~ Beta(α, α), a box of relative side √(1 − λ)
/// centred at a uniform pixel (clipped at the border) is pasted from the images of a random permutation π; the soft
/// targets are λ'·onehot(y) + (1 − λ')·onehot(y[π]) with λ' = 1 − (box area)/(H·W), of shape [N, numClasses].
/// </summary>
public sealed class CutMix(int numClasses, double alpha = 1.0)
{
    /// <summary>The Beta distribution's parameter.</summary>
    public double Alpha { get; } = alpha > 0 ? alpha : throw new ArgumentException($"CutMix: alpha must be positive, got {alpha}");

    /// <summary>The number of classes of the soft targets.</summary>
    public int NumClasses { get; } = numClasses;

    /// <summary>Mixes a batch; returns the images, soft targets and the effective λ'.</summary>
    public (Tensor Inputs, Tensor Targets, double Lambda) Apply(Tensor images, Tensor labels, Generator generator)
    {
        var targets = MixUp.SoftTargets(labels, NumClasses, "CutMix");
        if (images.Rank != 4) throw new ArgumentException($"CutMix: expected images of shape [N, C, H, W], got {images.Shape}");
        MixUp.CheckBatch(images, targets, "CutMix");
        int n = images.Size(0), c = images.Size(1), h = images.Size(2), w = images.Size(3);
        double lambda = RandomDraws.Beta(generator, Alpha, Alpha);
        var perm = MixUp.Permutation(n, generator);
        double cut = Math.Sqrt(1 - lambda);
        int ch = (int)(h * cut), cw = (int)(w * cut);
        int cy = (int)generator.NextInt64(h), cx = (int)generator.NextInt64(w);
        int y0 = Math.Clamp(cy - ch / 2, 0, h), y1 = Math.Clamp(cy + ch / 2, 0, h);
        int x0 = Math.Clamp(cx - cw / 2, 0, w), x1 = Math.Clamp(cx + cw / 2, 0, w);
        using var _ = Torch.NoGrad();
        var src = images.To(DType.Float32).Contiguous().ToArray<float>();
        var dst = (float[])src.Clone();
        var p = perm.ToArray<long>();
        int plane = h * w;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < c; k++)
                for (int y = y0; y < y1; y++)
                    src.AsSpan((int)((p[i] * c + k) * plane + y * w + x0), x1 - x0).CopyTo(dst.AsSpan((i * c + k) * plane + y * w + x0));
        double lam = 1 - (double)(y1 - y0) * (x1 - x0) / plane;
        var mixedTargets = targets * lam + targets.IndexSelect(0, perm) * (1 - lam);
        var mixed = DataTensors.Wrap(dst, n, c, h, w);
        return (images.DType == DType.Float32 ? mixed : mixed.To(images.DType), mixedTargets, lam);
    }

    /// <summary>For <see cref="DataLoader{T}"/>'s batchTransform: mixes an (images, labels) batch.</summary>
    public Batch Apply(Batch batch, Generator generator)
    {
        var (x, y, _) = Apply(batch[0], batch[1], generator);
        return new Batch(x, y);
    }
}
