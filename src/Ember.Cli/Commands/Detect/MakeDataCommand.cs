using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Detection.Data;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect make-data [--output DIR] [--train-images N] [--val-images N] [--min-side PX] [--max-side PX]
/// [--max-objects N] [--seed S] [--force]`: generates the Fashion-MNIST detection set (see
/// <see cref="FashionMnistDetectionSet"/>) in the YOLO format, with a data.yaml for `ember detect train --data`.
/// </summary>
public static class MakeDataCommand
{
    /// <summary>The default output folder.</summary>
    public const string DefaultOutput = "datasets/fashion-det";

    /// <summary>
    /// The file that marks a folder whose generation did not finish (Ctrl-C, SIGTERM, a crash): written before the first
    /// image, removed after data.yaml, the last file. Such a folder has no data.yaml, so no run reads it as a data set;
    /// --force replaces it.
    /// </summary>
    public const string IncompleteMarker = Reporting.IncompleteMarker.FileName;

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var d = new SyntheticDetectionOptions();
        var command = new Command("make-data", "Generate a small detection data set from the shipped Fashion-MNIST (YOLO format, deterministic)");
        var output = new Option<string>("--output") { Description = "folder to write (images/, labels/, data.yaml)", DefaultValueFactory = _ => DefaultOutput };
        var trainImages = new Option<int>("--train-images") { Description = "training images (items from Fashion-MNIST train)", DefaultValueFactory = _ => d.TrainImages };
        var valImages = new Option<int>("--val-images") { Description = "validation images (items from Fashion-MNIST test)", DefaultValueFactory = _ => d.ValImages };
        var minSide = new Option<int>("--min-side") { Description = "smallest image side in pixels", DefaultValueFactory = _ => d.MinSide };
        var maxSide = new Option<int>("--max-side") { Description = "largest image side in pixels", DefaultValueFactory = _ => d.MaxSide };
        var maxObjects = new Option<int>("--max-objects") { Description = "most items per image", DefaultValueFactory = _ => d.MaxObjects };
        var seed = new Option<long>("--seed") { Description = "seed; the same seed and options give the same files", DefaultValueFactory = _ => d.Seed };
        var data = new Option<string?>("--fashion-mnist") { Description = "folder of the Fashion-MNIST IDX files (default: the shipped data/fashion-mnist)" };
        var force = new Option<bool>("--force") { Description = "replace an earlier generated data set in --output" };
        foreach (var o in new Option[] { output, trainImages, valImages, minSide, maxSide, maxObjects, seed, data, force }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var options = d with
            {
                TrainImages = parse.GetValue(trainImages), ValImages = parse.GetValue(valImages), MinSide = parse.GetValue(minSide),
                MaxSide = parse.GetValue(maxSide), MaxObjects = parse.GetValue(maxObjects), Seed = parse.GetValue(seed),
            };
            using var signals = new SignalCancel();
            try { Make(parse.GetValue(output)!, options, parse.GetValue(data), parse.GetValue(force), Console.Out, signals.Token); }
            catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
            {
                var folder = Path.GetFullPath(parse.GetValue(output)!);
                signals.ThrowIfSignalled($"{folder} is incomplete (it has {IncompleteMarker} and no data.yaml); run make-data again with --force to replace it");
                throw;
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Generates the data set into <paramref name="output"/> and reports what was written.</summary>
    public static void Make(string output, SyntheticDetectionOptions options, string? fashionMnist, bool force, TextWriter log, CancellationToken cancel = default)
    {
        try { options.Validate(); }
        catch (ArgumentException e) { throw new ConfigException(e.Message.Replace("make-data: ", "--")); }
        var folder = Path.GetFullPath(output);
        // a file in the way is the file system's refusal (exit 5), as for every other command's output folder
        if (File.Exists(folder)) throw new IOException($"--output '{folder}' is a file, not a folder; give a folder for the data set");
        bool incomplete = File.Exists(Path.Combine(folder, IncompleteMarker));
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
        {
            // only a folder that holds an earlier generated set is cleared, and only its image and label folders
            if (!force)
                throw new ConfigException(incomplete
                    ? $"--output {folder} holds a data set whose generation did not finish ({IncompleteMarker}); pass --force to replace it, or choose another folder"
                    : $"--output {folder} is not empty; pass --force to replace an earlier generated data set there, or choose another folder");
            if (!File.Exists(Path.Combine(folder, "data.yaml")) && !incomplete)
                throw new ConfigException($"--output {folder} is not empty and holds no data.yaml; --force replaces only a data set make-data wrote; choose another folder");
        }
        RequireRoom(folder, options, clearsEarlierSet: Directory.Exists(folder) && force);
        Reporting.RunFolder.CreateOutput(folder, "--output");
        // Marked incomplete before anything is replaced, and the old data.yaml goes first: a stop at any point leaves
        // no data.yaml beside a half-written set, which a later run would otherwise read as whole. A folder marked
        // already keeps its marker: a set cut by a full disk is cleared before anything is written, freeing its room.
        if (!incomplete)
            Interop.AtomicFile.WriteAllText(Path.Combine(folder, IncompleteMarker),
                "ember detect make-data did not finish writing this folder; run it again with --force to replace it\n");
        File.Delete(Path.Combine(folder, "data.yaml"));
        foreach (var sub in new[] { "images", "labels" })
            if (Directory.Exists(Path.Combine(folder, sub))) Directory.Delete(Path.Combine(folder, sub), recursive: true);
        log.WriteLine($"writing {options.TrainImages} training and {options.ValImages} validation images to {folder} ...");
        double seconds;
        try { seconds = FashionMnistDetectionSet.Write(folder, options, fashionMnist, cancel: cancel); }
        catch (Exception e) when (FirstIOException(e) is IOException io)
        {
            // a full disk (often met by several image writers at once): say what the folder now is, as a signal does
            throw new IOException($"{io.Message.TrimEnd('.')}; {folder} is incomplete (it has {IncompleteMarker} and no data.yaml): " +
                "with room for the whole set, run make-data again with --force (it clears the partial set first)", io);
        }
        File.Delete(Path.Combine(folder, IncompleteMarker));
        var config = YoloDataConfig.Load(Path.Combine(folder, "data.yaml"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {options.TrainImages} training and {options.ValImages} validation images to {folder} in {seconds:F1} s (seed {options.Seed})"));
        if (options.TrainImages > 0) log.WriteLine($"  train: {YoloDataset.FromConfig(config, train: true).Summary()}");
        if (options.ValImages > 0) log.WriteLine($"  val:   {YoloDataset.FromConfig(config, train: false).Summary()}");
        log.WriteLine($"  data:  {Path.Combine(folder, "data.yaml")}");
    }

    /// <summary>Test seam: the bytes free to this process on the file system holding a folder (default: what statvfs says).</summary>
    internal static readonly AsyncLocal<Func<string, long>?> FreeBytes = new();

    /// <summary>
    /// Refuses, before anything is written, a set whose estimated size (<see cref="FashionMnistDetectionSet.EstimatedBytes"/>)
    /// exceeds the free space where it goes, counting the earlier set that --force clears first: a huge --train-images
    /// would otherwise write until the disk is full, squeezing every other program on it.
    /// </summary>
    static void RequireRoom(string folder, SyntheticDetectionOptions options, bool clearsEarlierSet)
    {
        var existing = folder;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is string parent) existing = parent;
        long free;
        try
        {
            var drive = FreeBytes.Value is null ? new DriveInfo(existing) : null;
            // a virtual file system (/proc, /sys) has no size: its refusal to be written is the one to report
            if (drive is { TotalSize: 0 }) return;
            free = FreeBytes.Value?.Invoke(existing) ?? drive!.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return; } // unknown: the writes will tell
        double needed = FashionMnistDetectionSet.EstimatedBytes(options);
        long cleared = 0;
        if (clearsEarlierSet)
            foreach (var sub in new[] { "images", "labels" })
                if (Directory.Exists(Path.Combine(folder, sub)))
                    cleared += new DirectoryInfo(Path.Combine(folder, sub)).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        if (needed <= (double)free + cleared) return;
        var earlier = cleared > 0 ? $" (besides the {Analysis.Units.FormatBytes(cleared, 1)} of the earlier set that --force clears)" : "";
        var sizes = string.Create(CultureInfo.InvariantCulture,
            $"--train-images {options.TrainImages} and --val-images {options.ValImages} of {options.MinSide}–{options.MaxSide} px");
        var where = existing == folder ? folder : $"{existing}, where {folder} would be made";
        throw new IOException($"{sizes} need about {Analysis.Units.FormatBytes(needed, 1)}, more than the {Analysis.Units.FormatBytes(free, 1)} free in " +
            $"{where}{earlier}; nothing was written: ask for fewer images, free some space, or write elsewhere with --output");
    }

    static IOException? FirstIOException(Exception e) => e switch
    {
        IOException io => io,
        AggregateException a => a.Flatten().InnerExceptions.OfType<IOException>().FirstOrDefault(),
        _ => null,
    };
}
