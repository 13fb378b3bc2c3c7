using System.CommandLine;
using System.Globalization;
using System.Text;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Interop;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember gradient-flow`: runs <see cref="GradientFlowExperiment"/> for every architecture, prints each report and
/// draws gradient-flow.png — the notes' vanishing-gradient claim as a picture — into a new runs/gradient-flow/expN
/// folder (or to --output). With --recurrent it runs <see cref="RecurrentGradientFlowExperiment"/> instead: the
/// gradient reaching each time step of a plain RNN, an LSTM and a GRU on the adding problem, and each one's accuracy
/// trained without and with clipping (recurrent-gradient-flow.png, step_gradient_norms.csv, accuracy.csv).
/// </summary>
public static class GradientFlowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("gradient-flow", "Show vanishing gradients in a deep sigmoid MLP and how ReLU+BN or residual connections fix them; with --recurrent, in a plain RNN vs LSTM vs GRU over a long sequence");
        var output = new Option<string?>("--output") { Description = "where to write the plot; default: gradient-flow.png (or recurrent-gradient-flow.png) in a new run folder under --project" };
        var project = new Option<string>("--project") { Description = "folder for the expN run folders", DefaultValueFactory = _ => "runs/gradient-flow" };
        var seed = new Option<int>("--seed") { Description = "seed of the initialization and the random batches", DefaultValueFactory = _ => 0 };
        var recurrent = new Option<bool>("--recurrent") { Description = "the recurrent experiment: RNN vs LSTM vs GRU on the adding problem" };
        var length = new Option<int>("--length") { Description = "with --recurrent: steps per sequence", DefaultValueFactory = _ => 100 };
        var steps = new Option<int>("--steps") { Description = "with --recurrent: Adam steps per training run (6 runs: 3 cells × without/with clipping)", DefaultValueFactory = _ => 1500 };
        var hidden = new Option<int>("--hidden") { Description = "with --recurrent: hidden units of each cell", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "with --recurrent: Adam learning rate", DefaultValueFactory = _ => 0.01 };
        var clip = new Option<double>("--clip") { Description = "with --recurrent: the gradient-norm limit of the clipped runs", DefaultValueFactory = _ => 1.0 };
        foreach (var o in new Option[] { output, project, seed, recurrent, length, steps, hidden, lr, clip }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            bool isRecurrent = parse.GetValue(recurrent);
            int len = parse.GetValue(length), n = parse.GetValue(steps), h = parse.GetValue(hidden);
            double rate = parse.GetValue(lr), limit = parse.GetValue(clip);
            // the options before any folder is made: a mistyped option leaves no run folder behind
            if (isRecurrent && (len < 2 || n < 0 || h < 1 || !(rate > 0) || !(limit > 0)))
                throw new ConfigException($"gradient-flow --recurrent: expected --length ≥ 2, --steps ≥ 0, --hidden ≥ 1, --lr > 0 and --clip > 0, got {len}, {n}, {h}, {rate}, {limit}");
            CliErrors.MemoryHint = isRecurrent ? $"lower --hidden ({h}) or --length ({len})" : "the experiment's sizes are fixed: free some memory and run it again";
            // the destination first: a folder that cannot be written fails at once, not after the experiment
            var file = isRecurrent ? "recurrent-gradient-flow.png" : "gradient-flow.png";
            string? runFolder = parse.GetValue(output) is null ? Path.GetFullPath(RunFolder.Create(parse.GetValue(project)!)) : null;
            var path = runFolder is null ? Path.GetFullPath(parse.GetValue(output)!) : Path.Combine(runFolder, file);
            if (Directory.Exists(path)) throw new ConfigException($"--output {path} is a folder; give a file name such as {Path.Combine(path, file)}");
            // the recurrent experiment's two tables go beside its plot: beside a device (/dev/null) they would land in /dev
            if (isRecurrent && runFolder is null && Data.UntrustedFile.IsSpecial(path))
                throw new ConfigException($"gradient-flow --recurrent: --output {path} is a device, but step_gradient_norms.csv and accuracy.csv are written " +
                    $"beside the plot; give --output a file in a folder you can write to, or leave it out for a run folder under --project");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // --output in a folder that cannot be written fails now, naming it, not after the experiment (and, under /proc,
            // as a "missing" temporary, exit 3); a device (/dev/null, /dev/full) is written in place, its folder never
            if (runFolder is null && !Data.UntrustedFile.IsSpecial(path))
                RunFolderCheck.Writable(Path.GetDirectoryName(path)!, $"gradient-flow writes {(isRecurrent ? $"{Path.GetFileName(path)}, step_gradient_norms.csv and accuracy.csv" : Path.GetFileName(path))} there; " +
                    "give --output a file in a folder you can write to");
            // The run folder says it is incomplete until its files are written: a kill -9 leaves that, not an empty expN.
            if (runFolder is not null) MarkIncomplete(runFolder);
            // Ctrl-C or SIGTERM stops the experiment; every file is written only at the end, so then none is, and the
            // run folder made for them goes too (a later look finds no run rather than a run without results). A signal
            // while the files are written lets the file under way end whole and starts no other, as export's stop does.
            using var signals = new SignalCancel();
            var files = isRecurrent ? new[] { "accuracy.csv", "step_gradient_norms.csv", Path.GetFileName(path) } : [Path.GetFileName(path)];
            var written = new List<string>(); // of `files`, those written whole, in order
            try
            {
                if (isRecurrent) RunRecurrent(path, parse.GetValue(seed), len, n, h, rate, limit, signals.Token, written);
                else
                {
                    var reports = new List<(string, GradientReport)>();
                    foreach (var architecture in GradientFlowExperiment.Architectures)
                    {
                        signals.Token.ThrowIfCancellationRequested();
                        var report = GradientFlowExperiment.Run(architecture, parse.GetValue(seed));
                        Console.WriteLine($"== {architecture} ==\n{report}\n");
                        reports.Add((architecture, report));
                    }
                    signals.Token.ThrowIfCancellationRequested();
                    GradientFlowPlot.Save(reports, path);
                    written.Add(Path.GetFileName(path));
                }
                if (runFolder is not null) IncompleteMarker.Remove(runFolder);
                // a signal that came while the last file was written: that write ended whole, and the stop is said as any other
                signals.ThrowIfSignalled($"{Listed(written)} {(written.Count == 1 ? "was" : "were")} written whole to {Path.GetDirectoryName(path)} before the stop");
                Console.WriteLine(isRecurrent ? $"wrote {path}, step_gradient_norms.csv and accuracy.csv" : $"wrote {path}");
                return 0;
            }
            catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
            {
                if (written.Count > 0) signals.ThrowIfSignalled(Partly(runFolder, path, files, written));
                if (runFolder is not null)
                {
                    IncompleteMarker.Remove(runFolder);
                    if (!Directory.EnumerateFileSystemEntries(runFolder).Any()) Directory.Delete(runFolder);
                }
                signals.ThrowIfSignalled(runFolder is not null ? $"nothing was written (the empty run folder {runFolder} was removed)" : $"{path} was not written");
                throw;
            }
        }));
        return command;
    }

    static string Listed(IReadOnlyList<string> names) => names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";

    // A stop between two of the files: those written are whole and stay; a run folder stays marked incomplete, its
    // marker now saying which files it holds.
    static string Partly(string? runFolder, string path, IReadOnlyList<string> files, IReadOnlyList<string> written)
    {
        var rest = Listed(files.Except(written).ToList());
        var again = runFolder is not null ? "run `ember gradient-flow --recurrent` again with the same options for all of them (it writes a new expN)"
            : "run the same command again for all of them";
        if (runFolder is not null)
            IncompleteMarker.Write(runFolder, $"ember gradient-flow was stopped while it wrote its files: {Listed(written)} {(written.Count == 1 ? "is" : "are")} whole, " +
                $"{rest} {(files.Count - written.Count == 1 ? "was" : "were")} not written; {again}");
        return $"{Listed(written)} {(written.Count == 1 ? "was" : "were")} written whole to {Path.GetDirectoryName(path)}, not {rest}: {again}";
    }

    /// <summary>
    /// Marks a new run folder incomplete (see <see cref="IncompleteMarker"/>); when even the marker cannot be written (a
    /// full disk), the folder, still empty, is removed and the failure reported.
    /// </summary>
    static void MarkIncomplete(string runFolder)
    {
        try
        {
            IncompleteMarker.Write(runFolder, $"ember gradient-flow did not finish in this folder (killed or crashed before its files were written); " +
                "it holds no results: run ember gradient-flow again (it writes into a new expN)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { if (!Directory.EnumerateFileSystemEntries(runFolder).Any()) Directory.Delete(runFolder); }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException) { } // the first failure is the one to report
            throw;
        }
    }

    // The experiment checks `cancel` between training steps; the three files are written only after every run, `cancel`
    // checked before each, and each one's name added to `written` once it is whole.
    static void RunRecurrent(string path, int seed, int length, int steps, int hidden, double lr, double clip, CancellationToken cancel, List<string> written)
    {
        var folder = Path.GetDirectoryName(path)!;
        var norms = new List<(string, double[])>();
        var (x, y) = RecurrentGradientFlowExperiment.AddingBatch(256, length, new Generator(seed + 7));
        foreach (var cell in RecurrentGradientFlowExperiment.Cells)
        {
            cancel.ThrowIfCancellationRequested();
            Torch.ManualSeed(seed);
            norms.Add((cell, RecurrentGradientFlowExperiment.StepGradientNorms(RecurrentGradientFlowExperiment.Build(cell, hidden), x, y)));
        }
        Console.WriteLine($"gradient reaching step t at initialization, adding problem of {length} steps, hidden {hidden}, batch 256:");
        foreach (var (cell, v) in norms)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {cell,-4}  ‖∂L/∂x_0‖ {v[0]:0.00e+0}  ‖∂L/∂x_{length / 2}‖ {v[length / 2]:0.00e+0}  ‖∂L/∂x_{length - 1}‖ {v[^1]:0.00e+0}  first/last {v[0] / v[^1]:0.0e+0}"));

        var accuracies = new List<(string, double?, double)>();
        var trained = new List<(string, double[])>(); // the same measurement after the clipped run's training
        var table = new StringBuilder("cell,clip,accuracy,test_mse,max_grad_norm,seconds\n");
        Console.WriteLine($"training {steps} Adam steps (lr {lr.ToString(CultureInfo.InvariantCulture)}, batch 64) per run; accuracy = |error| < {RecurrentGradientFlowExperiment.Tolerance} on 1000 fresh sequences:");
        foreach (var cell in RecurrentGradientFlowExperiment.Cells)
            foreach (double? limit in new double?[] { null, clip })
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                Torch.ManualSeed(seed);
                var model = RecurrentGradientFlowExperiment.Build(cell, hidden);
                var (accuracy, mse, maxNorm) = RecurrentGradientFlowExperiment.Train(model, length, steps, lr, limit, batch: 64, testBatch: 1000, seed: seed, cancel: cancel);
                accuracies.Add((cell, limit, accuracy));
                if (limit is not null) trained.Add((cell + " trained", RecurrentGradientFlowExperiment.StepGradientNorms(model, x, y)));
                string clipText = limit is double c ? c.ToString(CultureInfo.InvariantCulture) : "none";
                table.Append(string.Create(CultureInfo.InvariantCulture, $"{cell},{clipText},{accuracy:G6},{mse:G6},{maxNorm:G6},{clock.Elapsed.TotalSeconds:F1}\n"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {cell,-4} clip {clipText,-4}: accuracy {100 * accuracy:F1}%, test MSE {mse:0.0000}, largest gradient norm {maxNorm:0.00}, {clock.Elapsed.TotalSeconds:F0} s"));
            }
        cancel.ThrowIfCancellationRequested();
        AtomicFile.WriteAllText(Path.Combine(folder, "accuracy.csv"), table.ToString());
        written.Add("accuracy.csv");
        var all = norms.Concat(trained).ToList();
        var csv = new StringBuilder("t," + string.Join(",", all.Select(n => n.Item1.Replace(' ', '_'))) + "\n");
        for (int t = 0; t < length; t++)
            csv.Append(t.ToString(CultureInfo.InvariantCulture)).Append(string.Concat(all.Select(n => "," + n.Item2[t].ToString("G6", CultureInfo.InvariantCulture)))).Append('\n');
        cancel.ThrowIfCancellationRequested();
        AtomicFile.WriteAllText(Path.Combine(folder, "step_gradient_norms.csv"), csv.ToString());
        written.Add("step_gradient_norms.csv");
        Console.WriteLine($"gradient reaching step t after the clipped runs' training:");
        foreach (var (cell, v) in trained)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {cell,-12}  ‖∂L/∂x_0‖ {v[0]:0.00e+0}  ‖∂L/∂x_{length - 1}‖ {v[^1]:0.00e+0}  first/last {v[0] / v[^1]:0.0e+0}"));
        cancel.ThrowIfCancellationRequested();
        RecurrentGradientFlowPlot.Save(all, accuracies, length, steps, path);
        written.Add(Path.GetFileName(path));
    }
}
