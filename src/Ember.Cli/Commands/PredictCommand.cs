using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Models;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember predict RUN --index N [N ...]` (test-set images) or `--image FILE [FILE ...]` (PNG/JPEG, resized to 28×28
/// grayscale): the top-5 classes with probabilities for each, predicted as one batch.
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
            foreach (var file in files)
            {
                inputs.Add(normalize.Apply(new Resize(28, 28).Apply(ImageFolder.Decode(file.FullName, channels: 1), Generator.Default), Generator.Default));
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
            var probabilities = Model.Predict(model, Torch.Stack([.. inputs], 0)).Softmax(1);
            for (int n = 0; n < inputs.Count; n++)
            {
                var (values, classes) = probabilities.Select(0, n).TopK(5);
                Console.WriteLine($"top-5 for {labels[n]}:");
                var v = values.ToDoubleArray(); var c = classes.ToArray<long>();
                for (int k = 0; k < 5; k++) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {data.Classes[(int)c[k]],-12} {100 * v[k],6:F2}%"));
            }
            return 0;
        }));
        return command;
    }
}
