using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// A data set in the YOLO format (YOLOv5's <c>LoadImagesAndLabels</c> without the augmentation): images found in folders
/// or listed in .txt files, each with its label file found by <see cref="YoloLabels.LabelPathFor"/>. Every label file is
/// read and every image's header checked when the data set is built, as YOLOv5 does when it caches labels: an image
/// without a label file is a background image (no objects); a malformed label line, a box outside the image, a class id
/// out of range, an unreadable image, or a label file without an image is a <see cref="Problems"/> entry naming file and
/// line, and the sample is skipped. Items are the original images (RGB [3, H, W] in [0, 1]) with labels [n, 5].
/// </summary>
public sealed class YoloDataset : IDataset<DetectionSample>
{
    readonly List<(string Image, float[] Labels, int Height, int Width, bool Background)> samples = [];
    readonly List<DetectionProblem> problems = [];
    readonly List<DetectionProblem> skippedForMemory = [];
    byte[]?[]? cache;
    int backgrounds, labelFiles;

    /// <summary>
    /// Indexes the images of <paramref name="sources"/> (folders, .txt lists or single images) for a data set of
    /// <paramref name="classCount"/> classes. With <paramref name="cacheImages"/> each image is kept in memory as 8-bit
    /// pixels once decoded (YOLOv5's --cache ram: a mosaic reads four images per item, and decoding dominates otherwise).
    /// <paramref name="tooLarge"/>, given an image's path, height and width as its header declares, says why the image is
    /// not to be decoded (too large for the memory free now) or returns null: such an image is a problem and skipped, as
    /// is one whose reading runs out of memory.
    /// </summary>
    public YoloDataset(IEnumerable<string> sources, int classCount, long maxPixels = ImageFolder.DefaultMaxPixels, bool cacheImages = false,
        Func<string, int, int, string?>? tooLarge = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "YoloDataset: classCount must be at least 1");
        ClassCount = classCount;
        MaxPixels = maxPixels;
        var images = new List<string>();
        var labelFolders = new List<string>();
        foreach (var source in sources)
        {
            if (Directory.Exists(source))
            {
                images.AddRange(Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(DetectionImages.IsImage).Order(StringComparer.Ordinal));
                labelFolders.Add(System.IO.Path.GetDirectoryName(YoloLabels.LabelPathFor(System.IO.Path.Combine(source, "x.png")))!);
            }
            else if (File.Exists(source) && System.IO.Path.GetExtension(source).Equals(".txt", StringComparison.OrdinalIgnoreCase))
                images.AddRange(ReadList(source));
            else if (File.Exists(source) && DetectionImages.IsImage(source)) images.Add(System.IO.Path.GetFullPath(source));
            else throw new DirectoryNotFoundException($"YoloDataset: image source '{source}' does not exist (expected a folder of images, a .txt list of images, or an image file)");
        }
        if (images.Count == 0)
            throw new InvalidDataException($"YoloDataset: no images ({string.Join(", ", DetectionImages.Extensions)}) in {string.Join(", ", sources.Select(s => $"'{s}'"))}");
        var imageSet = new HashSet<string>(images.Select(System.IO.Path.GetFullPath), StringComparer.Ordinal);
        var expectedLabels = new HashSet<string>(StringComparer.Ordinal);
        byte[]? fileBuffer = null; // every image's file is read into this one buffer to be checked (DetectionImages.Probe)
        foreach (var image in images)
        {
            var labelPath = YoloLabels.LabelPathFor(image);
            expectedLabels.Add(labelPath);
            (int H, int W) size;
            try
            {
                size = DetectionImages.Probe(image, maxPixels, ref fileBuffer);
                // decided here, once, so that every epoch (and a resumed run) reads the same images in the same batches
                if (tooLarge?.Invoke(image, size.H, size.W) is string reason)
                {
                    SkipForMemory(new DetectionProblem(image, 0, $"too large for memory now: {reason}"));
                    continue;
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                problems.Add(new DetectionProblem(image, 0, $"unreadable image: {Strip(e.Message, image)}"));
                continue;
            }
            catch (OutOfMemoryException e)
            {
                // the header check holds the whole file (up to 1 GiB); the next image may fit
                SkipForMemory(new DetectionProblem(image, 0, $"memory ran out while reading it ({e.Message})"));
                continue;
            }
            float[]? labels = [];
            bool background = !File.Exists(labelPath);
            if (!background)
            {
                labelFiles++;
                string text;
                try { text = System.Text.Encoding.UTF8.GetString(UntrustedFile.ReadAllBytes(labelPath, "label file", 1 << 24)); }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    problems.Add(new DetectionProblem(labelPath, 0, $"unreadable label file: {e.Message}"));
                    continue;
                }
                labels = YoloLabels.Parse(text, labelPath, classCount, problems);
                if (labels == null) continue;
            }
            else backgrounds++;
            samples.Add((image, labels, size.H, size.W, background));
        }
        // a label file whose image is missing is a labelling mistake (renamed or deleted image) worth reporting
        foreach (var folder in labelFolders.Distinct())
            if (Directory.Exists(folder))
                foreach (var label in Directory.EnumerateFiles(folder, "*.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    if (!expectedLabels.Contains(System.IO.Path.GetFullPath(label)) && !imageSet.Contains(label))
                        problems.Add(new DetectionProblem(label, 0, $"label file has no image: expected an image named '{System.IO.Path.GetFileNameWithoutExtension(label)}' " +
                            $"with one of {string.Join(", ", DetectionImages.Extensions)} in the matching images folder"));
        Sources = [.. sources];
        if (cacheImages) NewCache();
    }

    /// <summary>The training (or validation) split of a data.yaml.</summary>
    public static YoloDataset FromConfig(YoloDataConfig config, bool train, long maxPixels = ImageFolder.DefaultMaxPixels, bool cacheImages = false,
        Func<string, int, int, string?>? tooLarge = null)
        => new(train ? config.Train : config.Val, config.ClassCount, maxPixels, cacheImages, tooLarge);

    // A .txt list holds one image path per line, relative lines taken from the list's folder (YOLOv5's convention).
    static IEnumerable<string> ReadList(string listFile)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(listFile))!;
        foreach (var line in File.ReadAllLines(listFile))
        {
            var entry = line.Trim();
            if (entry.Length == 0) continue;
            yield return System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, entry));
        }
    }

    /// <summary>
    /// Skips each image for which <paramref name="tooLarge"/>, given its path, height and width, says why it is not to be
    /// decoded, as the scan's own refusals (a <see cref="SkippedForMemory"/> problem), until <paramref name="count"/> images
    /// are kept (those a run reading the first <paramref name="count"/> reads; the images after them are not weighed): for
    /// a weighing the scan could not do, such as an image beside the training step that reads it, which is measured once
    /// the data set's labels are known. Before any image is read. Returns how many were skipped.
    /// </summary>
    internal int SkipForMemory(int count, Func<string, int, int, string?> tooLarge)
    {
        if (cache is not null && cache.Any(c => c is not null)) throw new InvalidOperationException("YoloDataset: images are skipped before any is read into the cache");
        int skipped = 0;
        for (int i = 0, kept = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            if (kept < count && tooLarge(sample.Image, sample.Height, sample.Width) is string reason)
            {
                SkipForMemory(new DetectionProblem(sample.Image, 0, $"too large for memory now: {reason}"));
                if (sample.Background) backgrounds--;
                skipped++;
            }
            else samples[kept++] = sample;
        }
        samples.RemoveRange(samples.Count - skipped, skipped);
        if (cache is not null) NewCache();
        return skipped;
    }

    void SkipForMemory(DetectionProblem problem)
    {
        problems.Add(problem);
        skippedForMemory.Add(problem);
    }

    static string Strip(string message, string path) => message.Replace($"image '{path}': ", "").Replace($"image: {path} ", "");

    /// <summary>The image sources the data set was built from.</summary>
    public IReadOnlyList<string> Sources { get; }
    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }
    /// <summary>The largest width × height decoded.</summary>
    public long MaxPixels { get; }
    /// <summary>Everything wrong that was found; each concerns a skipped sample or an orphan label file.</summary>
    public IReadOnlyList<DetectionProblem> Problems => problems;
    /// <summary>The <see cref="Problems"/> of images skipped for the memory free when the data set was read (a run with more may use them).</summary>
    public IReadOnlyList<DetectionProblem> SkippedForMemory => skippedForMemory;
    /// <summary>The number of usable images without a label file (background images).</summary>
    public int Backgrounds => backgrounds;
    /// <summary>The number of labelled objects over the usable images (0: nothing to score detections against).</summary>
    public int Objects
    {
        get
        {
            int objects = 0;
            foreach (var s in samples) objects += s.Labels.Length / 5;
            return objects;
        }
    }
    /// <summary>The usable images' files, in index order.</summary>
    public IReadOnlyList<string> ImagePaths => samples.Select(s => s.Image).ToList();
    /// <summary>Image i's file.</summary>
    public string ImagePath(int index) => samples[index].Image;
    /// <summary>Whether decoded images are kept in memory (cacheImages).</summary>
    public bool IsCaching => cache is not null;
    /// <summary>Image i's (height, width) as its header declares.</summary>
    public (int Height, int Width) ImageSize(int index) => (samples[index].Height, samples[index].Width);
    /// <summary>Image i's labels [n, 5] (class, cx, cy, w, h) as read, without decoding the image.</summary>
    public Tensor LabelsOf(int index) => Torch.FromArray((float[])samples[index].Labels.Clone(), [samples[index].Labels.Length / 5, 5]);

    /// <summary>
    /// One line like YOLOv5's scan summary: "240 images, 12 backgrounds, 3 skipped (5 problems, first: file:line: message)".
    /// </summary>
    public string Summary()
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{samples.Count} images, {Objects} objects, {backgrounds} backgrounds (no label file)");
        if (problems.Count == 0) return line + ", no problems";
        int skipped = problems.Select(p => p.File).Distinct().Count();
        return line + string.Create(CultureInfo.InvariantCulture, $", {problems.Count} problem{(problems.Count == 1 ? "" : "s")} in {skipped} file{(skipped == 1 ? "" : "s")} (skipped; first: {problems[0]})");
    }

    /// <inheritdoc/>
    public int Count => samples.Count;

    /// <inheritdoc/>
    public DetectionSample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)samples.Count) throw new IndexOutOfRangeException($"YoloDataset: index {index} is out of range for {samples.Count} images");
            var (path, _, h, w, _) = samples[index];
            if (cache is not null) return new DetectionSample(FromBytes(CachedBytes(index), h, w), LabelsOf(index), path);
            var image = Decoding(index, () => DetectionImages.Decode(path, MaxPixels));
            if (image.Size(1) != h || image.Size(2) != w)
                throw new InvalidDataException($"YoloDataset: image '{path}' decoded to {image.Size(1)}×{image.Size(2)} but its header declares {h}×{w}; the file changed or is damaged");
            return new DetectionSample(image, LabelsOf(index), path);
        }
    }

    /// <summary>
    /// Image i as a [3, H, W] tensor written into <paramref name="buffer"/> (grown when too small; the tensor shares it, so
    /// it is valid until the caller reuses the buffer), decoded into the cache first if it is not there yet; null when
    /// the data set does not cache. The values are those of the indexer. For <see cref="DetectionDataset"/>, which
    /// resizes the image at once.
    /// </summary>
    internal Tensor? CachedImage(int index, ref float[]? buffer)
    {
        if (cache is null) return null;
        var bytes = CachedBytes(index);
        if (buffer is null || buffer.Length < bytes.Length) buffer = new float[bytes.Length];
        ToUnit(bytes, buffer);
        return DataTensors.Wrap(buffer, 3, samples[index].Height, samples[index].Width);
    }

    /// <summary>
    /// into[i] = bytes[i]·(1/255) in float, 32 bytes at a time where Vector256 is accelerated (the conversion is exact
    /// and the product the same single rounding, so the values are those of the scalar loop that does the tail).
    /// </summary>
    internal static void ToUnit(ReadOnlySpan<byte> bytes, Span<float> into)
    {
        if (into.Length < bytes.Length) throw new ArgumentException($"YoloDataset: {into.Length} floats cannot hold {bytes.Length} pixel values");
        const float Scale = 1f / 255f;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref byte b0 = ref MemoryMarshal.GetReference(bytes);
            ref float f0 = ref MemoryMarshal.GetReference(into);
            var scale = Vector256.Create(Scale);
            for (; i <= bytes.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref b0, (nuint)i));
                var (q0, q1) = Vector256.Widen(lower);
                var (q2, q3) = Vector256.Widen(upper);
                (Vector256.ConvertToSingle(q0.AsInt32()) * scale).StoreUnsafe(ref f0, (nuint)i);
                (Vector256.ConvertToSingle(q1.AsInt32()) * scale).StoreUnsafe(ref f0, (nuint)(i + 8));
                (Vector256.ConvertToSingle(q2.AsInt32()) * scale).StoreUnsafe(ref f0, (nuint)(i + 16));
                (Vector256.ConvertToSingle(q3.AsInt32()) * scale).StoreUnsafe(ref f0, (nuint)(i + 24));
            }
        }
        for (; i < bytes.Length; i++) into[i] = bytes[i] * Scale;
    }

    // Image i's planar [3, H, W] bytes from the cache, decoded into it on first use: straight from the decoder's
    // interleaved bytes in its own memory, the file read into reused buffers (DecodeBuffers), so filling the cache leaves
    // no large garbage (12 MB of it for each 1000×1000 noise PNG before, which the collector let grow with the cache).
    // Two loader threads may decode the same image; both store equal bytes, the first kept.
    byte[] CachedBytes(int index)
    {
        if (Volatile.Read(ref cache![index]) is byte[] cached) return cached;
        var (path, _, h, w, _) = samples[index];
        byte[] planar;
        try { planar = DecodePlanar(index, path, h, w); }
        catch
        {
            Tried(index);
            throw;
        }
        if (Interlocked.CompareExchange(ref cache[index], planar, null) is byte[] first) return first;
        Tried(index);
        return planar;
    }

    // Counts image i as tried (cached, or failed to decode) the first time only; once every image is, no decode is left
    // to reuse the buffers, so they are let go. Waiting for every image to be cached instead kept them (a set per loader
    // thread, each as large as the largest file) for the data set's life when one image failed and was skipped.
    void Tried(int index)
    {
        if (Interlocked.Exchange(ref tried![index], 1) == 0 && Interlocked.Increment(ref triedCount) == tried.Length) decodeBuffers.Release();
    }

    /// <summary>
    /// Says that, of the images, only <paramref name="indices"/> will be read (a <see cref="Subset{T}"/> of the first ones,
    /// as a run's --limit makes): the others count as tried, so the decode buffers go once these were, instead of staying
    /// for the data set's life (a set per loader thread, each as large as the largest file). Another image read later is
    /// still decoded, on buffers of its own that are not kept. Told twice (two subsets of one set), only the images on
    /// both lists count as still to read, so the buffers go once those were: the rest of either subset decodes as above.
    /// </summary>
    internal void WillRead(IReadOnlyList<int> indices)
    {
        if (tried is null) return;
        var read = new bool[tried.Length];
        foreach (int i in indices) if ((uint)i < (uint)read.Length) read[i] = true;
        for (int i = 0; i < read.Length; i++) if (!read[i]) Tried(i);
    }

    void NewCache()
    {
        cache = new byte[]?[samples.Count];
        tried = new int[samples.Count];
        triedCount = 0;
    }

    // Image i's interleaved pixels, decoded into the data set's buffers, as the planar bytes the cache keeps.
    byte[] DecodePlanar(int index, string path, int h, int w)
        => Decoding(index, () => ImageFolder.DecodeInterleaved(path, 3, MaxPixels, decodeBuffers, (pixels, height, width) =>
        {
            if (height != h || width != w)
                throw new InvalidDataException($"YoloDataset: image '{path}' decoded to {height}×{width} but its header declares {h}×{w}; the file changed or is damaged");
            var planar = new byte[pixels.Length];
            int plane = h * w;
            for (int p = 0, i = 0; p < plane; p++, i += 3)
            {
                planar[p] = pixels[i];
                planar[plane + p] = pixels[i + 1];
                planar[2 * plane + p] = pixels[i + 2];
            }
            return planar;
        }));

    // The file and decoder buffers of the decodes that fill the cache. Not for the indexer without a cache: kept beside
    // the garbage of its float images they raised the collector's budget for large objects with what survives, and a
    // one-epoch `detect train --cache false` of 192 noise PNGs of 1000×1000 peaked at 305 MiB instead of 195.
    readonly DecodeBuffers decodeBuffers = new();
    // per image of the cache, 1 once it was tried (CachedBytes); how many were
    int[]? tried;
    int triedCount;

    /// <summary>The buffers the decodes that fill the cache reuse.</summary>
    internal DecodeBuffers DecodeBuffers => decodeBuffers;

    /// <summary>Test seam: runs with each image's path before it is decoded (a test throws there).</summary>
    internal static readonly AsyncLocal<Action<string>?> BeforeDecoding = new();

    // Memory running out while an image is decoded names the image and its size: the scan weighed it alone against the
    // room then, not beside the training that holds memory now, and the image may be what to shrink or remove.
    T Decoding<T>(int index, Func<T> decode)
    {
        var (path, _, h, w, _) = samples[index];
        try
        {
            BeforeDecoding.Value?.Invoke(path);
            return decode();
        }
        catch (OutOfMemoryException e)
        {
            throw new OutOfMemoryException(string.Create(CultureInfo.InvariantCulture, $"memory ran out while decoding image '{path}' ({w}×{h} = {(long)w * h:N0} pixels)"), e);
        }
    }

    static Tensor FromBytes(byte[] bytes, int h, int w)
    {
        var data = new float[bytes.Length];
        ToUnit(bytes, data);
        // wrapped, not copied: Torch.FromArray would copy into a pooled buffer of this image's own length, which no
        // later allocation matches, so the cache filled the storage pool with dead sizes and the model's buffers missed
        return DataTensors.Wrap(data, 3, h, w);
    }
}
