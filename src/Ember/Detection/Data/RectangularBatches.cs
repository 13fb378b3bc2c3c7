namespace Ember.Detection.Data;

/// <summary>
/// Rectangular batches, exactly as YOLOv5's rectangular inference (<c>LoadImagesAndLabels</c> with rect=True): images are
/// ordered by aspect ratio h/w (stably), cut into batches of <c>batchSize</c>, and each batch gets the shape
/// <c>ceil([rh, rw] · imageSize / stride + pad) · stride</c> where [rh, rw] is [max ratio, 1] when every image of the batch
/// is wider than high, [1, 1 / min ratio] when every one is higher than wide, and [1, 1] otherwise. So a 1080×1440
/// (h×w) image at imageSize 640, stride 32 and pad 0.5 (YOLOv5's val.py) validates at 512×672.
/// </summary>
public sealed class RectangularBatches
{
    readonly int[] order;
    readonly (int Height, int Width)[] shapes;

    /// <summary>Orders <paramref name="sizes"/> (each image's height and width) and computes every batch's shape.</summary>
    public RectangularBatches(IReadOnlyList<(int Height, int Width)> sizes, int imageSize, int batchSize, int stride = 32, double pad = 0.5)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (imageSize < 1) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "RectangularBatches: imageSize must be positive");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "RectangularBatches: batchSize must be positive");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "RectangularBatches: stride must be positive");
        BatchSize = batchSize;
        var ratios = new double[sizes.Count];
        for (int i = 0; i < ratios.Length; i++)
        {
            var (h, w) = sizes[i];
            if (h < 1 || w < 1) throw new ArgumentException($"RectangularBatches: image {i} has size {h}×{w}; both sides must be positive");
            ratios[i] = (double)h / w;
        }
        order = new int[ratios.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        // stable, so images of equal ratio keep their order (YOLOv5's argsort may swap them; the batch shapes agree)
        Array.Sort(order, (a, b) => ratios[a] != ratios[b] ? ratios[a].CompareTo(ratios[b]) : a.CompareTo(b));
        int batches = (int)(((long)order.Length + batchSize - 1) / batchSize); // long: a batch size near int.MaxValue
        shapes = new (int, int)[batches];
        for (int k = 0; k < batches; k++)
        {
            double min = double.MaxValue, max = double.MinValue;
            for (int j = k * batchSize; j < Math.Min(order.Length, (k + 1L) * batchSize); j++)
            {
                min = Math.Min(min, ratios[order[j]]);
                max = Math.Max(max, ratios[order[j]]);
            }
            shapes[k] = Shape(min, max, imageSize, stride, pad);
        }
    }

    /// <summary>A batch's (height, width) from the least and greatest h/w ratio of its images.</summary>
    public static (int Height, int Width) Shape(double minRatio, double maxRatio, int imageSize, int stride = 32, double pad = 0.5)
    {
        double rh = 1, rw = 1;
        if (maxRatio < 1) rh = maxRatio;
        else if (minRatio > 1) rw = 1 / minRatio;
        return ((int)Math.Ceiling(rh * imageSize / stride + pad) * stride, (int)Math.Ceiling(rw * imageSize / stride + pad) * stride);
    }

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Position p of the ordered data set is image Order[p] of the original.</summary>
    public IReadOnlyList<int> Order => order;
    /// <summary>Each batch's (height, width).</summary>
    public IReadOnlyList<(int Height, int Width)> Shapes => shapes;
    /// <summary>The (height, width) of the batch holding position <paramref name="position"/>.</summary>
    public (int Height, int Width) ShapeAt(int position) => shapes[position / BatchSize];
}
