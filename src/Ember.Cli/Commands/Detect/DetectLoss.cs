using Ember.Detection.Loss;
using Ember.Detection.Model;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// The YOLOv5 loss as the Trainer's loss function, remembering the parts (box, obj, cls) of its latest call so that the
/// run's callbacks can log them per epoch (YOLOv5's loss_items) without computing the loss twice.
/// </summary>
public sealed class DetectLoss(YoloLoss loss, DetectHead head)
{
    /// <summary>The parts of the latest call.</summary>
    public YoloLossResult? Last { get; private set; }

    /// <summary>The loss of a flat training output or of the latest eval-mode (decoded) output (the head kept its raw maps).</summary>
    public Tensor Compute(Tensor output, Tensor targets)
    {
        Last = loss.Compute(head.RawOf(output) ?? head.Split(output, head.LastShapes), targets);
        return Last.Total;
    }
}
