namespace Ember.Detection.Metrics;

/// <summary>How <see cref="AveragePrecision.Compute"/> integrates the precision envelope over recall.</summary>
public enum ApMethod
{
    /// <summary>YOLOv5's default ('interp'): the envelope sampled at 101 recall points by linear interpolation and integrated with the trapezoid rule.</summary>
    Interpolated101,
    /// <summary>COCOeval's: the mean of the envelope at the first detection reaching each of 101 recall thresholds (0 past the last).</summary>
    Coco101,
    /// <summary>VOC 2010+ ('continuous'): the area under the envelope where recall changes.</summary>
    Continuous,
}
