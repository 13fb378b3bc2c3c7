using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's transfer of pre-trained weights (train.py --weights: intersect_dicts, then load_state_dict(strict=False)):
/// every tensor of the model's state dict whose name is in the weights with the same shape is copied bit for bit;
/// the others keep their initialization.
/// </summary>
public static class WeightTransfer
{
    /// <summary>
    /// Copies into <paramref name="model"/> each of <paramref name="weights"/> whose name and shape match one of its
    /// parameters or buffers (of the same kind: floating point, integer or bool); returns the names copied, in the
    /// model's order. The count of the model's state dict is <c>model.StateDict().Count</c> (YOLOv5's "Transferred a/b").
    /// </summary>
    public static IReadOnlyList<string> Intersect(Module model, IReadOnlyDictionary<string, Tensor> weights)
    {
        var matched = new OrderedDictionary<string, Tensor>();
        foreach (var (name, own) in model.StateDict())
            if (weights.TryGetValue(name, out var w) && w.Shape == own.Shape && w.DType.IsFloatingPoint() == own.DType.IsFloatingPoint()
                && (w.DType == DType.Bool) == (own.DType == DType.Bool))
                matched[name] = w;
        model.LoadStateDict(matched, strict: false);
        return [.. matched.Keys];
    }
}
