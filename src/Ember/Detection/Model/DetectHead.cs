using System.Runtime.CompilerServices;
using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Ops;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's Detect head: one 1×1 convolution per level to na·(5 + nc) channels, reshaped to (N, na, H, W, 5 + nc).
/// <see cref="Decode"/> turns those raw maps into boxes as YOLOv5's inference path does: with s = σ(raw),
/// xy = (2·s − 0.5 + grid)·stride and wh = (2·s)²·anchor (pixels), objectness and class scores σ(raw).
/// The <c>anchors</c> buffer ([levels, na, 2]) holds (w, h) in input pixels (YOLOv5 stores them divided by the stride).
/// </summary>
public sealed class DetectHead : Module
{
    /// <summary>YOLOv5's default anchors (w, h pixel pairs) for strides 8, 16 and 32.</summary>
    public static readonly double[][] DefaultAnchors =
    [
        [10, 13, 16, 30, 33, 23],
        [30, 61, 62, 45, 59, 119],
        [116, 90, 156, 198, 373, 326],
    ];

    readonly ModuleList m;
    readonly double[] strides;
    (int H, int W)[] lastShapes = [];
    Tensor? lastDecoded;
    Tensor[]? lastDecodedRaw;
    // the raw maps behind each live flat training output (weak in the output: an entry goes with its output)
    readonly ConditionalWeakTable<Tensor, Tensor[]> rawOfFlat = new();

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Outputs per anchor, 5 + nc (x, y, w, h, objectness, classes).</summary>
    public int NumOutputs => NumClasses + 5;

    /// <summary>Number of detection levels.</summary>
    public int NumLevels { get; }

    /// <summary>Anchors per level.</summary>
    public int NumAnchors { get; }

    /// <summary>The stride of each level in input pixels.</summary>
    public IReadOnlyList<double> Strides => strides;

    /// <summary>The grid shapes (H, W) of each level in the last forward pass (the loss needs them to split a flat output).</summary>
    public IReadOnlyList<(int H, int W)> LastShapes => lastShapes;

    /// <summary>
    /// The raw maps behind <paramref name="output"/> when it is the latest output of <see cref="Decode"/> (so a loss can
    /// be computed on an eval-mode output, as YOLOv5's val.py does with the raw half of its (decoded, raw) pair) or a flat
    /// training output of <see cref="FlattenKeepingRaw"/> (so the loss reads the maps themselves: no split copies
    /// forward, and backward skips the flat gradient); else null.
    /// </summary>
    public Tensor[]? RawOf(Tensor output)
        => ReferenceEquals(output, lastDecoded) ? lastDecodedRaw : rawOfFlat.TryGetValue(output, out var raw) ? raw : null;

    /// <summary>Anchors [levels, na, 2] as (w, h) in input pixels.</summary>
    public Tensor Anchors => NamedBuffers(recurse: false).First(b => b.Name == "anchors").Buffer;

