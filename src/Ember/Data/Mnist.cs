using Ember.Data.Transforms;

namespace Ember.Data;

/// <summary>
/// MNIST-format image classification data (torchvision.datasets.MNIST) read from the four IDX files
/// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>,
/// <c>t10k-labels-idx1-ubyte</c> (each raw or with <c>.gz</c>). Items are (image [1, H, W] float32 in [0, 1], label),
/// with the optional transform applied to the image.
/// </summary>
public class Mnist : IDataset<(Tensor Image, long Label)>
{
    /// <summary>MNIST's class names as torchvision gives them ("0 - zero" … "9 - nine").</summary>
    public static readonly IReadOnlyList<string> DigitNames = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"];

    readonly byte[] pixels;
    readonly byte[] labels;
    readonly float[] byteToUnit;

    /// <summary>Loads the train or test split of MNIST-format files from <paramref name="root"/> (default: the repository's data/mnist).</summary>
    public Mnist(string? root = null, bool train = true, ITransform? transform = null)
        : this(root, train, transform, "mnist", DigitNames) { }

    /// <summary>Loads an MNIST-format data set whose default folder is data/<paramref name="defaultFolder"/>.</summary>
    protected Mnist(string? root, bool train, ITransform? transform, string defaultFolder, IReadOnlyList<string> classNames)
    {
        Root = root ?? FindDataFolder(defaultFolder) ?? throw new DirectoryNotFoundException(
            $"{GetType().Name}: no data folder given and data/{defaultFolder} was not found walking up from the current directory " +
            $"({Directory.GetCurrentDirectory()}) or from the program's folder ({AppContext.BaseDirectory}); pass the folder that holds " +
            $"the IDX files (train-images-idx3-ubyte.gz, ...)");
        Train = train;
        Transform = transform;
        ClassNames = classNames;
        string prefix = train ? "train" : "t10k";
        var images = IdxFile.Read(Locate(Root, $"{prefix}-images-idx3-ubyte"), IdxFile.MagicFor(IdxDataType.UByte, 3));
        var labelFile = IdxFile.Read(Locate(Root, $"{prefix}-labels-idx1-ubyte"), IdxFile.MagicFor(IdxDataType.UByte, 1));
        if (labelFile.Count != images.Count)
            throw new InvalidDataException($"{GetType().Name}: '{labelFile.Path}' has {labelFile.Count} labels but '{images.Path}' has {images.Count} images; expected as many labels as images");
        for (int i = 0; i < labelFile.Count; i++)
            if (labelFile.Data[i] >= classNames.Count)
                throw new InvalidDataException($"{GetType().Name}: '{labelFile.Path}': label {labelFile.Data[i]} of sample {i} is outside the class range [0, {classNames.Count})");
        pixels = images.Data;
        labels = labelFile.Data;
        Height = images.Dims[1];
        Width = images.Dims[2];
        byteToUnit = new float[256];
        for (int v = 0; v < 256; v++) byteToUnit[v] = v / 255f;
    }

    static string Locate(string root, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem })
        {
            var p = Path.Combine(root, name);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"MNIST data: neither {stem}.gz nor {stem} exists in '{root}'", Path.Combine(root, stem + ".gz"));
    }

    /// <summary>
    /// Finds data/<paramref name="name"/> by walking up from the current directory and then from the program's folder
    /// (so it works from the repository, from a test's bin folder and from an installed tool run in a clone).
    /// </summary>
    public static string? FindDataFolder(string name)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "data", name);
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Root { get; }
    /// <summary>Whether this is the training split.</summary>
    public bool Train { get; }
    /// <summary>The transform applied to each image (null: none).</summary>
    public ITransform? Transform { get; }
    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Image height.</summary>
    public int Height { get; }
    /// <summary>Image width.</summary>
    public int Width { get; }
    /// <summary>The labels of all samples.</summary>
    public IReadOnlyList<byte> Labels => labels;
    /// <summary>The raw pixels of all samples, row-major [Count, Height, Width], 0–255.</summary>
    public ReadOnlySpan<byte> Pixels => pixels;

    /// <inheritdoc/>
    public int Count => labels.Length;

    /// <summary>The item; a random transform draws from the global generator here (the loader uses <see cref="Get"/>).</summary>
    public (Tensor Image, long Label) this[int index] => Get(index, Generator.Default);

    /// <inheritdoc/>
    public (Tensor Image, long Label) Get(int index, Generator generator)
    {
        if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"{GetType().Name}: index {index} is out of range for {Count} samples");
        int n = Height * Width;
        var data = new float[n];
        var src = pixels.AsSpan(index * n, n);
        for (int i = 0; i < n; i++) data[i] = byteToUnit[src[i]];
        var image = DataTensors.Wrap(data, 1, Height, Width);
        return (Transform == null ? image : Transform.Apply(image, generator), labels[index]);
    }

    /// <summary>All images as one float32 tensor [Count, 1, H, W] in [0, 1] and the labels as int64 [Count] (no transform).</summary>
    public (Tensor Images, Tensor Labels) ToTensors()
    {
        var data = new float[pixels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = byteToUnit[pixels[i]];
        var l = new long[labels.Length];
        for (int i = 0; i < l.Length; i++) l[i] = labels[i];
        return (DataTensors.Wrap(data, Count, 1, Height, Width), DataTensors.Wrap(l, Count));
    }
}
