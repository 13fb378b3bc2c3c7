using Ember.Autograd;
using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's ClassificationModel made from a detector (models/yolo.py _from_detection_model): the detector's layers
/// <c>model.0</c> … <c>model.{cutoff-1}</c> (the backbone; the same module objects, so the same names, shapes and
/// initial weights), then <see cref="Classify"/> as <c>model.{cutoff}</c> in place of the detector's layer there (SPPF
/// at 9 in YOLOv5). Its state dict therefore shares every backbone key with the detector's, which is what lets
/// `ember detect train --weights` start a detector from a classifier trained by `ember detect pretrain`.
/// Input (N, 3, H, W) with H and W multiples of the backbone's stride; output (N, classes) logits.
/// </summary>
public sealed class YoloClassifier : Module
{
    /// <summary>YOLOv5's default cutoff: layers 0–8 kept, Classify as layer 9.</summary>
    public const int DefaultCutoff = 9;

    readonly ModuleList model;

    /// <summary>The classification head (the last layer).</summary>
    public Classify Head { get; }

    /// <summary>The number of backbone layers kept from the detector.</summary>
    public int Cutoff { get; }

    /// <summary>The name of the detector it was made from (yolov5n, or the model definition's file name).</summary>
    public string ModelName { get; }

    /// <summary>
    /// The classifier made from <paramref name="detector"/> (which gives up its backbone layers: build a fresh one);
    /// the backbone layers must form a chain (each takes the previous one's output), as YOLOv5's do.
    /// </summary>
    public YoloClassifier(YoloDetector detector, int numClasses, int cutoff = DefaultCutoff, double dropout = 0.0)
    {
        var layers = detector.NamedChildren().FirstOrDefault(c => c.Name == "model").Module as ModuleList
            ?? throw new ArgumentException($"YoloClassifier: {detector.ModelName} has no 'model' layer list");
        if (cutoff < 1 || cutoff >= layers.Count)
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, $"YoloClassifier: cutoff must be in [1, {layers.Count - 1}] for {detector.ModelName} ({layers.Count} layers)");
        if (detector is YoloModel yaml)
            for (int i = 1; i < cutoff; i++)
                if (yaml.InputsOf(i) is not [var from] || from != i - 1)
                    throw new ArgumentException($"YoloClassifier: {yaml.Config.Source}: layer {i} takes [{string.Join(", ", yaml.InputsOf(i))}], not the previous layer; " +
                        $"the layers before the cutoff ({cutoff}) must form a chain, as a YOLOv5 backbone does");
        Cutoff = cutoff;
        ModelName = detector.ModelName;
        var backbone = Enumerable.Range(0, cutoff).Select(i => layers[i]).ToArray();
        Head = new Classify(BackboneChannels(backbone, (int)Math.Round(detector.Detect.Strides.Max())), numClasses, dropout);
        model = RegisterModule(nameof(model), new ModuleList([.. backbone, Head]));
    }

    /// <summary>The class count.</summary>
    public int NumClasses => Head.NumClasses;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"YoloClassifier ({ModelName}): expected input [N, C, H, W], got {x.Shape}");
        for (int i = 0; i <= Cutoff; i++) x = model[i].Call(x);
        return x;
    }

    // The backbone's output channels, from one forward of a small black image in eval mode (no statistics change).
    static int BackboneChannels(Module[] backbone, int stride)
    {
        var modes = backbone.Select(m => m.Training).ToArray();
        try
        {
            foreach (var m in backbone) m.Eval();
            using (Torch.NoGrad())
            {
                var x = Torch.Zeros(1, 3, stride, stride);
                foreach (var m in backbone) x = m.Call(x);
                return x.Size(1);
            }
        }
        finally
        {
            for (int i = 0; i < backbone.Length; i++) backbone[i].Train(modes[i]);
        }
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"from={ModelName}, cutoff={Cutoff}";
}
