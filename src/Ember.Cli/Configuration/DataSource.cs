using System.Globalization;
using Ember.Data;

namespace Ember.Cli.Configuration;

/// <summary>
/// The data set a run trains on, resolved from <c>--data</c>: its folder of IDX files, its normalization and its class
/// names. Fashion-MNIST (embedded) and MNIST carry their published statistics; any other folder gets the mean and
/// standard deviation of its own training split and numbered classes. The resolved values are written to args.yaml
/// (<c>data_mean</c>, <c>data_std</c>, <c>classes</c>), so eval and predict normalize exactly as training did.
/// </summary>
public sealed record DataSource(string Folder, double Mean, double Std, IReadOnlyList<string> Classes)
{
    /// <summary>The data sets known by name, with their training-split statistics.</summary>
    static readonly Dictionary<string, (double Mean, double Std, IReadOnlyList<string> Classes)> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["fashion-mnist"] = (0.2860, 0.3530, FashionMnist.Classes),
        ["mnist"] = (0.1307, 0.3081, Mnist.DigitNames),
    };

    /// <summary>The name <c>--data</c> takes when not given.</summary>
    public const string DefaultName = "fashion-mnist";

    /// <summary>
    /// Resolves <paramref name="config"/>'s data and returns it with <see cref="TrainConfig.DataMean"/>,
    /// <see cref="TrainConfig.DataStd"/> and <see cref="TrainConfig.Classes"/> filled in (values already there are kept).
    /// </summary>
    public static (DataSource Data, TrainConfig Config) Resolve(TrainConfig config)
    {
        string requested = config.Data ?? DefaultName;
        string folder;
        (double Mean, double Std, IReadOnlyList<string> Classes)? known = null;
        if (Known.TryGetValue(requested, out var named))
        {
            folder = Mnist.FindDataFolder(requested.ToLowerInvariant()) ?? throw new DirectoryNotFoundException(requested.Equals(DefaultName, StringComparison.OrdinalIgnoreCase)
                ? $"the embedded Fashion-MNIST was not found: Ember looked for data/fashion-mnist in {Directory.GetCurrentDirectory()}, {AppContext.BaseDirectory} and their parents; run from the repository or pass --data FOLDER"
                : $"--data {requested}: MNIST is not shipped with Ember; put its four IDX files (train-images-idx3-ubyte.gz, ...) in data/{requested.ToLowerInvariant()} or pass their folder to --data");
            known = named;
        }
        else if (File.Exists(requested))
            throw new InvalidDataException($"--data {requested} is a file; give a folder holding the four IDX files, or one of: {string.Join(", ", Known.Keys)}");
        else if (Directory.Exists(requested))
        {
            folder = requested;
            // The embedded folder given by its path is still Fashion-MNIST.
            if (Mnist.FindDataFolder(DefaultName) is string embedded && SamePath(embedded, requested)) known = Known[DefaultName];
        }
        else
            throw new DirectoryNotFoundException($"--data {requested}: no such data set or folder; give {string.Join(" or ", Known.Keys)}, or a folder holding the four IDX files (train-images-idx3-ubyte.gz, ...)");

        double? mean = config.DataMean, std = config.DataStd;
        IReadOnlyList<string>? classes = config.Classes is null ? null : ParseClasses(config.Classes);
        if (mean is null || std is null || classes is null)
        {
            if (known is { } k && classes is null) classes = k.Classes;
            if (known is { } s && (mean is null || std is null)) (mean, std) = (mean ?? s.Mean, std ?? s.Std);
            if (mean is null || std is null || classes is null)
            {
                var train = new Mnist(folder, train: true);
                if (mean is null || std is null)
                {
                    var (m, d) = PixelStatistics(train);
                    (mean, std) = (mean ?? m, std ?? d);
                }
                classes ??= Numbered(train.Labels);
            }
        }
        if (!(std > 0) || !double.IsFinite(mean!.Value))
            throw new ConfigException(string.Create(CultureInfo.InvariantCulture, $"data_mean {mean} and data_std {std}: the mean must be finite and the standard deviation positive"));
        var data = new DataSource(folder, mean.Value, std!.Value, classes);
        return (data, config with { DataMean = data.Mean, DataStd = data.Std, Classes = string.Join(',', data.Classes) });
    }

    /// <summary>The number of classes a run's model was built with (from args.yaml; no data needed when it records them).</summary>
    public static int ClassCount(TrainConfig config) => config.Classes is string names ? ParseClasses(names).Count : Resolve(config).Data.Classes.Count;

    /// <summary>Checks that every label of <paramref name="set"/> names one of <see cref="Classes"/>.</summary>
    public void CheckLabels(Mnist set)
    {
        int max = MaxLabel(set.Labels);
        if (max >= Classes.Count)
            throw new InvalidDataException($"{set.Root}: label {max} has no class name; classes lists {Classes.Count} ({string.Join(", ", Classes)})");
    }

    /// <summary>"a,b,c" → [a, b, c]; names may not be empty.</summary>
    static IReadOnlyList<string> ParseClasses(string text)
    {
        var names = text.Split(',').Select(n => n.Trim()).ToArray();
        if (names.Length < 2 || names.Any(n => n.Length == 0))
            throw new ConfigException($"classes '{text}': give at least two non-empty class names separated by commas");
        return names;
    }

    // Population mean and standard deviation over every pixel of the split, in [0, 1] units (as Normalize.ComputeMeanStd).
    static (double Mean, double Std) PixelStatistics(Mnist set)
    {
        Span<long> histogram = stackalloc long[256];
        foreach (byte p in set.Pixels) histogram[p]++;
        double n = set.Pixels.Length, sum = 0, sumSquares = 0;
        for (int v = 0; v < 256; v++)
        {
            double x = v / 255.0;
            sum += histogram[v] * x;
            sumSquares += histogram[v] * x * x;
        }
        double mean = sum / n;
        return (Math.Round(mean, 4), Math.Round(Math.Sqrt(Math.Max(0, sumSquares / n - mean * mean)), 4));
    }

    static IReadOnlyList<string> Numbered(IReadOnlyList<byte> labels)
        => Enumerable.Range(0, MaxLabel(labels) + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    static int MaxLabel(IReadOnlyList<byte> labels)
    {
        int max = 0;
        foreach (byte l in labels) max = Math.Max(max, l);
        return max;
    }

    static bool SamePath(string a, string b)
        => string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);
}
