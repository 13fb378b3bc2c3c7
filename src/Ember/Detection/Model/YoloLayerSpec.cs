namespace Ember.Detection.Model;

/// <summary>
/// One row of a YOLOv5 model definition, <c>[from, number, module, args]</c>: the input layers (−1 is the previous
/// layer, other negatives count back from this one), the repeat count at depth 1, the module name (Conv, C3, SPPF,
/// Focus, Bottleneck, nn.Upsample, Concat, Detect) and its arguments as written (numbers, None/True/False, strings, or the
/// names nc and anchors). <paramref name="Line"/> is the definition's line, for errors.
/// </summary>
public sealed record YoloLayerSpec(int[] From, int Number, string Module, IReadOnlyList<string> Args, int Line);
