using Ember.Autograd;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Detection.Model;

/// <summary>
/// A YOLOv5 detector in the v6.x layout (models/yolov5s.yaml), scaled by <see cref="YoloSize"/>: a 6×6 stride-2 stem
/// (or Focus), Conv/C3 stages down to stride 32, SPPF, a PAN neck (top-down with upsampling, then bottom-up with
/// stride-2 convolutions) and a <see cref="DetectHead"/> on strides 8, 16 and 32. Layers live in the <c>model</c> list
/// with YOLOv5's numbering (0–24), so state-dict keys read like YOLOv5's (<c>model.24.m.0.weight</c>).
/// In training mode <see cref="YoloDetector.Forward"/> returns the raw maps flattened, (N, Σ na·H·W, 5 + nc) (see
/// <see cref="ForwardRaw"/> for the per-level (N, na, H, W, 5 + nc) maps); in eval mode the decoded boxes.
/// Inputs need heights and widths that are multiples of 32.
/// </summary>
public sealed class YoloV5 : YoloDetector
{
    /// <summary>The strides of the three detection levels.</summary>
    public static readonly double[] LevelStrides = [8, 16, 32];

    readonly ModuleList model;

    /// <summary>The detection head (layer 24).</summary>
    public override DetectHead Detect { get; }

    /// <inheritdoc/>
    public override string ModelName => "yolov5" + Size.Name;

    /// <summary>The depth and width multipliers the model was built with.</summary>
    public YoloSize Size { get; }

    /// <summary>The first layer's kind.</summary>
    public YoloStem Stem { get; }

    /// <summary>
    /// Builds the model; <paramref name="anchors"/> defaults to YOLOv5's (<see cref="DetectHead.DefaultAnchors"/>);
    /// <paramref name="biasPrior"/> false leaves the head's biases at their plain initialization (see <see cref="DetectHead.InitializeBiases"/>).
    /// </summary>
    public YoloV5(int numClasses = 80, YoloSize? size = null, YoloStem stem = YoloStem.Conv6x6, int inChannels = 3, double[][]? anchors = null, bool biasPrior = true)
    {
        Size = size ?? YoloSize.S;
        Stem = stem;
        var z = Size;
        int c64 = z.Channels(64), c128 = z.Channels(128), c256 = z.Channels(256), c512 = z.Channels(512), c1024 = z.Channels(1024);
        int n3 = z.Repeats(3), n6 = z.Repeats(6), n9 = z.Repeats(9);
        Module stemLayer = stem == YoloStem.Focus
            ? new Focus(inChannels, c64, kernelSize: 3)
            : new ConvBnSiLU(inChannels, c64, 6, stride: 2, padding: 2);
        Detect = new DetectHead(numClasses, anchors ?? DetectHead.DefaultAnchors, [c256, c512, c1024], LevelStrides, biasPrior);
        model = RegisterModule(nameof(model), new ModuleList(
            stemLayer,                                      // 0  P1/2
            new ConvBnSiLU(c64, c128, 3, stride: 2),        // 1  P2/4
            new C3(c128, c128, n3),                         // 2
            new ConvBnSiLU(c128, c256, 3, stride: 2),       // 3  P3/8
            new C3(c256, c256, n6),                         // 4
            new ConvBnSiLU(c256, c512, 3, stride: 2),       // 5  P4/16
            new C3(c512, c512, n9),                         // 6
            new ConvBnSiLU(c512, c1024, 3, stride: 2),      // 7  P5/32
            new C3(c1024, c1024, n3),                       // 8
            new Sppf(c1024, c1024, 5),                      // 9
            new ConvBnSiLU(c1024, c512, 1),                 // 10
            new Upsample(2.0),                              // 11
            new Concat(),                                   // 12 cat backbone P4
            new C3(2 * c512, c512, n3, shortcut: false),    // 13
            new ConvBnSiLU(c512, c256, 1),                  // 14
            new Upsample(2.0),                              // 15
            new Concat(),                                   // 16 cat backbone P3
            new C3(2 * c256, c256, n3, shortcut: false),    // 17 P3/8 out
            new ConvBnSiLU(c256, c256, 3, stride: 2),       // 18
            new Concat(),                                   // 19 cat head P4
            new C3(2 * c256, c512, n3, shortcut: false),    // 20 P4/16 out
            new ConvBnSiLU(c512, c512, 3, stride: 2),       // 21
            new Concat(),                                   // 22 cat head P5
            new C3(2 * c512, c1024, n3, shortcut: false),   // 23 P5/32 out
            Detect));                                       // 24
    }

