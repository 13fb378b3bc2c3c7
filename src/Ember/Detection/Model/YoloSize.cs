namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's model scaling: <paramref name="Depth"/> (depth_multiple) scales the number of bottlenecks in each C3
/// (max(round(n·depth), 1) for n &gt; 1) and <paramref name="Width"/> (width_multiple) scales every channel count
/// (ceil(c·width / 8)·8), as models/yolo.py's parse_model does.
/// </summary>
public sealed record YoloSize(string Name, double Depth, double Width)
{
    /// <summary>yolov5n: depth 0.33, width 0.25.</summary>
    public static YoloSize N { get; } = new("n", 0.33, 0.25);

    /// <summary>yolov5s: depth 0.33, width 0.50.</summary>
    public static YoloSize S { get; } = new("s", 0.33, 0.50);

    /// <summary>yolov5m: depth 0.67, width 0.75.</summary>
    public static YoloSize M { get; } = new("m", 0.67, 0.75);

    /// <summary>yolov5l: depth 1.0, width 1.0.</summary>
    public static YoloSize L { get; } = new("l", 1.0, 1.0);

    /// <summary>The named size n, s, m or l (case-insensitive).</summary>
    public static YoloSize Parse(string name) => name.ToLowerInvariant() switch
    {
        "n" => N,
        "s" => S,
        "m" => M,
        "l" => L,
        _ => throw new ArgumentException($"YOLO size: expected one of n, s, m, l, got '{name}'", nameof(name)),
    };

    /// <summary>Bottlenecks for a C3 that has <paramref name="n"/> at depth 1 (Python's round: half to even, as .NET's).</summary>
    public int Repeats(int n) => n > 1 ? Math.Max((int)Math.Round(n * Depth), 1) : n;

    /// <summary>Channels for a layer that has <paramref name="c"/> at width 1, rounded up to a multiple of 8.</summary>
    public int Channels(int c) => (int)Math.Ceiling(c * Width / 8) * 8;
}
