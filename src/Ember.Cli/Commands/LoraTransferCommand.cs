using System.CommandLine;
using System.Globalization;
using System.Text;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Data;
using Ember.Interop;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember lora-transfer`: <see cref="LoraTransferExperiment"/> on Fashion-MNIST — pretrain on classes 0–4, adapt to
/// classes 5–9 by full fine-tuning and by LoRA — for each seed; writes args.yaml, metrics.csv (one row per arm and seed)
/// and lora-transfer.md (mean ± std) into runs/lora-transfer/expN.
/// </summary>
public static class LoraTransferCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("lora-transfer", "Pretrain a CNN on 5 Fashion-MNIST classes, adapt it to the other 5 by LoRA (Linear and 1×1 conv adapters) and by full fine-tuning: accuracy, trainable parameters, time");
        var epochs = new Option<int>("--epochs") { Description = "epochs of pretraining and of each adaptation", DefaultValueFactory = _ => 2 };
        var pretrain = new Option<int>("--pretrain-limit") { Description = "training images of classes 0–4 to pretrain on (the first N; 0: all 30,000)", DefaultValueFactory = _ => 10000 };
        var adapt = new Option<int>("--adapt-limit") { Description = "training images of classes 5–9 to adapt on (the first N; 0: all 30,000)", DefaultValueFactory = _ => 5000 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank r", DefaultValueFactory = _ => 8 };
        var alpha = new Option<double>("--alpha") { Description = "LoRA α (updates scaled by α/r)", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate of pretraining and full fine-tuning", DefaultValueFactory = _ => 2e-3 };
        var loraLr = new Option<double>("--lora-lr") { Description = "AdamW learning rate of the adapters", DefaultValueFactory = _ => 5e-3 };
        var seeds = new Option<string>("--seeds") { Description = "comma-separated seeds", DefaultValueFactory = _ => "0,1,2" };
        var project = new Option<string>("--project") { Description = "folder for the expN run folders", DefaultValueFactory = _ => "runs/lora-transfer" };
        foreach (var o in new Option[] { epochs, pretrain, adapt, rank, alpha, lr, loraLr, seeds, project }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            int e = parse.GetValue(epochs), np = parse.GetValue(pretrain), na = parse.GetValue(adapt), r = parse.GetValue(rank);
            double a = parse.GetValue(alpha), rate = parse.GetValue(lr), loraRate = parse.GetValue(loraLr);
            if (e < 1 || np < 0 || na < 0 || r < 1 || !(a > 0) || !(rate > 0) || !(loraRate > 0))
                throw new ConfigException($"lora-transfer: expected --epochs ≥ 1, --pretrain-limit ≥ 0, --adapt-limit ≥ 0, --rank ≥ 1 and positive --alpha, --lr and --lora-lr, got {e}, {np}, {na}, {r}, {a}, {rate}, {loraRate}");
            CliErrors.MemoryHint = $"lower --rank ({r})";
            var seedList = new List<long>();
            foreach (var part in parse.GetValue(seeds)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                seedList.Add(long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ? s
                    : throw new ConfigException($"lora-transfer: --seeds expects comma-separated integers, got '{part}'"));
            if (seedList.Count == 0) throw new ConfigException("lora-transfer: --seeds must list at least one seed");
            // Ctrl-C or SIGTERM: the file under way is finished, the finished runs' rows are whole in metrics.csv
            return SignalExit.Run(then => $"nothing was written (no run folder had been made); {then}run `ember lora-transfer` again",
                signals => Run(signals, parse.GetValue(project)!, e, np, na, r, a, rate, loraRate, seedList));
        }));
        return command;
    }

    const int Split = 5;

    static int Run(SignalExit signals, string project, int epochs, int pretrainLimit, int adaptLimit, int rank, double alpha, double lr, double loraLr, IReadOnlyList<long> seeds)
    {
        var (data, _) = DataSource.Resolve(new TrainConfig());
        var (oldX, oldY) = Task(data, train: true, first: 0, pretrainLimit);
        var (newX, newY) = Task(data, train: true, first: Split, adaptLimit);
        var (oldTestX, oldTestY) = Task(data, train: false, first: 0, 0);
        var (newTestX, newTestY) = Task(data, train: false, first: Split, 0);
        // what a run killed mid-write left in its expN (each run writes a new one, so no later run looks there)
        StaleTemporaries.RemoveInRunFolders(project, Console.Out);
        var folder = RunFolder.Create(project);
        signals.Outcome = then => SignalExit.ExperimentOutcome(folder, "lora-transfer.md", "ember lora-transfer", then);
        var args = string.Create(CultureInfo.InvariantCulture,
            $"command: lora-transfer\ndata: {DataSource.DefaultName}\nold_classes: [0, 1, 2, 3, 4]\nnew_classes: [5, 6, 7, 8, 9]\nepochs: {epochs}\npretrain_limit: {pretrainLimit}\nadapt_limit: {adaptLimit}\n" +
            $"rank: {rank}\nalpha: {alpha}\nlr: {lr}\nlora_lr: {loraLr}\nbatch_size: 128\noptimizer: adamw\nseeds: [{string.Join(", ", seeds)}]\nthreads: {Torch.NumThreads}\n");
        AtomicFile.WriteAllText(Path.Combine(folder, "args.yaml"), args);
        Console.WriteLine($"ember lora-transfer: pretrain on {oldX.Size(0)} images of classes 0–4, adapt on {newX.Size(0)} of classes 5–9, {epochs} epochs each, {seeds.Count} seed(s) → {folder}");
        var rows = new List<LoraTransferRow>();
        var csv = new StringBuilder("method,seed,trainable_parameters,total_parameters,new_top1,old_top1,merged_new_top1,train_seconds\n");
        foreach (var seed in seeds)
            foreach (var row in LoraTransferExperiment.Run(seed, Split, oldX, oldY, newX, newY, oldTestX, oldTestY, newTestX, newTestY, epochs, 128, lr, loraLr, rank, alpha))
            {
                rows.Add(row);
                csv.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{row.Method},{row.Seed},{row.TrainableParameters},{row.TotalParameters},{row.NewTaskTop1:R},{row.OldTaskTop1:R},{row.MergedNewTaskTop1:R},{row.Seconds:F1}\n"));
                AtomicFile.WriteAllText(Path.Combine(folder, "metrics.csv"), csv.ToString());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"seed {row.Seed} {row.Method,-8}: trainable {row.TrainableParameters:N0} of {row.TotalParameters:N0}, new task {100 * row.NewTaskTop1:F2}%, old task {100 * row.OldTaskTop1:F2}%, {row.Seconds:F0} s"));
            }
        var table = Table(rows);
        AtomicFile.WriteAllText(Path.Combine(folder, "lora-transfer.md"), "# ember lora-transfer\n\n```yaml\n" + args + "```\n\n" + table);
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine($"→ {Path.Combine(folder, "metrics.csv")}, lora-transfer.md");
        return 0;
    }

    // The split's images of classes [first, first + 5), normalized, the first `limit` of them (0: all).
    static (Tensor Images, Tensor Labels) Task(DataSource data, bool train, int first, int limit)
    {
        var (images, labels) = new Mnist(data.Folder, train).ToTensors();
        var y = labels.ToArray<long>();
        var keep = new List<long>();
        for (int i = 0; i < y.Length && (limit == 0 || keep.Count < limit); i++)
            if (y[i] >= first && y[i] < first + Split) keep.Add(i);
        var index = Torch.FromArray(keep.ToArray(), [keep.Count]);
        return (((images.IndexSelect(0, index) - data.Mean) / data.Std).Contiguous(), labels.IndexSelect(0, index).Contiguous());
    }

    static string Table(IReadOnlyList<LoraTransferRow> rows)
    {
        var sb = new StringBuilder("| method | trainable parameters | new task top-1 (%) | old task top-1 after (%) | training time (s) |\n|---|---:|---:|---:|---:|\n");
        foreach (var g in rows.GroupBy(r => r.Method))
        {
            var first = g.First();
            sb.Append($"| {g.Key} | {first.TrainableParameters:N0} of {first.TotalParameters:N0} | {MeanStd(g.Select(r => 100 * r.NewTaskTop1).ToList(), 2)} | {MeanStd(g.Select(r => 100 * r.OldTaskTop1).ToList(), 2)} | {MeanStd(g.Select(r => r.Seconds).ToList(), 1)} |\n");
        }
        return sb.ToString();
    }

    static string MeanStd(IReadOnlyList<double> values, int decimals)
    {
        if (values.Any(double.IsNaN)) return "—";
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return mean.ToString(format, CultureInfo.InvariantCulture) + " ± " + std.ToString(format, CultureInfo.InvariantCulture);
    }
}
