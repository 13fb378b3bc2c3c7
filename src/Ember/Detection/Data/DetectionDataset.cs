using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Detection.Data;

/// <summary>
/// The detection input pipeline of YOLOv5's <c>LoadImagesAndLabels.__getitem__</c> over any source of
/// <see cref="DetectionSample"/> (such as <see cref="YoloDataset"/>): each image is first resized so its long side is
/// <c>imageSize</c> (sides rounded up; shrunk by area averaging for validation, bilinearly otherwise, as YOLOv5's
/// load_image), then
/// <list type="bullet">
/// <item>training (<c>augment</c>): with probability <see cref="DetectionAugmentation.Mosaic"/> a mosaic of this and 3
/// random images on a 2·size canvas, copy-paste, and a random affine that cuts it back to size × size; otherwise a
/// letterbox to size × size and the random affine; then HSV jitter and the flips;</item>
/// <item>validation: a letterbox (no upscaling beyond the resize) to size × size, or with <c>rect</c> to its batch's
/// shape from <see cref="RectangularBatches"/>, in which case the items are in aspect-ratio order.</item>
/// </list>
/// Items are <see cref="DetectionSample"/>s; <see cref="CreateLoader"/> batches them with <see cref="DetectionCollate"/>.
/// </summary>
public sealed class DetectionDataset : IDataset<DetectionSample>
{
    readonly IDataset<DetectionSample> source;
    readonly RectangularBatches? rect;
    readonly Mosaic mosaic;
    readonly RandomAffine affine;
    readonly HsvJitter hsv;
    readonly DetectionFlip flip;
    readonly CopyPaste copyPaste;
    readonly int stride;
    const double Fill = 114.0 / 255;

    /// <summary>Builds the pipeline; <paramref name="sizes"/> (each source image's height and width) is needed with rect and read from a <see cref="YoloDataset"/>'s headers when not given.</summary>
    public DetectionDataset(IDataset<DetectionSample> source, int imageSize = 640, bool augment = false, DetectionAugmentation? hyp = null,
        bool rect = false, int batchSize = 16, int stride = 32, double pad = 0.5, IReadOnlyList<(int Height, int Width)>? sizes = null)
    {
        this.source = source ?? throw new ArgumentNullException(nameof(source));
        if (imageSize < stride || imageSize % stride != 0)
            throw new ArgumentException($"DetectionDataset: imageSize must be a positive multiple of the stride {stride}, got {imageSize}");
        if (rect && augment)
            throw new ArgumentException("DetectionDataset: rect and augment exclude each other (YOLOv5: --rect is for validation; mosaic needs square images)");
        if (source.Count == 0) throw new ArgumentException("DetectionDataset: the source holds no images");
        ImageSize = imageSize;
        this.stride = stride;
        Augment = augment;
        Hyp = hyp ?? (augment ? new DetectionAugmentation() : DetectionAugmentation.None);
        BatchSize = batchSize;
        if (rect)
        {
            sizes ??= source is YoloDataset yolo ? Enumerable.Range(0, yolo.Count).Select(yolo.ImageSize).ToList()
                : Enumerable.Range(0, source.Count).Select(i => (source[i].Height, source[i].Width)).ToList();
            if (sizes.Count != source.Count) throw new ArgumentException($"DetectionDataset: {sizes.Count} sizes given for {source.Count} images");
            // the sizes after load_image's resize, as YOLOv5 sorts on the original shapes (the ratio barely changes)
            this.rect = new RectangularBatches(sizes, imageSize, batchSize, stride, pad);
        }
        mosaic = new Mosaic(2 * imageSize, Fill);
        affine = new RandomAffine(Hyp.Degrees, Hyp.Translate, Hyp.Scale, Hyp.Shear, Fill);
        hsv = new HsvJitter(Hyp.HsvH, Hyp.HsvS, Hyp.HsvV);
        flip = new DetectionFlip(Hyp.FlipLr, Hyp.FlipUd);
        copyPaste = new CopyPaste(Hyp.CopyPaste);
        // a subset (--limit) of a caching YOLO data set reads only its own images: the set lets its decode buffers go
        // once those were read, not once every image was, which never happens
        if (source is Subset<DetectionSample> && CachedSource(0) is { } cached)
            cached.Set.WillRead([.. Enumerable.Range(0, source.Count).Select(i => CachedSource(i)!.Value.Index)]);
    }

