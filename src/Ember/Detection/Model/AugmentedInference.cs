using System.Globalization;
using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's augmented inference (models/yolo.py, <c>_forward_augment</c>; val.py and detect.py <c>--augment</c>): the
/// batch [N, 3, H, W] is run at scales 1, 0.83 and 0.67 with no flip, a left-right flip and no flip. Each scaled copy is
/// resized bilinearly to ⌊H·s⌋ × ⌊W·s⌋ and padded on the right and bottom with 0.447 up to a multiple of the largest
/// stride (scale_img); each pass's decoded boxes are divided by its scale and un-flipped (cx → W − cx) into the batch's
/// frame; the full-scale pass loses its coarsest level and the smallest-scale pass its finest (YOLOv5's
/// <c>_clip_augmented</c>: large objects are left to the smaller copies, small ones to the larger); the passes are
/// concatenated along the prediction axis, (N, B₁ + B₂ + B₃, 5 + nc), for one NMS.
/// </summary>
public static class AugmentedInference
{
    /// <summary>The passes: scale and whether the copy is mirrored left-right (YOLOv5's s = [1, 0.83, 0.67], f = [None, 3, None]).</summary>
    public static IReadOnlyList<(double Scale, bool FlipLeftRight)> Passes { get; } = [(1, false), (0.83, true), (0.67, false)];

    /// <summary>The padding of a scaled copy (scale_img's value: the ImageNet mean, about the letterbox's 114/255).</summary>
    public const double PadValue = 0.447;

    /// <summary>
    /// The detector's decoded output for <paramref name="images"/> under augmentation (see the type summary), without a
    /// graph. The detector must be in eval mode. <paramref name="plain"/> is its eval output for
    /// <paramref name="images"/> when the caller already has it (validation computes the loss on it): reused as the
    /// first pass, which is that same forward.
    /// </summary>
    public static Tensor Forward(YoloDetector model, Tensor images, Tensor? plain = null)
    {
        if (model.Training)
            throw new InvalidOperationException($"augmented inference: expected {model.ModelName} in eval mode (it uses the decoded boxes), got training mode; call Eval() first");
        using (Torch.NoGrad()) return Forward(model.Call, images, model.Detect.Strides, plain);
    }

    /// <summary>
    /// Augmented inference over any decoded forward (N, 3, H, W) → (N, B, 5 + nc) whose rows are the levels of
    /// <paramref name="strides"/> in order, finest first, each with its cells in row-major order (as
    /// <see cref="DetectHead.Decode"/>).
    /// </summary>
    public static Tensor Forward(Func<Tensor, Tensor> decodedForward, Tensor images, IReadOnlyList<double> strides, Tensor? plain = null)
    {
        CheckStrides(strides);
        if (images.Rank != 4) throw new ArgumentException($"augmented inference: expected images [N, C, H, W], got {images.Shape}");
        int width = images.Size(3), gridStride = (int)strides[^1];
        var passes = new Tensor[Passes.Count];
        for (int i = 0; i < Passes.Count; i++)
        {
            var (scale, flip) = Passes[i];
            var decoded = i == 0 && plain is not null ? plain : decodedForward(ScaleImage(flip ? images.Flip(3) : images, scale, gridStride));
            if (decoded.Rank != 3 || decoded.Size(0) != images.Size(0) || decoded.Size(2) < 6)
                throw new ArgumentException($"augmented inference: expected decoded predictions [{images.Size(0)}, boxes, 5 + nc], got {decoded.Shape} for pass {i + 1} (scale {Text(scale)})");
            passes[i] = Descale(decoded, scale, flip, width);
        }
        return Torch.Cat(ClipPasses(passes, strides.Count), 1);
    }

