using Ember.Data.Transforms;
using StbImageSharp;

namespace Ember.Data;

/// <summary>
/// Images arranged one folder per class, <c>root/&lt;class&gt;/&lt;image&gt;</c> (torchvision.datasets.ImageFolder). Classes
/// are the sub-folder names in ordinal order; PNG, JPEG, BMP and GIF files are decoded (by StbImageSharp, pure C#) when
/// an item is read. Items are (image [C, H, W] float32 in [0, 1], label) with the optional transform applied.
/// </summary>
public sealed class ImageFolder : IDataset<(Tensor Image, long Label)>
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];
    readonly (string Path, long Label)[] samples;

    /// <summary>Indexes <paramref name="root"/>; <paramref name="channels"/> is 1 (grayscale) or 3 (RGB).</summary>
    public ImageFolder(string root, ITransform? transform = null, int channels = 3)
    {
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
            foreach (var file in Directory.GetFiles(System.IO.Path.Combine(root, classes[c]), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                if (Extensions.Contains(System.IO.Path.GetExtension(file).ToLowerInvariant())) list.Add((file, c));
        if (list.Count == 0) throw new InvalidDataException($"ImageFolder: no image files ({string.Join(", ", Extensions)}) under '{root}'");
        samples = [.. list];
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }
    /// <summary>The class names (sub-folder names), indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The transform applied to each image.</summary>
    public ITransform? Transform { get; }
    /// <summary>Channels of the decoded images.</summary>
    public int Channels { get; }
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
        var image = Decode(path, Channels);
        return (Transform == null ? image : Transform.Apply(image, generator), label);
    }

    /// <summary>Decodes an image file into CHW float32 in [0, 1]; a file that fails to decode is an error naming it.</summary>
    public static Tensor Decode(string path, int channels = 3)
    {
        ImageResult result;
        try
        {
            using var stream = File.OpenRead(path);
            result = ImageResult.FromStream(stream, channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not FileNotFoundException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"ImageFolder: cannot decode image '{path}': {e.Message}", e);
        }
        if (result?.Data == null) throw new InvalidDataException($"ImageFolder: cannot decode image '{path}'");
        return ToTensor.FromBytes(result.Data, result.Height, result.Width, channels);
    }
}