    /// <summary>
    /// Creates the head for features with <paramref name="inChannels"/> channels at <paramref name="strides"/>;
    /// <paramref name="anchors"/> holds one row of (w, h) pixel pairs per level. Biases start from YOLOv5's priors
    /// (see <see cref="InitializeBiases"/>) unless <paramref name="biasPrior"/> is false (for ablations: the convolutions'
    /// plain initialization, the same random draws either way).
    /// </summary>
    public DetectHead(int numClasses, double[][] anchors, int[] inChannels, double[] strides, bool biasPrior = true)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"Detect: expected at least one class, got {numClasses}");
        if (anchors.Length == 0 || anchors.Length != inChannels.Length || anchors.Length != strides.Length)
            throw new ArgumentException($"Detect: expected one anchor row, input width and stride per level, got {anchors.Length} anchor rows, {inChannels.Length} widths and {strides.Length} strides");
        NumClasses = numClasses;
        NumLevels = anchors.Length;
        NumAnchors = anchors[0].Length / 2;
        var a = new float[NumLevels * NumAnchors * 2];
        for (int i = 0; i < NumLevels; i++)
        {
            if (anchors[i].Length != 2 * NumAnchors || anchors[i].Length == 0)
                throw new ArgumentException($"Detect: expected {2 * NumAnchors} numbers (w, h pairs) in every anchor row, got {anchors[i].Length} in row {i}");
            for (int j = 0; j < anchors[i].Length; j++)
            {
                if (!(anchors[i][j] > 0)) throw new ArgumentException($"Detect: anchors must be positive, got {anchors[i][j]} in row {i}");
                a[i * 2 * NumAnchors + j] = (float)anchors[i][j];
            }
        }
        this.strides = (double[])strides.Clone();
        var convs = new Module[NumLevels];
        for (int i = 0; i < NumLevels; i++) convs[i] = new Conv2d(inChannels[i], NumOutputs * NumAnchors, 1);
        m = RegisterModule(nameof(m), new ModuleList(convs));
        RegisterBuffer("anchors", Torch.FromArray(a, [NumLevels, NumAnchors, 2]));
        if (biasPrior) InitializeBiases();
    }

    /// <summary>The 1×1 prediction convolution of level <paramref name="level"/>.</summary>
    public Conv2d Conv(int level) => (Conv2d)m[level];

    /// <summary>
    /// Adds YOLOv5's priors (models/yolo.py, _initialize_biases; RetinaNet §3.3) to each level's bias:
    /// objectness += log(8 / (640 / stride)²) (about 8 objects per 640² image) and each class
    /// += log(0.6 / (nc − 0.99)), or log(freq / Σfreq) when <paramref name="classFrequency"/> is given. Adds, as
    /// YOLOv5 does, so calling it again adds again.
    /// </summary>
    public void InitializeBiases(IReadOnlyList<double>? classFrequency = null)
    {
        if (classFrequency is not null && classFrequency.Count != NumClasses)
            throw new ArgumentException($"Detect.InitializeBiases: expected {NumClasses} class frequencies, got {classFrequency.Count}");
        double total = 0;
        if (classFrequency is not null) foreach (var f in classFrequency) total += f;
        for (int i = 0; i < NumLevels; i++)
        {
            var bias = Conv(i).Bias!;
            var b = bias.Detach().To(DType.Float64).ToArray<double>();
            double obj = Math.Log(8 / Math.Pow(640 / strides[i], 2));
            for (int a = 0; a < NumAnchors; a++)
            {
                b[a * NumOutputs + 4] += obj;
                for (int c = 0; c < NumClasses; c++)
                    b[a * NumOutputs + 5 + c] += classFrequency is null ? Math.Log(0.6 / (NumClasses - 0.99)) : Math.Log(classFrequency[c] / total);
            }
            using (Torch.NoGrad()) bias.CopyFrom(Torch.FromArray(b, [b.Length]).To(bias.DType));
        }
    }

    /// <summary>Raw maps (N, na, H, W, 5 + nc), one per level, from the level features (N, C_i, H_i, W_i).</summary>
    public Tensor[] ForwardLevels(IReadOnlyList<Tensor> features)
    {
        if (features.Count != NumLevels) throw new ArgumentException($"Detect: expected {NumLevels} feature maps, got {features.Count}");
        var outs = new Tensor[NumLevels];
        var shapes = new (int H, int W)[NumLevels];
        for (int i = 0; i < NumLevels; i++)
        {
            var y = Conv(i).Call(features[i]);
            int n = y.Size(0), h = y.Size(2), w = y.Size(3);
            outs[i] = y.View(n, NumAnchors, NumOutputs, h, w).Permute(0, 1, 3, 4, 2).Contiguous();
            shapes[i] = (h, w);
        }
        lastShapes = shapes;
        return outs;
    }

    /// <summary>Not used: the head takes one feature map per level (see <see cref="ForwardLevels"/>).</summary>
    public override Tensor Forward(Tensor input)
        => throw new InvalidOperationException("Detect: takes one feature map per level; call ForwardLevels");

    /// <summary>The raw maps flattened and concatenated: (N, Σ na·H·W, 5 + nc), in the order <see cref="Decode"/> uses.</summary>
    public static Tensor Flatten(IReadOnlyList<Tensor> raw)
    {
        var parts = new Tensor[raw.Count];
        for (int i = 0; i < raw.Count; i++) parts[i] = raw[i].Reshape(raw[i].Size(0), -1, raw[i].Size(4));
        return Torch.Cat(parts, 1);
    }

    /// <summary><see cref="Flatten"/>, remembering the maps for <see cref="RawOf"/> while the flat output lives.</summary>
    public Tensor FlattenKeepingRaw(IReadOnlyList<Tensor> raw)
    {
        var flat = Flatten(raw);
        rawOfFlat.AddOrUpdate(flat, [.. raw]);
        return flat;
    }

    /// <summary>Undoes <see cref="Flatten"/>: splits (N, Σ na·H·W, 5 + nc) back into per-level (N, na, H, W, 5 + nc) maps.</summary>
    public Tensor[] Split(Tensor flat, IReadOnlyList<(int H, int W)> shapes)
    {
        if (shapes.Count != NumLevels) throw new ArgumentException($"Detect.Split: expected {NumLevels} grid shapes, got {shapes.Count}");
        int total = 0;
        foreach (var (h, w) in shapes) total += NumAnchors * h * w;
        if (flat.Rank != 3 || flat.Size(1) != total || flat.Size(2) != NumOutputs)
            throw new ArgumentException($"Detect.Split: expected a flat output [N, {total}, {NumOutputs}] for grids {string.Join(", ", shapes)}, got {flat.Shape}");
        var outs = new Tensor[NumLevels];
        int start = 0;
        for (int i = 0; i < NumLevels; i++)
        {
            int len = NumAnchors * shapes[i].H * shapes[i].W;
            outs[i] = flat.Narrow(1, start, len).Reshape(flat.Size(0), NumAnchors, shapes[i].H, shapes[i].W, NumOutputs);
            start += len;
        }
        return outs;
    }

    /// <summary>
    /// Decoded predictions (N, Σ na·H·W, 5 + nc): (cx, cy, w, h) in input pixels, objectness and class probabilities.
    /// Float32 and float64 maps go through the one-pass op (<see cref="YoloDecodeOp"/>, differentiable); other dtypes
    /// through the composed ops.
    /// </summary>
    public Tensor Decode(IReadOnlyList<Tensor> raw)
    {
        if (raw.Count != NumLevels) throw new ArgumentException($"Detect.Decode: expected {NumLevels} maps, got {raw.Count}");
        lastDecodedRaw = [.. raw];
        var dtype = raw[0].DType;
        return lastDecoded = dtype is DType.Float32 or DType.Float64 ? YoloDecodeOp.Forward([.. raw], Anchors, strides) : DecodeComposed(raw);
    }

    // The decode written with sigmoid, arithmetic and cats: the form for the other dtypes and the op's test oracle.
    internal Tensor DecodeComposed(IReadOnlyList<Tensor> raw)
    {
        if (raw.Count != NumLevels) throw new ArgumentException($"Detect.Decode: expected {NumLevels} maps, got {raw.Count}");
        var anchors = Anchors;
        var parts = new Tensor[NumLevels];
        for (int i = 0; i < NumLevels; i++)
        {
            var p = raw[i];
            int n = p.Size(0), h = p.Size(2), w = p.Size(3);
            var s = p.Sigmoid();
            var (grid, anchorGrid) = MakeGrid(anchors.Select(0, i), h, w, p.DType);
            var xy = (s.Narrow(-1, 0, 2) * 2.0 + grid) * strides[i];
            var wh = (s.Narrow(-1, 2, 2) * 2.0).Square() * anchorGrid;
            parts[i] = Torch.Cat([xy, wh, s.Narrow(-1, 4, NumOutputs - 4)], -1).Reshape(n, NumAnchors * h * w, NumOutputs);
        }
        return Torch.Cat(parts, 1);
    }

    // grid (1, 1, H, W, 2) holds (x − 0.5, y − 0.5) so that xy = (2σ + grid)·stride = (2σ − 0.5 + cell)·stride;
    // anchorGrid (1, na, 1, 1, 2) holds the level's anchors in pixels.
    (Tensor Grid, Tensor AnchorGrid) MakeGrid(Tensor levelAnchors, int h, int w, DType dtype)
    {
        var g = new double[h * w * 2];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { g[2 * (y * w + x)] = x - 0.5; g[2 * (y * w + x) + 1] = y - 0.5; }
        var grid = Torch.FromArray(g, [1, 1, h, w, 2]).To(dtype);
        return (grid, levelAnchors.To(dtype).Reshape(1, NumAnchors, 1, 1, 2));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"nc={NumClasses}, na={NumAnchors}, strides=[{string.Join(", ", strides)}]";
}
