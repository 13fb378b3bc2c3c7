using Ember.Data.Transforms;
using System.Runtime.InteropServices;
using StbImageSharp;

namespace Ember.Data;

/// <summary>
/// Images arranged one folder per class, <c>root/&lt;class&gt;/&lt;image&gt;</c> (torchvision.datasets.ImageFolder). Classes
/// are the sub-folder names in ordinal order; PNG, JPEG, BMP and GIF files are decoded (by StbImageSharp, pure C#) when
/// an item is read. Items are (image [C, H, W] float32 in [0, 1], label) with the optional transform applied.
/// As in torchvision, a class folder without any image file is an error (it would be a class no sample can have).
/// Decoding refuses images above <see cref="MaxPixels"/> pixels before allocating, and PNG files are checked chunk by
/// chunk (CRC-32, truncation, image data inflating to no more than the header implies) first.
/// </summary>
public sealed class ImageFolder : IDataset<(Tensor Image, long Label)>
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];
    readonly (string Path, long Label)[] samples;

    /// <summary>
    /// The default limit on width × height of a decoded image (Pillow's MAX_IMAGE_PIXELS, 89,478,485: about 0.25 GiB of
    /// RGBA), so a small file that declares a huge image is refused instead of allocating gigabytes.
    /// </summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>
    /// Indexes <paramref name="root"/>; <paramref name="channels"/> is 1 (grayscale) or 3 (RGB); images above
    /// <paramref name="maxPixels"/> pixels are refused when read.
    /// </summary>
    public ImageFolder(string root, ITransform? transform = null, int channels = 3, long maxPixels = DefaultMaxPixels)
    {
        if (maxPixels < 1) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "ImageFolder: maxPixels must be at least 1");
        MaxPixels = maxPixels;
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder: folder '{root}' does not exist");
        if (channels is not (1 or 3)) throw new ArgumentException($"ImageFolder: channels must be 1 or 3, got {channels}");
        Root = root;
        Transform = transform;
        Channels = channels;
        var classes = Directory.GetDirectories(root).Select(System.IO.Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new InvalidDataException($"ImageFolder: '{root}' has no class sub-folders (expected root/<class>/<image>)");
        ClassNames = classes;
        var list = new List<(string, long)>();
        for (int c = 0; c < classes.Length; c++)
            foreach (var file in FilesUnder(System.IO.Path.Combine(root, classes[c])).Order(StringComparer.Ordinal))
                if (Extensions.Contains(System.IO.Path.GetExtension(file).ToLowerInvariant())) list.Add((file, c));
        if (list.Count == 0) throw new InvalidDataException($"ImageFolder: no image files ({string.Join(", ", Extensions)}) under '{root}'");
        var counts = new int[classes.Length];
        foreach (var (_, label) in list) counts[label]++;
        var empty = new List<string>();
        for (int c = 0; c < classes.Length; c++) if (counts[c] == 0) empty.Add(classes[c]!);
        if (empty.Count > 0)
            throw new InvalidDataException($"ImageFolder: class folder{(empty.Count > 1 ? "s" : "")} {string.Join(", ", empty.Select(e => $"'{e}'"))} under '{root}' " +
                $"hold{(empty.Count > 1 ? "" : "s")} no image files ({string.Join(", ", Extensions)}); remove {(empty.Count > 1 ? "them" : "it")} or add images");
        samples = [.. list];
    }

    // Every file below a folder, following symlinked folders (as torchvision's os.walk(followlinks=True) does) but
    // entering each real folder once: a link back to a parent would otherwise list files exponentially many times.
    // Real paths are tracked alongside (a path through a linked folder is not its real path).
    static List<string> FilesUnder(string folder)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Path, string Real)>();
        pending.Push((folder, RealPath(new DirectoryInfo(folder), System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(folder))!)));
        while (pending.Count > 0)
        {
            var (current, real) = pending.Pop();
            if (!seen.Add(real)) continue;
            files.AddRange(Directory.GetFiles(current));
            foreach (var sub in new DirectoryInfo(current).GetDirectories())
                pending.Push((sub.FullName, RealPath(sub, real)));
        }
        return files;
    }

    static string RealPath(DirectoryInfo folder, string realParent)
    {
        var path = folder.LinkTarget is string target
            ? System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(target) ? target : System.IO.Path.Combine(realParent, target))
            : System.IO.Path.Combine(realParent, folder.Name);
        // a chain of links ends at the final target
        if (new DirectoryInfo(path).LinkTarget is not null) path = new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        return System.IO.Path.TrimEndingDirectorySeparator(path);
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }
    /// <summary>The class names (sub-folder names), indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The transform applied to each image.</summary>
    public ITransform? Transform { get; }
    /// <summary>Channels of the decoded images.</summary>
    public int Channels { get; }
    /// <summary>The largest width × height decoded.</summary>
    public long MaxPixels { get; }
    /// <summary>The (file, label) pairs in index order.</summary>
    public IReadOnlyList<(string Path, long Label)> Samples => samples;

    /// <inheritdoc/>
    public int Count => samples.Length;

    /// <summary>The item; a random transform draws from the global generator here (the loader uses <see cref="Get"/>).</summary>
    public (Tensor Image, long Label) this[int index] => Get(index, Generator.Default);

    /// <inheritdoc/>
    public (Tensor Image, long Label) Get(int index, Generator generator)
    {
        if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"ImageFolder: index {index} is out of range for {Count} images");
        var (path, label) = samples[index];
        var image = Decode(path, Channels, MaxPixels);
        return (Transform == null ? image : Transform.Apply(image, generator), label);
    }

    /// <summary>
    /// Decodes an image file into CHW float32 in [0, 1]; a file that fails to decode is an error naming it. Only a regular
    /// file is read; its declared size is checked against <paramref name="maxPixels"/> before decoding, and a PNG's chunk
    /// CRCs, truncation and compressed data size are verified first (the decoder itself skips those checks).
    /// </summary>
    public static Tensor Decode(string path, int channels = 3, long maxPixels = DefaultMaxPixels)
        => DecodeInterleaved(path, channels, maxPixels, null, (pixels, height, width) => ToTensor.FromBytes(pixels, height, width, channels));

    /// <summary>
    /// The (height, width) of an image file as <see cref="Decode"/> reads it, after the same checks, without decoding its
    /// pixels (to weigh what decoding it takes first).
    /// </summary>
    internal static (int Height, int Width) Size(string path, long maxPixels = DefaultMaxPixels)
    {
        byte[]? file = null;
        var (_, height, width) = Checked(path, maxPixels, ref file);
        return (height, width);
    }

    /// <summary>Reads the decoder's pixels, [H, W, channels] bytes valid only during the call, into what it returns.</summary>
    internal delegate T PixelsReader<T>(ReadOnlySpan<byte> pixels, int height, int width);

    /// <summary>
    /// Decode's checks and decoding, with the pixels as the decoder gives them ([H, W, channels] bytes) handed to
    /// <paramref name="read"/> in the decoder's own memory, freed when it returns: no managed copy of them is made. The
    /// file and the decoder's chunk buffer come from <paramref name="buffers"/> when given (and go back to it when the
    /// decode ends, by an error too), else are fresh arrays.
    /// </summary>
    internal static unsafe T DecodeInterleaved<T>(string path, int channels, long maxPixels, DecodeBuffers? buffers, PixelsReader<T> read)
    {
        var set = buffers?.Rent() ?? new DecodeBuffers.Set();
        try
        {
            var (length, _, _) = Checked(path, maxPixels, ref set.File);
            // The decoder copies each IDAT chunk into its temporary array, which it replaces by one of twice the chunk's size
            // when too small: as long as the file's buffer, it is never replaced (a chunk lies within the file).
            if (PngCheck.IsPng(set.File) && (set.Chunk is null || set.Chunk.Length < length)) set.Chunk = new byte[set.File!.Length];
            // the decoder reads the file through a stream, as ImageResult.FromMemory has it do
            var context = new StbImage.stbi__context(new MemoryStream(set.File!, 0, length, writable: false)) { _tempBuffer = set.Chunk };
            int width, height, components;
            byte* pixels = null;
            try
            {
                try { pixels = StbImage.stbi__load_and_postprocess_8bit(context, &width, &height, &components, channels == 1 ? (int)ColorComponents.Grey : (int)ColorComponents.RedGreenBlue); }
                catch (Exception e) { throw new InvalidDataException($"ImageFolder: cannot decode image '{path}': {e.Message}", e); }
                if (pixels == null)
                    throw new InvalidDataException($"ImageFolder: cannot decode image '{path}'{(StbImage.stbi__g_failure_reason is string reason ? ": " + reason : "")}");
                return read(new ReadOnlySpan<byte>(pixels, checked(width * height * channels)), height, width);
            }
            finally
            {
                // the decoder's memory is unmanaged (Marshal.AllocHGlobal), freed as ImageResult does
                if (pixels != null) Marshal.FreeHGlobal((nint)pixels);
                set.Chunk = context._tempBuffer;
            }
        }
        finally { buffers?.Return(set); }
    }

    // The file's length in `file` (read into it, replaced when too small) and its size (as PngCheck or ImageHeader read
    // it, else the decoder), once the size is within maxPixels and a PNG's structure is sound.
    static (int Length, int Height, int Width) Checked(string path, long maxPixels, ref byte[]? file)
    {
        var bytes = UntrustedFile.ReadAllBytes(path, "image", MaxFileBytes, ref file);
        long w = 0, h = 0;
        if (PngCheck.IsPng(bytes.Span)) (w, h) = PngCheck.Validate(bytes, path, maxPixels);
        else if (ImageHeader.Read(bytes.Span) is var (format, width, height)) { CheckSize(path, format, width, height, maxPixels); (w, h) = (width, height); }
        ImageInfo? info;
        try { info = ImageInfo.FromStream(new MemoryStream(file!, 0, bytes.Length, writable: false)); }
        catch (Exception e) { throw new InvalidDataException($"ImageFolder: cannot decode image '{path}': not a PNG, JPEG, BMP or GIF file ({e.Message})", e); }
        if (info is not ImageInfo header) throw new InvalidDataException($"ImageFolder: cannot decode image '{path}': not a PNG, JPEG, BMP or GIF file");
        // other formats the decoder takes (TGA, PSD, HDR): its own reading of the header (its BMP height keeps the
        // top-down sign, one reason BMP, GIF and JPEG are read by ImageHeader)
        if (w == 0)
        {
            CheckSize(path, "image", header.Width, header.Height, maxPixels);
            (w, h) = (header.Width, header.Height);
        }
        return (bytes.Length, (int)h, (int)w);
    }

    static void CheckSize(string path, string format, long width, long height, long maxPixels)
    {
        if (width < 1 || height < 1)
            throw new InvalidDataException($"ImageFolder: image '{path}' ({format}) declares a {width}×{height} image; both sides must be at least 1");
        long pixels = checked(width * height);
        if (pixels > maxPixels)
            throw new InvalidDataException($"ImageFolder: image '{path}' ({format}) declares {width}×{height} = {pixels} pixels, " +
                $"above the limit of {maxPixels} (a decompression bomb or an unexpectedly large image; raise maxPixels to decode it)");
    }

    // No image a data set needs comes near this; a bigger file is read only by mistake.
    const long MaxFileBytes = 1L << 30;
}
