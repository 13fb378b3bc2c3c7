using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// Every `ember …` command shown in README.md and docs/*.md (in code blocks, as `ember …` or `dotnet run --project
/// src/Ember.Cli -c Release -- …`) parses, and every file it names in the repository exists and loads; the commands on
/// an existing run (eval, predict, export) and profile run as written on a tiny run.
/// </summary>
public class DocumentedCommandTests
{
    static readonly string Repo = FindRepo();

    static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "docs"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (README.md beside docs/) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>(file:line, arguments after `ember`) of every documented command.</summary>
    internal static List<(string Where, string[] Args)> Commands()
    {
        var result = new List<(string, string[])>();
        var files = new[] { Path.Combine(Repo, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Repo, "docs"), "*.md"));
        foreach (var file in files)
        {
            bool inCode = false;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
                if (!inCode) continue;
                string? rest = line.StartsWith("ember ", StringComparison.Ordinal) ? line["ember ".Length..]
                    : line.StartsWith("dotnet run --project src/Ember.Cli -c Release -- ", StringComparison.Ordinal) ? line["dotnet run --project src/Ember.Cli -c Release -- ".Length..]
                    : null;
                if (rest is null) continue;
                rest = Regex.Replace(rest, @"\s+#.*$", "");
                if (rest.Contains('[') || rest.Contains('…') || rest.Contains("...")) continue; // a synopsis, not a command
                result.Add(($"{Path.GetRelativePath(Repo, file)}:{i + 1}", Regex.Matches(rest, "\"[^\"]*\"|\\S+").Select(m => m.Value.Trim('"')).ToArray()));
            }
        }
        return result;
    }

    [Fact]
    public void Every_documented_command_parses_and_its_files_exist_and_load()
    {
        var commands = Commands();
        Assert.True(commands.Count >= 15, $"only {commands.Count} documented commands found");
        var (root, _) = EmberCommand.Build();
        foreach (var (where, args) in commands)
        {
            var parse = root.Parse(args);
            Assert.True(parse.Errors.Count == 0, $"{where}: `ember {string.Join(' ', args)}`: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            for (int k = 0; k < args.Length; k++)
            {
                // runs/ and the detection set `ember detect make-data` writes are made by commands, not shipped
                if (!Regex.IsMatch(args[k], @"\.(ya?ml|json)$") || args[k].StartsWith("runs/", StringComparison.Ordinal)
                    || args[k].StartsWith(Ember.Cli.Commands.Detect.MakeDataCommand.DefaultOutput + "/", StringComparison.Ordinal)) continue;
                var path = Path.Combine(Repo, args[k]);
                Assert.True(File.Exists(path), $"{where}: {args[k]} does not exist in the repository");
                var option = k > 0 ? args[k - 1] : "";
                if (option is "--config" or "-c") TrainCommand.Resolve(path, new Dictionary<string, string?>());
                else if (option == "--space") SearchSpaceFile.Load(path);
                else if (args[0] == "ablate") AblationStudy.Load(path);
            }
        }
    }

    [Fact]
    public void The_documented_commands_on_a_run_and_profile_run_as_written()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        int ran = 0;
        foreach (var (where, args) in Commands())
        {
            if (args[0] is not ("eval" or "predict" or "export" or "profile") || args.Contains("--image")) continue;
            var substituted = args.Select(a => Regex.IsMatch(a, @"^runs/train/exp\d+$") ? run : a).ToArray();
            var output = substituted;
            // an --output file goes into the run's temporary folder, not the current one
            for (int k = 0; k + 1 < output.Length; k++)
                if (output[k] == "--output") output[k + 1] = Path.Combine(run, Path.GetFileName(output[k + 1]));
            // each documented command starts from a fresh run: the README and docs export the same file, which export
            // refuses to replace without --force
            if (args[0] == "export")
                foreach (var earlier in Directory.GetFiles(run).Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) || f.EndsWith(".safetensors", StringComparison.Ordinal)))
                    File.Delete(earlier);
            var (code, _, stderr) = CliFailureTests.Invoke(output);
            Assert.True(code == 0, $"{where}: `ember {string.Join(' ', args)}` exited {code}: {stderr}");
            ran++;
        }
        Assert.True(ran >= 6, $"only {ran} commands ran");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    // A data folder in Fashion-MNIST's layout with a few random images (raw IDX), so that a documented command trains
    // and validates in a blink: DataSource takes a folder for --data (or data: in a config) and measures it.
    static string TinyData(string root, int train = 192, int test = 32)
    {
        var folder = Path.Combine(root, "tiny-data");
        Directory.CreateDirectory(folder);
        var random = new Random(11);
        foreach (var (prefix, n) in new[] { ("train", train), ("t10k", test) })
        {
            var images = new byte[16 + n * 28 * 28];
            byte[] head = [0, 0, 8, 3, 0, 0, (byte)(n >> 8), (byte)n, 0, 0, 0, 28, 0, 0, 0, 28];
            head.CopyTo(images, 0);
            random.NextBytes(images.AsSpan(16));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), images);
            var labels = new byte[8 + n];
            byte[] labelHead = [0, 0, 8, 1, 0, 0, (byte)(n >> 8), (byte)n];
            labelHead.CopyTo(labels, 0);
            for (int i = 0; i < n; i++) labels[8 + i] = (byte)(i % 10);
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), labels);
        }
        return folder;
    }

    static string NewestRun(string project)
        => Directory.GetDirectories(project, "exp*").OrderBy(d => int.Parse(Path.GetFileName(d)[3..], System.Globalization.CultureInfo.InvariantCulture)).Last();

    /// <summary>
    /// The documented train, evolve, ablate and gradient-flow commands run for real, each as written but on a tiny budget:
    /// a folder of 192 random training and 32 test images for --data, one epoch of 32 images, and a study or evolution shrunk to a few trials (their example
    /// files copied with only the budget keys changed), into a temporary --project. Each leaves the files its docs promise.
    /// </summary>
    [Fact]
    public void The_documented_train_evolve_ablate_and_gradient_flow_commands_run_on_a_tiny_budget()
    {
        var temp = Directory.CreateTempSubdirectory("ember-docs-run").FullName;
        var data = TinyData(temp);
        var project = Path.Combine(temp, "runs");
        int ran = 0;
        var seen = new HashSet<string>();
        try
        {
            foreach (var (where, documented) in Commands())
            {
                if (documented[0] is not ("train" or "evolve" or "ablate" or "gradient-flow")) continue;
                // the same command shown twice (options in another order) runs once
                if (!seen.Add(string.Join(' ', documented.Order(StringComparer.Ordinal)))) continue;
                var args = documented.Select(a => Regex.IsMatch(a, @"\.ya?ml$") && !a.StartsWith("runs/", StringComparison.Ordinal) ? Path.Combine(Repo, a) : a).ToList();
                string what = $"{where}: `ember {string.Join(' ', documented)}`";
                switch (args[0])
                {
                    case "train" when args.Contains("--resume"):
                        // the run to resume: one interrupted in its first epoch
                        var runs = Path.Combine(project, "resume");
                        Assert.Equal(130, TrainJob.Run(new TrainConfig { Model = "mlp", Epochs = 1, BatchSize = 64, Data = data, Project = runs, Plain = true }, null, TextWriter.Null, interruptAfterBatches: 1));
                        var interrupted = NewestRun(runs);
                        args[args.IndexOf("--resume") + 1] = interrupted;
                        Run(what, args);
                        Assert.Equal(2, File.ReadAllLines(Path.Combine(interrupted, "metrics.csv")).Length); // header + the finished epoch
                        Assert.True(Checkpoint.ReadState(Path.Combine(interrupted, "last")).EpochComplete, what);
                        break;
                    case "train":
                        var trainRuns = Path.Combine(project, "train");
                        foreach (var (option, value) in new[] { ("--epochs", "1"), ("--limit", "32"), ("--batch-size", "32"), ("--data", data), ("--project", trainRuns) })
                            Set(args, option, value);
                        Run(what, [.. args, "--plain"]);
                        var run = NewestRun(trainRuns);
                        var recorded = ConfigLoader.Load(Path.Combine(run, "args.yaml"));
                        for (int k = 1; k + 1 < documented.Length; k++) // the documented options are the run's
                        {
                            if (documented[k] == "--model") Assert.Equal(documented[k + 1], recorded.Model);
                            if (documented[k] == "--ema") Assert.Equal(double.Parse(documented[k + 1], System.Globalization.CultureInfo.InvariantCulture), recorded.Ema);
                            if (documented[k] == "--label-smoothing") Assert.Equal(double.Parse(documented[k + 1], System.Globalization.CultureInfo.InvariantCulture), recorded.LabelSmoothing);
                        }
                        if (documented.Contains("--augment")) Assert.True(recorded.Augment, what);
                        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
                        Checkpoint.ReadState(Path.Combine(run, "best"));
                        Checkpoint.ReadState(Path.Combine(run, "last"));
                        break;
                    case "evolve":
                        // the example base config with a 128-image budget on the tiny data; 2 generations instead of 30
                        int config = args.IndexOf("--config") + 1;
                        var baseYaml = File.ReadAllLines(args[config]).Where(l => !l.StartsWith("limit:", StringComparison.Ordinal)).Append("limit: 128").Append($"data: {data}");
                        args[config] = Path.Combine(temp, "evolve-base.yaml");
                        File.WriteAllLines(args[config], baseYaml);
                        Set(args, "--generations", "2");
                        var evolveRuns = Path.Combine(project, "evolve");
                        Set(args, "--project", evolveRuns);
                        Run(what, args);
                        var evolve = NewestRun(evolveRuns);
                        Assert.Equal(3, File.ReadAllLines(Path.Combine(evolve, "evolve.csv")).Length); // header + 2 trials
                        Assert.True(File.Exists(Path.Combine(evolve, "best.yaml")) && File.Exists(Path.Combine(evolve, "evolve.png")), what);
                        break;
                    case "ablate":
                        // the example study with one seed and one epoch of 128 images
                        // the two-component example runs 4 arms (default design); the imbalance study 7 and the pseudo-label study 3 (singles)
                        int arms = Path.GetFileName(args[1]) switch { "imbalance-study.yaml" => 7, "pseudo-label-study.yaml" => 3, _ => 4 };
                        var study = Regex.Replace(File.ReadAllText(args[1]), @"epochs: \d+", $"epochs: 1\n  limit: 128\n  data: {data}").Replace("seeds: [0, 1, 2]", "seeds: [0]");
                        study = Regex.Replace(study, @"labelled: \d+", "labelled: 40"); // of the 128 images
                        Assert.Contains("limit: 128", study);
                        args[1] = Path.Combine(temp, Path.GetFileName(args[1]));
                        File.WriteAllText(args[1], study);
                        var ablateRuns = Path.Combine(project, "ablate");
                        Run(what, [.. args, "--project", ablateRuns]);
                        var ablation = NewestRun(ablateRuns);
                        Assert.Equal(1 + arms, File.ReadAllLines(Path.Combine(ablation, "runs.csv")).Length); // one seed
                        Assert.True(File.Exists(Path.Combine(ablation, "ablation.csv")) && File.Exists(Path.Combine(ablation, "ablation.md")), what);
                        break;
                    default: // gradient-flow
                        // the recurrent experiment on a tiny budget: 12 steps per sequence, 3 training steps per run
                        if (args.Contains("--recurrent")) { Set(args, "--length", "12"); Set(args, "--steps", "3"); Set(args, "--hidden", "4"); }
                        int output = args.IndexOf("--output");
                        string png;
                        if (output > 0) png = args[output + 1] = Path.Combine(temp, Path.GetFileName(args[output + 1]));
                        else
                        {
                            args.AddRange(["--project", Path.Combine(project, "gradient-flow")]);
                            png = "";
                        }
                        Run(what, args);
                        if (png.Length == 0) png = Path.Combine(NewestRun(Path.Combine(project, "gradient-flow")), args.Contains("--recurrent") ? "recurrent-gradient-flow.png" : "gradient-flow.png");
                        if (args.Contains("--recurrent"))
                        {
                            var folder = Path.GetDirectoryName(png)!;
                            Assert.Equal(1 + 12, File.ReadAllLines(Path.Combine(folder, "step_gradient_norms.csv")).Length); // header + a row per step
                            Assert.Equal(1 + 6, File.ReadAllLines(Path.Combine(folder, "accuracy.csv")).Length);            // 3 cells × without/with clipping
                        }
                        Assert.True(File.Exists(png), $"{what}: no {png}");
                        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
                        break;
                }
                ran++;
            }
            Assert.True(ran >= 7, $"only {ran} documented train/evolve/ablate/gradient-flow commands ran");
        }
        finally { Directory.Delete(temp, true); }
    }

    // The documented value of an option replaced by the tiny budget's, or the option added.
    static void Set(List<string> args, string option, string value)
    {
        int at = args.IndexOf(option);
        if (at > 0) args[at + 1] = value;
        else args.AddRange([option, value]);
    }

    static void Run(string what, IReadOnlyList<string> args)
    {
        var (code, _, stderr) = CliFailureTests.Invoke([.. args]);
        Assert.True(code == 0, $"{what} exited {code} (as run: ember {string.Join(' ', args)}): {stderr}");
    }
}