    /// <summary>The training or validation size.</summary>
    public int ImageSize { get; }
    /// <summary>Whether items are augmented (training).</summary>
    public bool Augment { get; }
    /// <summary>The augmentation hyper-parameters.</summary>
    public DetectionAugmentation Hyp { get; }
    /// <summary>The batch size the rectangular shapes were computed for (and <see cref="CreateLoader"/> uses).</summary>
    public int BatchSize { get; }
    /// <summary>The rectangular batches, or null without rect.</summary>
    public RectangularBatches? Rect => rect;

    /// <inheritdoc/>
    public int Count => source.Count;

    /// <summary>
    /// The same pipeline without mosaic, as YOLOv8's close_mosaic switches to for the last epochs: letterboxed items with
    /// the other augmentations (copy-paste, which only pastes into mosaics, goes too); this data set when it makes no mosaics.
    /// </summary>
    public DetectionDataset WithoutMosaic()
        => !Augment || Hyp.Mosaic == 0 ? this
            : new DetectionDataset(source, ImageSize, augment: true, hyp: Hyp with { Mosaic = 0, CopyPaste = 0 }, batchSize: BatchSize, stride: stride);

    /// <summary>The item without augmentation randomness (validation), or augmented from the global generator.</summary>
    public DetectionSample this[int index] => Get(index, Generator.Default);