    /// <summary>The raw per-level maps (N, na, H/s, W/s, 5 + nc) for strides 8, 16, 32, in any mode.</summary>
    public override Tensor[] ForwardRaw(Tensor x)
    {
        if (x.Rank != 4 || x.Size(2) % 32 != 0 || x.Size(3) % 32 != 0)
            throw new ArgumentException($"YoloV5: expected input [N, C, H, W] with H and W multiples of 32, got {x.Shape}");
        if (!GradMode.IsEnabled && x.Size(0) == 1) return Detect.ForwardLevels(NeckWritingCatsInPlace(x));
        Module L(int i) => model[i];
        var x4 = L(4).Call(L(3).Call(L(2).Call(L(1).Call(L(0).Call(x)))));
        var x6 = L(6).Call(L(5).Call(x4));
        var x10 = L(10).Call(L(9).Call(L(8).Call(L(7).Call(x6))));
        var x13 = L(13).Call(Torch.Cat([L(11).Call(x10), x6], 1));
        var x14 = L(14).Call(x13);
        var p3 = L(17).Call(Torch.Cat([L(15).Call(x14), x4], 1));
        var p4 = L(20).Call(Torch.Cat([L(18).Call(p3), x14], 1));
        var p5 = L(23).Call(Torch.Cat([L(21).Call(p4), x10], 1));
        return Detect.ForwardLevels([p3, p4, p5]);
    }

    /// <summary>
    /// [p3, p4, p5] as <see cref="ForwardRaw"/> computes them, for one image at inference: each part of the four
    /// concatenations is written into its channel slice of the concatenated tensor by the layer that makes it (the
    /// slices of one image are contiguous, so the layers that read a part alone read it in place), instead of being
    /// copied there by a cat.
    /// </summary>
    Tensor[] NeckWritingCatsInPlace(Tensor x)
    {
        Module L(int i) => model[i];
        int n = x.Size(0), h = x.Size(2), w = x.Size(3), c256 = Size.Channels(256), c512 = Size.Channels(512);
        var cat12 = Torch.Empty([n, 2 * c512, h / 16, w / 16], x.DType);
        var cat16 = Torch.Empty([n, 2 * c256, h / 8, w / 8], x.DType);
        var cat19 = Torch.Empty([n, 2 * c256, h / 16, w / 16], x.DType);
        var cat22 = Torch.Empty([n, 2 * c512, h / 32, w / 32], x.DType);
        var x4 = Into(4, L(3).Call(L(2).Call(L(1).Call(L(0).Call(x)))), cat16.Narrow(1, c256, c256));
        var x6 = Into(6, L(5).Call(x4), cat12.Narrow(1, c512, c512));
        var x10 = Into(10, L(9).Call(L(8).Call(L(7).Call(x6))), cat22.Narrow(1, c512, c512));
        Into(11, x10, cat12.Narrow(1, 0, c512));
        var x14 = Into(14, L(13).Call(cat12), cat19.Narrow(1, c256, c256));
        Into(15, x14, cat16.Narrow(1, 0, c256));
        var p3 = L(17).Call(cat16);
        Into(18, p3, cat19.Narrow(1, 0, c256));
        var p4 = L(20).Call(cat19);
        Into(21, p4, cat22.Narrow(1, 0, c512));
        return [p3, p4, L(23).Call(cat22)];
    }

    /// <summary>Layer i's output written into destination: in place where the layer can, else copied.</summary>
    Tensor Into(int i, Tensor input, Tensor destination) => model[i] switch
    {
        ConvBnSiLU conv => conv.ForwardInto(input, destination: destination),
        C3 c3 => c3.ForwardInto(input, destination),
        var layer => destination.CopyFrom(layer.Call(input)),
    };

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"size={Size.Name}, stem={Stem}";
}
