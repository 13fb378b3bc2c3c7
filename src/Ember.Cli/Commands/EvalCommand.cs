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
        command.Arguments.Add(run);
        command.Options.Add(which);
        command.Options.Add(allowNonFinite);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var (model, config) = Load(parse.GetValue(run)!.FullName, parse.GetValue(which)!, allowNonFinite: parse.GetValue(allowNonFinite));
            var (data, _) = DataSource.Resolve(config);
            var test = new Mnist(data.Folder, train: false, transform: new Normalize([data.Mean], [data.Std]));
            var confusion = new ConfusionMatrix(data.Classes.Count);
            var top5 = new TopKAccuracy(5);
            model.Eval();
            using (Torch.NoGrad())
                foreach (var batch in new DataLoader<(Tensor, long)>(test, 500).Iterate(0))
                {
                    var output = model.Call(batch[0]);
                    confusion.Update(output, batch[1]);
                    top5.Update(output, batch[1]);
                }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"top-1 {100 * confusion.Accuracy:F2}%  top-5 {100 * top5.Compute():F2}%  macro F1 {confusion.F1(Average.Macro):F4}  ({confusion.Total} images)"));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Rebuilds the run's model (named in its args.yaml, which must agree with the checkpoint; runs train on Fashion-MNIST:
    /// 10 classes, 1 channel) and loads a checkpoint's evaluated weights into it (the EMA weights when the run used EMA),
    /// in eval mode; <paramref name="fuse"/> folds conv+BN pairs for inference. Weights holding NaN or ±Inf are refused
    /// unless <paramref name="allowNonFinite"/> is set (a diverged model predicts only NaN).
    /// </summary>
    public static (Nn.Module Model, TrainConfig Config) Load(string runFolder, string checkpoint, bool fuse = false, bool allowNonFinite = false)
    {
        if (!Directory.Exists(runFolder)) throw new DirectoryNotFoundException($"run folder not found: {runFolder}");
        if (checkpoint is not ("best" or "last")) throw new ConfigException($"unknown checkpoint '{checkpoint}'; valid choices: best, last");
        var args = Path.Combine(runFolder, "args.yaml");
        var config = ConfigLoader.Load(args);
        var folder = Path.Combine(runFolder, checkpoint);
        if (checkpoint == "best" && !Directory.Exists(folder) && Directory.Exists(Path.Combine(runFolder, "last")))
            throw new DirectoryNotFoundException($"checkpoint: {runFolder} has no best/ checkpoint yet (no epoch finished); use --checkpoint last");
        TrainJob.CheckModel(Checkpoint.ReadState(folder), config, folder, args);
        var model = Model.Load(folder, config.Model, DataSource.ClassCount(config), inChannels: 1, fuse, allowNonFinite);
        return (model, config);
    }

    /// <summary>--allow-non-finite: load a checkpoint whose weights hold NaN or ±Inf (refused by default).</summary>
    internal static Option<bool> AllowNonFiniteOption()
        => new("--allow-non-finite") { Description = "load the checkpoint even if its weights hold NaN or Inf (a diverged run)" };
}
