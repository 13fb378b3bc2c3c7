using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Models;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember predict RUN --index N [N ...]` (test-set images) or `--image FILE [FILE ...]` (PNG/JPEG, resized to 28×28
/// grayscale): the top-5 classes with probabilities for each, predicted as one batch. An image that cannot be read, or
/// does not fit in the memory free now, is named and skipped; the others are predicted, and the exit code is then the
/// data error's (3).
/// </summary>
public static class PredictCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("predict", "Top-5 classes of images with a trained run");
        var run = new Argument<DirectoryInfo>("run") { Description = "run folder, e.g. runs/train/exp1" };
        var index = new Option<int[]>("--index") { Description = "indices of Fashion-MNIST test images", AllowMultipleArgumentsPerToken = true };
        var image = new Option<FileInfo[]>("--image") { Description = "PNG or JPEG files", AllowMultipleArgumentsPerToken = true };
        var which = new Option<string>("--checkpoint") { Description = "best or last", DefaultValueFactory = _ => "best" };
        var fuse = new Option<bool>("--fuse") { Description = "fold each BatchNorm into its convolution first (same predictions, faster)" };
        command.Arguments.Add(run);
        command.Options.Add(index);
        command.Options.Add(image);
        command.Options.Add(which);
        command.Options.Add(fuse);
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        command.Options.Add(allowNonFinite);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var (model, config) = EvalCommand.Load(parse.GetValue(run)!.FullName, parse.GetValue(which)!, parse.GetValue(fuse), parse.GetValue(allowNonFinite), "ember predict");
            var (data, _) = DataSource.Resolve(config);
            var normalize = new Normalize([data.Mean], [data.Std]);
            var inputs = new List<Tensor>();
            var labels = new List<string>();
            var files = parse.GetValue(image) ?? [];
            var skipped = new List<(string Path, string Reason)>();
            foreach (var file in files)
            {
                if (Decoded(file.FullName, skipped) is not Tensor decoded) continue;
                inputs.Add(normalize.Apply(decoded, Generator.Default));
                labels.Add(file.Name);
            }
            var indices = parse.GetValue(index) ?? [];
            if (indices.Length > 0 || files.Length == 0)
            {
                var test = new Mnist(data.Folder, train: false, transform: normalize);
                foreach (int i in indices.Length > 0 ? indices : [0])
                {
                    if (i < 0 || i >= test.Count) throw new ArgumentException($"--index {i} is outside the test set [0, {test.Count})");
                    var (img, truth) = test[i];
                    inputs.Add(img);
                    labels.Add($"test image {i} (true class: {data.Classes[(int)truth]})");
                }
            }
            if (inputs.Count == 0) throw Skipped(skipped, files.Length, predicted: false);
            var probabilities = Model.Predict(model, Torch.Stack([.. inputs], 0)).Softmax(1);
            for (int n = 0; n < inputs.Count; n++)
            {
                var (values, classes) = probabilities.Select(0, n).TopK(5);
                Console.WriteLine($"top-5 for {labels[n]}:");
                var v = values.ToDoubleArray(); var c = classes.ToArray<long>();
                for (int k = 0; k < 5; k++) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {data.Classes[(int)c[k]],-12} {100 * v[k],6:F2}%"));
            }
            if (skipped.Count > 0) throw Skipped(skipped, files.Length, predicted: true);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The image at 28×28, or null when it is skipped (added to <paramref name="skipped"/> with the reason): unreadable,
    /// too large for the memory free now (its header's size at <see cref="TrainingMemory.GrayBytesPerPixel"/>), or its
    /// decoding ran out of memory. Each image is decoded at its own size, up to the decoder's pixel limit.
    /// </summary>
    static Tensor? Decoded(string file, List<(string Path, string Reason)> skipped)
    {
        try
        {
            var (height, width) = ImageFolder.Size(file);
            if (TrainingMemory.ImageRefusal(width, height, TrainingMemory.GrayBytesPerPixel, "decode and resize") is string tooLarge)
            {
                skipped.Add((file, tooLarge));
                return null;
            }
            DecodingImage.Value?.Invoke(file);
            return new Resize(28, 28).Apply(ImageFolder.Decode(file, channels: 1), Generator.Default);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            skipped.Add((file, $"unreadable image: {e.Message}"));
        }
        catch (OutOfMemoryException e)
        {
            // the estimate is an estimate, and other programs take memory too: the next image may fit
            TrainingMemory.GiveBack();
            skipped.Add((file, $"memory ran out while decoding it ({CliErrors.OutOfMemory(e)})"));
        }
        return null;
    }

    /// <summary>Test seam: runs with each --image file's path before it is decoded (a test throws there).</summary>
    internal static readonly AsyncLocal<Action<string>?> DecodingImage = new();

    // The data error (exit 3), after the other images were predicted: every skipped --image file by name and why.
    static InvalidDataException Skipped(List<(string Path, string Reason)> skipped, int images, bool predicted)
        => new($"{skipped.Count} of {images} image(s) were skipped: {string.Join("; ", skipped.Select(s => $"{s.Path}: {s.Reason}"))}" +
            (predicted ? " (the others are predicted above)" : ""));
}
