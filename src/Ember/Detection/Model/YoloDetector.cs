using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// What training, validation, prediction and export need of a YOLO detector, whether built in code
/// (<see cref="YoloV5"/>) or from a model definition (<see cref="YoloModel"/>): the <see cref="DetectHead"/> (anchors,
/// strides, the loss's view of the output) and the raw per-level maps. In training mode <see cref="Forward"/> returns the
/// raw maps flattened, (N, Σ na·H·W, 5 + nc); in eval mode the decoded boxes (see <see cref="DetectHead.Decode"/>).
/// </summary>
public abstract class YoloDetector : Module
{
    /// <summary>The detection head (the last layer).</summary>
    public abstract DetectHead Detect { get; }

    /// <summary>A short name for reports and exported files: yolov5n, or the model definition's file name.</summary>
    public abstract string ModelName { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses => Detect.NumClasses;

    /// <summary>The raw per-level maps (N, na, H/s, W/s, 5 + nc), in any mode.</summary>
    public abstract Tensor[] ForwardRaw(Tensor x);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var raw = ForwardRaw(x);
        return Training ? Detect.FlattenKeepingRaw(raw) : Detect.Decode(raw);
    }
}