    /// <inheritdoc/>
    public DetectionSample Get(int index, Generator generator)
    {
        if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"DetectionDataset: index {index} is out of range for {Count} images");
        int sourceIndex = rect is null ? index : rect.Order[index];
        Tensor image, boxes;
        string? path;
        if (Augment && Hyp.Mosaic > 0 && generator.NextDouble() < Hyp.Mosaic)
        {
            var items = new (Tensor, Tensor)[4];
            var first = LoadResized(sourceIndex, 0);
            path = first.Path;
            items[0] = (first.Image, first.Boxes);
            for (int k = 1; k < 4; k++)
            {
                var other = LoadResized((int)generator.NextInt64(Count), k);
                items[k] = (other.Image, other.Boxes);
            }
            (image, boxes) = mosaic.Apply(items, generator);
            var canvas = image;
            (image, boxes) = copyPaste.Apply(image, boxes, generator);
            Recycle(canvas, image);
            canvas = image;
            (image, boxes) = affine.Apply(image, boxes, generator, -ImageSize / 2, -ImageSize / 2);
            Recycle(canvas, image);
        }
        else
        {
            var loaded = LoadResized(sourceIndex, 0);
            path = loaded.Path;
            var (h, w) = rect?.ShapeAt(index) ?? (ImageSize, ImageSize);
            var boxed = new Letterbox(h, w, auto: false, scaleUp: Augment, fill: Fill).Apply(loaded.Image);
            (image, boxes) = (boxed.Image, boxed.MapToLetterbox(loaded.Boxes));
            if (Augment)
            {
                var letterboxed = image;
                (image, boxes) = affine.Apply(image, boxes, generator);
                Recycle(letterboxed, image);
            }
        }
        if (Augment)
        {
            var before = image;
            if (Hyp.HsvH > 0 || Hyp.HsvS > 0 || Hyp.HsvV > 0) image = hsv.Apply(image, generator);
            Recycle(before, image);
            before = image;
            (image, boxes) = flip.Apply(image, boxes, generator);
            Recycle(before, image);
        }
        return new DetectionSample(image, DetectionBoxes.FromPixels(boxes, image.Size(1), image.Size(2)), path);
    }

    // An image this Get made (the mosaic canvas, a letterbox, an augmentation step's output) that the next step replaced
    // goes straight back to the storage pool: nothing else holds it, and the next item's step takes it again at once,
    // where waiting for a collection to find it dead cost a blocking full collection every few items.
    static void Recycle(Tensor replaced, Tensor next)
    {
        if (!ReferenceEquals(replaced.storage, next.storage)) DataTensors.Recycle(replaced);
    }

    // YOLOv5's load_image: the long side becomes imageSize, the short side rounded up; boxes in pixels of the result.
    // The result may live in this thread's scratch slot (0-3, one per mosaic tile): valid until the next call with that
    // slot, which is enough because Get copies it into the mosaic canvas or the letterbox before it returns.
    (Tensor Image, Tensor Boxes, string? Path) LoadResized(int index, int slot)
    {
        var buffers = scratch ??= new Scratch();
        DetectionSample sample;
        // a caching source's image (decoded into its cache on the first read) is converted into scratch instead of a new
        // array per read (four per mosaic): the resize below replaces it at once
        if (CachedSource(index) is var (yolo, at) && yolo.CachedImage(at, ref buffers.Source) is { } cached)
            sample = new DetectionSample(cached, yolo.LabelsOf(at), yolo.ImagePath(at));
        else sample = source[index];
        var image = sample.Image;
        int h0 = sample.Height, w0 = sample.Width;
        double r = (double)ImageSize / Math.Max(h0, w0);
        if (r != 1)
        {
            int h = Math.Max(1, (int)Math.Ceiling(h0 * r)), w = Math.Max(1, (int)Math.Ceiling(w0 * r));
            // YOLOv5 shrinks validation images by area (INTER_AREA) and everything else bilinearly
            if (r < 1 && !Augment && h <= h0 && w <= w0) image = AreaResize.Shrink(image, h, w);
            else
            {
                ref var into = ref buffers.Resized[slot];
                long need = (long)image.Size(0) * h * w;
                if (into is null || into.Length < need) into = DataTensors.NewImage(image.Size(0), h, w, "DetectionDataset");
                image = ImageKernels.ResizeBilinear(image, h, w, into: into);
            }
        }
        else if (ReferenceEquals(image.storage.Data, buffers.Source))
        {
            // already at size but in the decode scratch, which the next tile overwrites: keep it in this tile's slot
            ref var into = ref buffers.Resized[slot];
            if (into is null || into.Length < image.NumEl) into = new float[image.NumEl];
            DataTensors.Floats(image).CopyTo(into);
            image = DataTensors.Wrap(into, image.Size(0), image.Size(1), image.Size(2));
        }
        return (image, DetectionBoxes.ToPixels(sample.Labels, image.Size(1), image.Size(2)), sample.Path);
    }

    // The YOLO data set and index behind item i of the source (through subsets, as --limit makes), or null.
    (YoloDataset Set, int Index)? CachedSource(int index)
    {
        var set = source;
        while (set is Subset<DetectionSample> subset) { index = subset.Indices[index]; set = subset.Dataset; }
        return set is YoloDataset { IsCaching: true } yolo ? (yolo, index) : null;
    }

    // Per-thread scratch of LoadResized: the decoded image and the four resized mosaic tiles (each image has its own size,
    // so the storage pool, which matches exact lengths, cannot recycle these; fresh ones cost ~8 MB of page faults per item).
    sealed class Scratch
    {
        public float[]? Source;
        public readonly float[]?[] Resized = new float[4][];
    }

    [ThreadStatic] static Scratch? scratch;

    /// <summary>
    /// A loader yielding <see cref="DetectionBatch"/>es of <see cref="BatchSize"/> images; with rect the order is fixed (a
    /// shuffle would mix batches of different shapes, which YOLOv5 refuses too).
    /// </summary>
    public DataLoader<DetectionSample, DetectionBatch> CreateLoader(bool shuffle = false, int numWorkers = 0, long? seed = null, bool dropLast = false)
    {
        if (shuffle && rect is not null)
            throw new ArgumentException("DetectionDataset: shuffle cannot be combined with rect (each batch has its own shape, computed for the aspect-ratio order)");
        return new DataLoader<DetectionSample, DetectionBatch>(this, CollateAndRecycle, BatchSize, shuffle, dropLast: dropLast, numWorkers: numWorkers, seed: seed);
    }

    // The loader's items are this data set's fresh images, seen by nothing but the collate: once stacked into the batch
    // their buffers go back to the storage pool for the next batch's items.
    static DetectionBatch CollateAndRecycle(IReadOnlyList<DetectionSample> samples)
    {
        var batch = DetectionCollate.Collate(samples);
        foreach (var s in samples)
            if (!ReferenceEquals(s.Image.storage, batch.Images.storage)) DataTensors.Recycle(s.Image);
        return batch;
    }
}
