using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Metrics;
using Ember.Models;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>`ember eval RUN`: evaluates a run's best (or last) checkpoint on the Fashion-MNIST test set.</summary>
public static class EvalCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a trained run on the test set");
        var run = new Argument<DirectoryInfo>("run") { Description = "run folder, e.g. runs/train/exp1" };
        var which = new Option<string>("--checkpoint") { Description = "best or last", DefaultValueFactory = _ => "best" };
        var allowNonFinite = AllowNonFiniteOption();
        var tta = new Option<bool>("--tta") { Description = "also evaluate with test-time augmentation (flips and scales 0.9, 1, 1.1, probabilities averaged) and report both" };
        command.Arguments.Add(run);
        command.Options.Add(which);
        command.Options.Add(allowNonFinite);
        var quantize = new Option<bool>("--quantize") { Description = "also evaluate with the Linear layers quantized to int8 (dynamic quantization, as torch.ao quantize_dynamic) and report accuracy, time and weight size" };
        command.Options.Add(tta);
        command.Options.Add(quantize);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var (model, config) = Load(parse.GetValue(run)!.FullName, parse.GetValue(which)!, allowNonFinite: parse.GetValue(allowNonFinite));
            var (data, _) = DataSource.Resolve(config);
            var test = new Mnist(data.Folder, train: false, transform: new Normalize([data.Mean], [data.Std]));
            model.Eval();
            var plain = Evaluate(test, data.Classes.Count, images => model.Call(images));
            Console.WriteLine(Line("", plain));
            if (parse.GetValue(tta))
            {
                var augmented = Evaluate(test, data.Classes.Count,
                    images => TestTimeAugmentation.AverageProbabilities(model.Call, images, horizontalFlip: true, scales: TtaScales));
                Console.WriteLine(Line("with TTA ", augmented));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"TTA: {augmented.Top1 - plain.Top1:+0.00;-0.00;0.00} points top-1 for {augmented.Seconds / plain.Seconds:F1}x the inference time ({TtaScales.Count * 2} views per image)"));
            }
            if (parse.GetValue(quantize))
            {
                long floatBytes = model.Modules().OfType<Nn.Layers.Linear>().Sum(l => l.ParameterCount() * sizeof(float));
                if (floatBytes == 0) throw new ConfigException($"--quantize: the {config.Model} model has no Linear layer to quantize");
                Quantization.DynamicQuantization.QuantizeDynamic(model);
                long int8Bytes = model.Modules().OfType<Quantization.DynamicQuantizedLinear>().Sum(l => l.ByteCount);
                var quantized = Evaluate(test, data.Classes.Count, images => model.Call(images));
                Console.WriteLine(Line("int8 Linear ", quantized));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"int8: {quantized.Top1 - plain.Top1:+0.00;-0.00;0.00} points top-1, Linear weights {floatBytes / 1024.0:F0} KiB -> {int8Bytes / 1024.0:F0} KiB, {plain.Seconds / quantized.Seconds:F2}x the float speed"));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>The scales <c>--tta</c> uses (each also mirrored): the notes' flips and scales, kept near 1 for 28 × 28 items.</summary>
    internal static readonly IReadOnlyList<double> TtaScales = [1.0, 0.9, 1.1];

    readonly record struct Scores(double Top1, double Top5, double MacroF1, long Images, double Seconds);

    static Scores Evaluate(Mnist test, int classes, Func<Tensor, Tensor> predict)
    {
        var loader = new DataLoader<(Tensor, long)>(test, 500);
        // one batch first, untimed: the first call of each kernel pays for its compilation, which would favour
        // whichever evaluation runs second in the comparisons below
        using (Torch.NoGrad()) predict(loader.Iterate(0).First()[0]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (confusion, _, top5) = TrainJob.Score(predict, loader, classes);
        return new(100 * confusion.Accuracy, 100 * top5, confusion.F1(Average.Macro), confusion.Total, clock.Elapsed.TotalSeconds);
    }

    static string Line(string label, Scores s) => string.Create(CultureInfo.InvariantCulture,
        $"{label}top-1 {s.Top1:F2}%  top-5 {s.Top5:F2}%  macro F1 {s.MacroF1:F4}  ({s.Images} images, {s.Seconds:F1} s)");

    /// <summary>
    /// Rebuilds the run's model (named in its args.yaml, which must agree with the checkpoint; runs train on Fashion-MNIST:
    /// 10 classes, 1 channel) and loads a checkpoint's evaluated weights into it (the EMA weights when the run used EMA),
    /// in eval mode; <paramref name="fuse"/> folds conv+BN pairs for inference. Weights holding NaN or ±Inf are refused
    /// unless <paramref name="allowNonFinite"/> is set (a diverged model predicts only NaN).
    /// </summary>
    public static (Nn.Module Model, TrainConfig Config) Load(string runFolder, string checkpoint, bool fuse = false, bool allowNonFinite = false, string command = "ember eval")
    {
        // a folder without args.yaml is not a run (exit 3, as train --resume says), not a config file the user mistyped
        RunFolderCheck.ForRun(runFolder, RunFolderKind.Classification, command);
        if (checkpoint is not ("best" or "last")) throw new ConfigException($"unknown checkpoint '{checkpoint}'; valid choices: best, last");
        var args = Path.Combine(runFolder, "args.yaml");
        var config = ConfigLoader.Load(args);
        var folder = Path.Combine(runFolder, checkpoint);
        if (checkpoint == "best" && !Directory.Exists(folder) && Directory.Exists(Path.Combine(runFolder, "last")))
            throw new DirectoryNotFoundException($"checkpoint: {runFolder} has no best/ checkpoint yet (no epoch finished); use --checkpoint last");
        TrainJob.CheckModel(Checkpoint.ReadState(folder), config, folder, args);
        Nn.Module model;
        if (config.Lora > 0 && checkpoint == "last")
        {
            // a LoRA run's last/ keeps the base and the adapters apart (to resume); merged, they are the plain model
            model = FineTuneStage.LoadMergedLast(folder, config, DataSource.ClassCount(config), allowNonFinite);
            if (fuse) Analysis.Fusion.FuseModel(model);
        }
        else model = Model.Load(folder, config.Model, DataSource.ClassCount(config), inChannels: 1, fuse, allowNonFinite, TrainJob.Norm(config));
        return (model, config);
    }

    /// <summary>--allow-non-finite: load a checkpoint whose weights hold NaN or ±Inf (refused by default).</summary>
    internal static Option<bool> AllowNonFiniteOption()
        => new("--allow-non-finite") { Description = "load the checkpoint even if its weights hold NaN or Inf (a diverged run)" };
}
