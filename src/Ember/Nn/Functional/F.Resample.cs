using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>Resizes [N, C, H, W] to <paramref name="size"/> or by <paramref name="scaleFactor"/> (torch.nn.functional.interpolate).</summary>
    public static Tensor Interpolate(Tensor input, (int H, int W)? size = null, (double H, double W)? scaleFactor = null,
        InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        => ResampleOps.Interpolate(input, size, scaleFactor, mode, alignCorners);

    /// <summary>[N, C·r², H, W] → [N, C, H·r, W·r] (torch.nn.functional.pixel_shuffle), a reshape and a permute.</summary>
    public static Tensor PixelShuffle(Tensor input, int upscaleFactor)
    {
        int r = upscaleFactor;
        if (input.Rank != 4 || input.Size(1) % (r * r) != 0)
            throw new ArgumentException($"pixel_shuffle: expected [N, C·{r * r}, H, W] with channels divisible by {r * r}, got shape {input.Shape}");
        int n = input.Size(0), c = input.Size(1) / (r * r), h = input.Size(2), w = input.Size(3);
        return input.Reshape(n, c, r, r, h, w).Permute(0, 1, 4, 2, 5, 3).Reshape(n, c, h * r, w * r);
    }

    /// <summary>[N, C, H·r, W·r] → [N, C·r², H, W], the inverse of <see cref="PixelShuffle"/> (torch.nn.functional.pixel_unshuffle).</summary>
    public static Tensor PixelUnshuffle(Tensor input, int downscaleFactor)
    {
        int r = downscaleFactor;
        if (input.Rank != 4 || input.Size(2) % r != 0 || input.Size(3) % r != 0)
            throw new ArgumentException($"pixel_unshuffle: expected [N, C, H, W] with H and W divisible by {r}, got shape {input.Shape}");
        int n = input.Size(0), c = input.Size(1), h = input.Size(2) / r, w = input.Size(3) / r;
        return input.Reshape(n, c, h, r, w, r).Permute(0, 1, 3, 5, 2, 4).Reshape(n, c * r * r, h, w);
    }
}