    /// <summary>
    /// scale_img: <paramref name="images"/> [N, C, H, W] resized bilinearly (align_corners false) to ⌊H·r⌋ × ⌊W·r⌋ and
    /// padded on the right and bottom with <see cref="PadValue"/> to ⌈H·r / g⌉·g × ⌈W·r / g⌉·g for the grid stride g; r = 1
    /// returns the images themselves.
    /// </summary>
    public static Tensor ScaleImage(Tensor images, double ratio, int gridStride)
    {
        if (!(ratio > 0 && ratio <= 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, $"scale_img: expected a ratio in (0, 1], got {Text(ratio)}");
        if (ratio == 1) return images;
        int h = images.Size(2), w = images.Size(3);
        int sh = (int)(h * ratio), sw = (int)(w * ratio);
        if (sh < 1 || sw < 1) throw new ArgumentException($"scale_img: {h}×{w} images at scale {Text(ratio)} have no pixels left");
        var resized = F.Interpolate(images, size: (sh, sw), mode: InterpolationMode.Bilinear, alignCorners: false);
        int ph = (int)Math.Ceiling(h * ratio / gridStride) * gridStride, pw = (int)Math.Ceiling(w * ratio / gridStride) * gridStride;
        return Torch.Pad(resized, [0, pw - sw, 0, ph - sh], value: PadValue);
    }

    /// <summary>
    /// _descale_pred: the boxes (cx, cy, w, h; the first four columns of the last axis) of a pass at
    /// <paramref name="scale"/> mapped back to the unscaled batch, then un-mirrored when the pass was flipped left-right:
    /// cx → <paramref name="width"/> − cx. The other columns pass through.
    /// </summary>
    public static Tensor Descale(Tensor decoded, double scale, bool flippedLeftRight, int width)
    {
        if (scale == 1 && !flippedLeftRight) return decoded;
        var box = decoded.Narrow(-1, 0, 4) / scale;
        if (flippedLeftRight) box = Torch.Cat([width - box.Narrow(-1, 0, 1), box.Narrow(-1, 1, 3)], -1);
        return Torch.Cat([box, decoded.Narrow(-1, 4, decoded.Size(-1) - 4)], -1);
    }

    /// <summary>
    /// _clip_augmented: drops the coarsest level's rows from the first pass and the finest level's from the last. With
    /// levels whose strides double, a level has 4× the cells of the next coarser one, so a pass of B rows holds
    /// B / Σ₀^(L−1) 4^k rows per cell of the coarsest grid; the coarsest level is that many rows at the end, the finest
    /// 4^(L−1) times that at the start.
    /// </summary>
    public static Tensor[] ClipPasses(IReadOnlyList<Tensor> passes, int numLevels)
    {
        if (numLevels < 2) throw new ArgumentException($"augmented inference: expected at least 2 detection levels (one is dropped from the first and the last pass), got {numLevels}");
        int units = 0;
        for (int k = 0; k < numLevels; k++) units += 1 << (2 * k);
        var clipped = passes.ToArray();
        int first = passes[0].Size(1), last = passes[^1].Size(1);
        if (first % units != 0 || last % units != 0)
            throw new ArgumentException($"augmented inference: expected each pass's rows in {numLevels} levels of 4× fewer cells each (a multiple of {units}), got {first} and {last}");
        clipped[0] = passes[0].Narrow(1, 0, first - first / units);
        int finest = last / units * (1 << (2 * (numLevels - 1)));
        clipped[^1] = passes[^1].Narrow(1, finest, last - finest);
        return clipped;
    }

    /// <summary>
    /// Whether a detector with these level strides can be run augmented: at least two levels, each stride twice the
    /// previous (the clip counts rows by level sizes, which holds only when each level halves the previous one's resolution).
    /// </summary>
    public static bool Supports(IReadOnlyList<double> strides)
    {
        bool doubling = strides.Count >= 2;
        for (int k = 1; k < strides.Count && doubling; k++) doubling = strides[k] == 2 * strides[k - 1];
        return doubling;
    }

    /// <summary>What <see cref="Supports"/> asks, for error messages.</summary>
    public static string Requirement(IReadOnlyList<double> strides)
        => $"at least 2 detection levels whose strides double from one to the next (as YOLOv5's 8, 16, 32), got strides [{string.Join(", ", strides.Select(Text))}]";

    static void CheckStrides(IReadOnlyList<double> strides)
    {
        if (!Supports(strides)) throw new ArgumentException($"augmented inference: expected {Requirement(strides)}");
    }

    static string Text(double v) => v.ToString(CultureInfo.InvariantCulture);
}
