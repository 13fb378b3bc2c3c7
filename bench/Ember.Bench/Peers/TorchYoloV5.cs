using Ember.Detection.Model;
using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// YOLOv5 (v6.x yaml: 6×6 stem, C3, SPPF, PAN neck, Detect at strides 8/16/32) in TorchSharp, eval-mode forward returning
/// the decoded (N, Σ na·H·W, 5 + nc) output; layers in <c>model.0</c>–<c>model.24</c> as in YOLOv5 and Ember's
/// Detection.Model.YoloV5, so Ember's weights copy across by name. Concat layers are parameterless Identity placeholders.
/// </summary>
public sealed class TorchYoloV5 : Module<TT, TT>
{
    readonly TorchSharp.Modules.ModuleList<Module<TT, TT>> model;

    /// <summary>The model at <paramref name="size"/>'s depth and width multipliers.</summary>
    public TorchYoloV5(int numClasses, YoloSize size) : base(nameof(TorchYoloV5))
    {
        long c64 = size.Channels(64), c128 = size.Channels(128), c256 = size.Channels(256), c512 = size.Channels(512), c1024 = size.Channels(1024);
        int n3 = size.Repeats(3), n6 = size.Repeats(6), n9 = size.Repeats(9);
        var detect = new TorchDetect(numClasses, DetectHead.DefaultAnchors, [c256, c512, c1024], YoloV5.LevelStrides);
        Module<TT, TT> Up() => Upsample(scale_factor: [2.0, 2.0], mode: torch.UpsampleMode.Nearest);
        model = ModuleList<Module<TT, TT>>(
            new TorchYoloConv(3, c64, 6, 2, 2), new TorchYoloConv(c64, c128, 3, 2), new TorchC3(c128, c128, n3),
            new TorchYoloConv(c128, c256, 3, 2), new TorchC3(c256, c256, n6), new TorchYoloConv(c256, c512, 3, 2), new TorchC3(c512, c512, n9),
            new TorchYoloConv(c512, c1024, 3, 2), new TorchC3(c1024, c1024, n3), new TorchSppf(c1024, c1024, 5),
            new TorchYoloConv(c1024, c512, 1), Up(), Identity(), new TorchC3(2 * c512, c512, n3, false),
            new TorchYoloConv(c512, c256, 1), Up(), Identity(), new TorchC3(2 * c256, c256, n3, false),
            new TorchYoloConv(c256, c256, 3, 2), Identity(), new TorchC3(2 * c256, c512, n3, false),
            new TorchYoloConv(c512, c512, 3, 2), Identity(), new TorchC3(2 * c512, c1024, n3, false),
            detect);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x) => ((TorchDetect)model[24]).Decode(Features(x));

    /// <summary>The raw per-level Detect conv outputs (N, na·(5 + nc), H/s, W/s), for a training step.</summary>
    public TT[] ForwardRaw(TT x) => ((TorchDetect)model[24]).Raw(Features(x));

    /// <summary>The training-mode per-level maps (N, na, H/s, W/s, 5 + nc), as Ember's YoloV5.ForwardRaw returns them.</summary>
    public TT[] ForwardMaps(TT x) => ((TorchDetect)model[24]).Maps(Features(x));

    /// <summary>The neck's outputs [p3, p4, p5].</summary>
    TT[] Features(TT x)
    {
        var l = model;
        TT x4 = l[4].forward(l[3].forward(l[2].forward(l[1].forward(l[0].forward(x)))));
        TT x6 = l[6].forward(l[5].forward(x4));
        TT x10 = l[10].forward(l[9].forward(l[8].forward(l[7].forward(x6))));
        TT x14 = l[14].forward(l[13].forward(torch.cat([l[11].forward(x10), x6], 1)));
        TT p3 = l[17].forward(torch.cat([l[15].forward(x14), x4], 1));
        TT p4 = l[20].forward(torch.cat([l[18].forward(p3), x14], 1));
        TT p5 = l[23].forward(torch.cat([l[21].forward(p4), x10], 1));
        return [p3, p4, p5];
    }
}
