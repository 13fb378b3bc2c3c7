using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// YOLOv5's Detect head in TorchSharp, inference path of models/yolo.py: per level a 1×1 conv, view (N, na, no, H, W)
/// → permute to (N, na, H, W, no), s = sigmoid; xy = (2s + grid)·stride with grid = cell − 0.5, wh = (2s)²·anchor;
/// concatenated to (N, Σ na·H·W, no). Names m.N and the buffer anchors ([levels, na, 2], pixels, as Ember keeps them).
/// </summary>
public sealed class TorchDetect : Module<TT, TT>
{
    readonly TorchSharp.Modules.ModuleList<Module<TT, TT>> m;
    readonly double[] strides;
    readonly int na, no;

    /// <summary>A head for <paramref name="numClasses"/> classes over features of <paramref name="inChannels"/> channels.</summary>
    public TorchDetect(int numClasses, double[][] anchors, long[] inChannels, double[] strides) : base(nameof(TorchDetect))
    {
        na = anchors[0].Length / 2;
        no = numClasses + 5;
        this.strides = strides;
        var convs = new Module<TT, TT>[inChannels.Length];
        for (int i = 0; i < convs.Length; i++) convs[i] = Conv2d(inChannels[i], no * na, 1);
        m = ModuleList(convs);
        RegisterComponents();
        var a = new float[anchors.Length * na * 2];
        for (int i = 0; i < anchors.Length; i++) for (int j = 0; j < 2 * na; j++) a[i * 2 * na + j] = (float)anchors[i][j];
        register_buffer("anchors", torch.tensor(a, [anchors.Length, na, 2]));
    }

    /// <summary>Not used: the head takes one feature map per level.</summary>
    public override TT forward(TT x) => throw new InvalidOperationException("TorchDetect: call Decode with one feature map per level");

    /// <summary>The per-level 1×1 conv outputs (N, na·(5 + nc), H, W), undecoded (what a training loss reads).</summary>
    public TT[] Raw(TT[] features) => features.Select((f, i) => m[i].forward(f)).ToArray();

    /// <summary>
    /// The training-mode output of models/yolo.py's Detect: per level the 1×1 conv's output viewed as (N, na, 5 + nc, H, W)
    /// and made contiguous as (N, na, H, W, 5 + nc), the maps YOLOv5's loss reads (Ember's DetectHead.ForwardLevels).
    /// </summary>
    public TT[] Maps(TT[] features) => features.Select((f, i) =>
    {
        TT x = m[i].forward(f);
        return x.view(x.shape[0], na, no, x.shape[2], x.shape[3]).permute(0, 1, 3, 4, 2).contiguous();
    }).ToArray();

    /// <summary>The decoded predictions (N, Σ na·H·W, 5 + nc).</summary>
    public TT Decode(TT[] features)
    {
        var convs = m;
        TT anchors = get_buffer("anchors")!;
        var parts = new TT[features.Length];
        for (int i = 0; i < features.Length; i++)
        {
            TT x = convs[i].forward(features[i]);
            long bs = x.shape[0], ny = x.shape[2], nx = x.shape[3];
            TT s = x.view(bs, na, no, ny, nx).permute(0, 1, 3, 4, 2).contiguous().sigmoid();
            var g = new float[ny * nx * 2];
            for (long y = 0; y < ny; y++) for (long c = 0; c < nx; c++) { g[2 * (y * nx + c)] = c - 0.5f; g[2 * (y * nx + c) + 1] = y - 0.5f; }
            TT grid = torch.tensor(g, [1, 1, ny, nx, 2]);
            TT xy = (s.narrow(-1, 0, 2) * 2 + grid) * strides[i];
            TT wh = (s.narrow(-1, 2, 2) * 2).pow(2) * anchors[i].view(1, na, 1, 1, 2);
            parts[i] = torch.cat([xy, wh, s.narrow(-1, 4, no - 4)], -1).view(bs, na * ny * nx, no);
        }
        return torch.cat(parts, 1);
    }
}
