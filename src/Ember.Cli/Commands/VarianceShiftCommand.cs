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
/// `ember variance-shift`: runs <see cref="VarianceShiftExperiment"/> for every placement and seed on Fashion-MNIST and
/// writes args.yaml (the options), metrics.csv (one row per run: test top-1 and loss, each BN's train/eval input
/// variance ratio, training time) and variance-shift.md (mean ± std over the seeds) into runs/variance-shift/expN.
/// </summary>
public static class VarianceShiftCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("variance-shift", "Dropout before BN vs after the last BN vs Gaussian and uniform dropout: train/eval variance mismatch of the BN inputs and test accuracy over seeds");
        var epochs = new Option<int>("--epochs") { Description = "training epochs per run", DefaultValueFactory = _ => 2 };
        var limit = new Option<int>("--limit") { Description = "training images (the first N of the split; 0: all 60,000)", DefaultValueFactory = _ => 5000 };
        var testLimit = new Option<int>("--test-limit") { Description = "test images scored (the first N; 0: all 10,000)", DefaultValueFactory = _ => 5000 };
        var seeds = new Option<string>("--seeds") { Description = "comma-separated seeds", DefaultValueFactory = _ => "0,1,2" };
        var p = new Option<double>("--p") { Description = "drop rate of Dropout and GaussianDropout", DefaultValueFactory = _ => 0.5 };
        var beta = new Option<double>("--beta") { Description = "UniformDropout's β (noise 1 + U(−β, β))", DefaultValueFactory = _ => 0.1 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 2e-3 };
        var batch = new Option<int>("--batch-size") { Description = "mini-batch size", DefaultValueFactory = _ => 128 };
        var data = new Option<string?>("--data") { Description = "fashion-mnist (default), mnist, or a folder of IDX files" };
        var project = new Option<string>("--project") { Description = "folder for the expN run folders", DefaultValueFactory = _ => "runs/variance-shift" };
        foreach (var o in new Option[] { epochs, limit, testLimit, seeds, p, beta, lr, batch, data, project }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            int e = parse.GetValue(epochs), n = parse.GetValue(limit), b = parse.GetValue(batch), nt = parse.GetValue(testLimit);
            double rate = parse.GetValue(p), uniform = parse.GetValue(beta), step = parse.GetValue(lr);
            if (e < 1 || n < 0 || nt < 0 || b < 1 || !(rate is >= 0 and < 1) || !(uniform is >= 0 and <= 1) || !(step > 0))
                throw new ConfigException($"variance-shift: expected --epochs ≥ 1, --limit ≥ 0, --test-limit ≥ 0, --batch-size ≥ 1, --p in [0, 1), --beta in [0, 1] and --lr > 0, got {e}, {n}, {b}, {rate}, {uniform}, {step}");
            CliErrors.MemoryHint = $"lower --batch-size ({b})";
            var seedList = new List<long>();
            foreach (var part in parse.GetValue(seeds)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                seedList.Add(long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ? s
                    : throw new ConfigException($"variance-shift: --seeds expects comma-separated integers, got '{part}'"));
            if (seedList.Count == 0) throw new ConfigException("variance-shift: --seeds must list at least one seed");
            // Ctrl-C or SIGTERM: the file under way is finished, the finished runs' rows are whole in metrics.csv
            return SignalExit.Run(then => $"nothing was written (no run folder had been made); {then}run `ember variance-shift` again",
                signals => Run(signals, parse.GetValue(data), parse.GetValue(project)!, e, n, nt, seedList, rate, uniform, step, b));
        }));
        return command;
    }

    static int Run(SignalExit signals, string? dataName, string project, int epochs, int limit, int testLimit, IReadOnlyList<long> seeds, double p, double beta, double lr, int batchSize)
    {
        var (data, _) = DataSource.Resolve(new TrainConfig { Data = dataName });
        var (trainImages, trainLabels) = Load(data, train: true, limit);
        var (testImages, testLabels) = Load(data, train: false, testLimit);
        // what a run killed mid-write left in its expN (each run writes a new one, so no later run looks there)
        StaleTemporaries.RemoveInRunFolders(project, Console.Out);
        var folder = RunFolder.Create(project);
        signals.Outcome = then => SignalExit.ExperimentOutcome(folder, "variance-shift.md", "ember variance-shift", then);
        var args = string.Create(CultureInfo.InvariantCulture,
            $"command: variance-shift\ndata: {dataName ?? DataSource.DefaultName}\nepochs: {epochs}\nlimit: {limit}\ntest_limit: {testLimit}\nseeds: [{string.Join(", ", seeds)}]\np: {p}\nbeta: {beta}\nlr: {lr}\nbatch_size: {batchSize}\noptimizer: adam\nthreads: {Torch.NumThreads}\n");
        AtomicFile.WriteAllText(Path.Combine(folder, "args.yaml"), args);
        Console.WriteLine($"ember variance-shift: {VarianceShiftExperiment.Placements.Count} placements × {seeds.Count} seeds, {epochs} epochs of {trainImages.Size(0)} images each → {folder}");

        var results = new List<VarianceShiftResult>();
        var csv = new StringBuilder();
        foreach (var placement in VarianceShiftExperiment.Placements)
            foreach (var seed in seeds)
            {
                var r = VarianceShiftExperiment.Run(placement, seed, trainImages, trainLabels, testImages, testLabels, epochs, batchSize, lr, p, beta);
                if (csv.Length == 0)
                    csv.Append("placement,seed,top1,test_loss,").Append(string.Concat(r.Layers.Select((_, i) => $"train_var_bn{i + 1},eval_var_bn{i + 1},shift_bn{i + 1},")))
                        .Append(string.Concat(r.RunningLayers.Select((_, i) => $"running_var_bn{i + 1},running_shift_bn{i + 1},"))).Append("train_seconds\n");
                csv.Append(string.Create(CultureInfo.InvariantCulture, $"{placement},{seed},{r.Top1:R},{r.TestLoss:R},"))
                    .Append(string.Concat(r.Layers.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.TrainVariance:R},{l.EvalVariance:R},{l.Shift:R},"))))
                    .Append(string.Concat(r.RunningLayers.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.TrainVariance:R},{l.Shift:R},"))))
                    .Append(r.TrainSeconds.ToString("F1", CultureInfo.InvariantCulture)).Append('\n');
                AtomicFile.WriteAllText(Path.Combine(folder, "metrics.csv"), csv.ToString()); // each finished run is kept
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{placement,-19} seed {seed}: top-1 {100 * r.Top1:F2}%, BN input variance train/eval {string.Join(" ", r.Layers.Select(l => l.Shift.ToString("F3", CultureInfo.InvariantCulture)))}, running/eval {string.Join(" ", r.RunningLayers.Select(l => l.Shift.ToString("F3", CultureInfo.InvariantCulture)))} ({r.TrainSeconds:F0} s)"));
                results.Add(r);
            }
        var table = Table(results);
        AtomicFile.WriteAllText(Path.Combine(folder, "variance-shift.md"), "# ember variance-shift\n\n```yaml\n" + args + "```\n\n" + table);
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine($"→ {Path.Combine(folder, "metrics.csv")}, variance-shift.md");
        return 0;
    }

    // The split's images normalized with the data set's mean and std, as [N, 1, 28, 28], and the labels.
    static (Tensor Images, Tensor Labels) Load(DataSource data, bool train, int limit)
    {
        var (images, labels) = new Mnist(data.Folder, train).ToTensors();
        if (limit > 0 && limit < images.Size(0)) (images, labels) = (images.Narrow(0, 0, limit), labels.Narrow(0, 0, limit));
        return (((images - data.Mean) / data.Std).Contiguous(), labels.Contiguous());
    }

    /// <summary>Mean ± sample std over the seeds of top-1 and of each BN's variance ratio, one row per placement.</summary>
    internal static string Table(IReadOnlyList<VarianceShiftResult> results)
    {
        int layers = results[0].Layers.Count;
        var sb = new StringBuilder("| placement | top-1 (%) | " + string.Join(" | ", Enumerable.Range(1, layers).Select(i => $"BN{i} train/eval")) + " | "
            + string.Join(" | ", Enumerable.Range(1, layers).Select(i => $"BN{i} running/eval")) + " |\n");
        sb.Append("|---|---:|").Append(string.Concat(Enumerable.Repeat("---:|", 2 * layers))).Append('\n');
        foreach (var group in results.GroupBy(r => r.Placement))
        {
            sb.Append($"| {group.Key} | {MeanStd(group.Select(r => 100 * r.Top1).ToList(), 2)} |");
            for (int i = 0; i < layers; i++) sb.Append($" {MeanStd(group.Select(r => r.Layers[i].Shift).ToList(), 3)} |");
            for (int i = 0; i < layers; i++) sb.Append($" {MeanStd(group.Select(r => r.RunningLayers[i].Shift).ToList(), 3)} |");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    static string MeanStd(IReadOnlyList<double> values, int decimals)
    {
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return mean.ToString(format, CultureInfo.InvariantCulture) + " ± " + std.ToString(format, CultureInfo.InvariantCulture);
    }
}
