using System.CommandLine;
using System.Globalization;
using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Cli.Commands;

/// <summary>`ember predict RUN --index N` (a test-set image) or `--image FILE` (PNG/JPEG, resized to 28×28 grayscale): the top-5 classes with probabilities.</summary>
public static class PredictCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("predict", "Top-5 classes of an image with a trained run");
        var run = new Argument<DirectoryInfo>("run") { Description = "run folder, e.g. runs/train/exp1" };
        var index = new Option<int?>("--index") { Description = "index of a Fashion-MNIST test image" };
        var image = new Option<FileInfo?>("--image") { Description = "a PNG or JPEG file" };
        command.Arguments.Add(run);
        command.Options.Add(index);
        command.Options.Add(image);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var (model, config) = EvalCommand.Load(parse.GetValue(run)!.FullName, "best");
            var normalize = new Normalize([0.2860], [0.3530]);
            Tensor input;
            string label = "";
            if (parse.GetValue(image) is FileInfo file)
                input = normalize.Apply(new Resize(28, 28).Apply(ImageFolder.Decode(file.FullName, channels: 1), Generator.Default), Generator.Default);
            else
            {
                var test = new FashionMnist(config.Data ?? Mnist.FindDataFolder("fashion-mnist"), train: false, transform: normalize);
                int i = parse.GetValue(index) ?? 0;
                if (i < 0 || i >= test.Count) throw new ArgumentException($"--index {i} is outside the test set [0, {test.Count})");
                var (img, truth) = test[i];
                input = img;
                label = $" (true class: {FashionMnist.Classes[(int)truth]})";
            }
            model.Eval();
            Tensor probabilities;
            using (Torch.NoGrad()) probabilities = model.Call(input.Unsqueeze(0)).Softmax(1).Squeeze(0);
            var (values, classes) = probabilities.TopK(5);
            Console.WriteLine($"top-5{label}:");
            var v = values.ToDoubleArray(); var c = classes.ToArray<long>();
            for (int k = 0; k < 5; k++) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {FashionMnist.Classes[(int)c[k]],-12} {100 * v[k],6:F2}%"));
            return 0;
        }));
        return command;
    }
}
