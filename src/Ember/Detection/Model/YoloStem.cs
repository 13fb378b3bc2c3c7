namespace Ember.Detection.Model;

/// <summary>The first layer of <see cref="YoloV5"/>.</summary>
public enum YoloStem
{
    /// <summary>A 6×6, stride-2, padding-2 Conv-BN-SiLU (YOLOv5 v6.0 onwards).</summary>
    Conv6x6,
    /// <summary>The Focus layer (space-to-depth, then a 3×3 Conv-BN-SiLU) of YOLOv5 up to v5.0; it computes what Conv6x6 computes.</summary>
    Focus,
}
