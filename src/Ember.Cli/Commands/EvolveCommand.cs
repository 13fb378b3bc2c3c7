using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Tuning;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember evolve --generations N [--epochs E] [--config base.yaml] [--space space.yaml] [--time-budget S] [--seed S]
/// [--fitness "top1:1.0,val_loss:-0.1"] [--resume DIR]`: YOLOv5-style hyper-parameter evolution. Each trial trains the
/// base config with mutated hyper-parameters; runs/evolve/expN gets evolve.csv (a row per trial), best.yaml (a config
/// for `ember train --config`) and evolve.png, all rewritten after every trial.
/// </summary>
public static class EvolveCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create() => Build().Command;

    /// <summary>The request a command line asks for (parse errors become a <see cref="ConfigException"/>), without running it.</summary>
    internal static EvolveRequest Parse(params string[] args)
    {
        var (command, bind) = Build();
        var result = command.Parse(args);
        if (result.Errors.Count > 0) throw new ConfigException(string.Join("; ", result.Errors.Select(e => e.Message)));
        return bind(result);
    }

    static (Command Command, Func<ParseResult, EvolveRequest> Bind) Build()
    {
        var command = new Command("evolve", "Evolve training hyper-parameters with a genetic algorithm (YOLOv5's --evolve) into runs/evolve/expN");
        var config = new Option<FileInfo?>("--config", "-c") { Description = "base train config (YAML or JSON, the keys of `ember train`); default: the train defaults" };
        var space = new Option<FileInfo?>("--space") { Description = "search space YAML, key: [gain, lower, upper] or [gain, lower, upper, start]; default: lr, momentum (sgd), weight_decay, label_smoothing, warmup_steps" };
        var generations = new Option<int?>("--generations", "-g") { Description = "trials in evolve.csv when done (with --resume: counting the rows it has; default: the run's own target)" };
        var epochs = new Option<int?>("--epochs") { Description = "epochs per trial; default: the base config's" };
        var budget = new Option<double?>("--time-budget") { Description = "seconds per trial: training stops there and the weights reached are scored" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "continue an evolve folder, e.g. runs/evolve/exp2" };
        var seed = new Option<long?>("--seed") { Description = "seed of the mutations and parent draws (the trials train with the base config's seed); default 0" };
        var fitness = new Option<string?>("--fitness") { Description = $"weighted metrics to maximize, e.g. \"top1:1.0,val_loss:-0.1\"; metrics: {string.Join(", ", StudyTrial.MetricNames)}; default top1" };
        var parent = new Option<string?>("--parent") { Description = "single (one of the best 5, drawn by fitness) or weighted (their fitness-weighted mean); default single" };
        parent.AcceptOnlyFromAmong("single", "weighted");
        var project = new Option<string>("--project") { Description = "folder for the expN study folders", DefaultValueFactory = _ => "runs/evolve" };
        foreach (var o in new Option[] { config, space, generations, epochs, budget, resume, seed, fitness, parent, project }) command.Options.Add(o);
        EvolveRequest Bind(ParseResult parse) => new()
        {
            ConfigFile = parse.GetValue(config)?.FullName,
            SpaceFile = parse.GetValue(space)?.FullName,
            Generations = parse.GetValue(generations),
            Epochs = parse.GetValue(epochs),
            TimeBudget = parse.GetValue(budget),
            Resume = parse.GetValue(resume)?.FullName,
            Seed = parse.GetValue(seed),
            Fitness = parse.GetValue(fitness),
            Parent = parse.GetValue(parent),
            Project = parse.GetValue(project)!,
        };
        command.SetAction(parse => CliErrors.Run(() => Run(Bind(parse))));
        return (command, Bind);
    }

    /// <summary>Runs the evolution; returns the exit code (130 after Ctrl-C, 143 after SIGTERM; the folder can then be resumed).</summary>
    /// <param name="request">The options.</param>
    /// <param name="trialOutput">Where the trials' progress lines go (plain mode); null: the console.</param>
    public static int Run(EvolveRequest request, TextWriter? trialOutput = null)
    {
        // no other process may run the evolution while this one does (a second --resume of it is refused): a --resume
        // holds the folder before it reads or writes anything there (its args.yaml, the temporaries a kill left), a new
        // evolution as soon as its folder is made
        using var resumed = request.Resume is string folder ? RunFolderLock.Hold(folder, () => RunFolderCheck.ResumeCommand(folder, RunFolderKind.Evolve)) : null;
        var s = Settings.Resolve(request);
        using var held = request.Resume is null ? RunFolderLock.Hold(s.Folder, "ember evolve --resume") : null;
        var csv = Path.Combine(s.Folder, "evolve.csv");
        Evolver? evolving = null;
        int? started = null; // the generation whose trial began last
        var current = s.Base; // that trial's config

        // a full disk or memory running out ends the evolution saying what evolve.csv keeps and what --resume then does
        StudyTrial.Progress Progress()
        {
            int k = evolving?.NextGeneration ?? 0;
            var kept = k == 0 ? $"{csv} records no trial yet" : $"{csv} records {k} trial{(k == 1 ? "" : "s")}, whole";
            var resume = $"`ember evolve --resume {s.Folder}`";
            var defines = $"a smaller batch_size than {current.BatchSize} or another model than {current.Model} needs a new evolution, " +
                $"from a base config that sets it (this one's is {Path.Combine(s.Folder, "base.yaml")})";
            if (started == k)
                return new($"{kept}; generation {k} is not recorded", $"{resume} trains generation {k} again from scratch (with the same hyper-parameters) and goes on", defines);
            return new(kept, k >= s.Generations ? $"{resume} writes best.yaml and evolve.png (it trains nothing)" : $"{resume} goes on from generation {k}", defines);
        }
        return StudyTrial.Guard(Evolve, Progress);

        int Evolve()
        {
            Evolver evolver;
            try { evolver = new Evolver(s.Space, SearchSpaceFile.Initial(s.Base, s.Space, s.Starts), csv, new EvolverOptions { Seed = s.Seed, Parent = s.Parent, Fitness = s.Fitness }); }
            // a damaged evolve.csv is the folder's data (exit 3, as a damaged runs.csv of ablate); it names itself
            catch (FormatException e) { throw new InvalidDataException($"{e.Message}; is it the evolve.csv that ember evolve wrote?", e); }
            catch (KeyNotFoundException e) { throw new ConfigException($"cannot continue {csv}: {e.Message}"); }
            evolving = evolver;
            bool finished = evolver.NextGeneration >= s.Generations;
            // a finished evolution in a folder that cannot be written (ForResume lets only such a one through) is reported
            // as in a writable one when its files already are what the resume writes, else refused naming them
            bool writeNothing = false;
            if (s.ReadOnly)
            {
                if (finished) writeNothing = RunFolderCheck.UpToDate(s.Folder, Outputs(evolver, s), $"`ember evolve --resume {s.Folder}`");
                else RunFolderCheck.Writable(s.Folder, $"`ember evolve --resume {s.Folder}` trains generations {evolver.NextGeneration}–{s.Generations - 1} there; copy the folder somewhere writable (cp -r) and resume the copy");
            }
            // what the resume changes (--generations, --fitness, --time-budget) is recorded once the folder's files were read
            // whole: a resume refused for a damaged file leaves the folder as it was
            if (request.Resume is not null && !writeNothing) s.WriteArgs();

            if (finished)
            {
                Console.WriteLine($"{s.Folder} already has {evolver.NextGeneration} trials (--generations {s.Generations}); pass a larger --generations to continue");
                if (evolver.Best is not null && !writeNothing) WriteOutputs(evolver, s);
                if (evolver.Best is EvolveRecord done)
                    Console.WriteLine($"best: generation {done.Generation}, fitness {F(done.Fitness)}; train it with: ember train --config {Path.Combine(s.Folder, "best.yaml")}");
                return 0;
            }
            Console.WriteLine($"ember evolve: {s.Generations - evolver.NextGeneration} trials (generations {evolver.NextGeneration}–{s.Generations - 1}) of {s.Base.Model}, " +
                $"{s.Base.Epochs} epoch{(s.Base.Epochs == 1 ? "" : "s")} each{(s.TimeBudget is double b ? $" (at most {F(b)} s)" : "")}, " +
                $"evolving {string.Join(", ", s.Space.Names)}; fitness {s.Fitness} → {s.Folder}");

            string? lastRun = null;
            evolver.TrialCompleted += r =>
            {
                var metrics = string.Join("  ", r.Metrics.Select(m => $"{m.Key} {F(m.Value)}"));
                var values = string.Join(" ", r.Values.Select(v => $"{v.Key}={F(v.Value)}"));
                Console.WriteLine($"gen {r.Generation}/{s.Generations - 1}: fitness {F(r.Fitness)}  {metrics}  {values}  ({lastRun})");
                WriteOutputs(evolver, s);
            };
            // Ctrl-C and SIGTERM for the whole evolution: between trials (a trial's closing test and files, evolve.csv,
            // best.yaml, evolve.png) no trial's handler is there and the signal ended the process at once, unsaid; now the
            // evolution stops before its next trial, the finished one recorded (a second signal still ends it at once)
            using var signals = new SignalCancel();
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(signals.Token);
            int stopCode = 130;
            var summary = evolver.Run(s.Generations - evolver.NextGeneration, (hyp, _) =>
            {
                int g = evolver.NextGeneration;
                var trialConfig = SearchSpaceFile.Apply(s.Base, hyp, $"generation {g}");
                (started, current) = (g, trialConfig);
                try
                {
                    var (run, metrics) = StudyTrial.Run(trialConfig, Path.Combine(s.Folder, "trials", $"gen{g}"), s.TimeBudget is double t ? TimeSpan.FromSeconds(t) : null, trialOutput,
                        () => signals.Received);
                    lastRun = Path.GetRelativePath(s.Folder, run);
                    return new TrialResult(metrics);
                }
                catch (OperationCanceledException e)
                {
                    if (e is StudyTrial.Interrupted { ExitCode: var code }) stopCode = code;
                    interrupted.Cancel(); // the trial saw Ctrl-C or SIGTERM: stop the evolution too, without recording the cut trial
                    throw;
                }
            }, interrupted.Token);

            if (summary.Cancelled)
            {
                if (signals.Received is { } signal) stopCode = signal == PosixSignal.SIGTERM ? 143 : 130;
                Console.WriteLine($"interrupted after {evolver.NextGeneration} trials; continue with: ember evolve --resume {s.Folder}");
                return stopCode;
            }
            if (evolver.Best is EvolveRecord best)
                Console.WriteLine($"best: generation {best.Generation}, fitness {F(best.Fitness)}; train it with: ember train --config {Path.Combine(s.Folder, "best.yaml")}");
            return 0;
        }
    }

    // best.yaml, evolve.png: rewritten after every trial, so an interrupted run still has them.
    static void WriteOutputs(Evolver evolver, Settings s)
    {
        if (evolver.Best is not null) Ember.Interop.AtomicFile.WriteAllText(Path.Combine(s.Folder, "best.yaml"), BestYaml(evolver, s));
        StudyPlots.Evolve(evolver.PlotSeries(), Path.Combine(s.Folder, "evolve.png"));
    }

    static string BestYaml(Evolver evolver, Settings s)
    {
        var best = SearchSpaceFile.Apply(s.Base, evolver.BestHyperParameters(), "best trial");
        var header = evolver.BestYaml().Split('\n').Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#', ' '));
        return ConfigLoader.ToYaml(best, [.. header, "usage: ember train --config best.yaml"]);
    }

    // What the resume of a finished evolution writes: args.yaml (its options), and best.yaml and evolve.png once a trial
    // has a fitness (the picture only has to be there).
    static IEnumerable<(string Name, string? Text)> Outputs(Evolver evolver, Settings s)
    {
        yield return ("args.yaml", s.ArgsText());
        if (evolver.Best is null) yield break;
        yield return ("best.yaml", BestYaml(evolver, s));
        yield return ("evolve.png", null);
    }

    static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>The resolved settings: from the options for a new run, from the folder's files for --resume.</summary>
    sealed record Settings(string Folder, TrainConfig Base, SearchSpace Space, IReadOnlyDictionary<string, double> Starts,
        int Generations, long Seed, Fitness Fitness, ParentSelection Parent, double? TimeBudget)
    {
        /// <summary>A --resume of a finished evolution whose folder cannot be written: it writes nothing.</summary>
        public bool ReadOnly { get; init; }

        public static Settings Resolve(EvolveRequest r)
        {
            if (r.Generations is <= 0) throw new ConfigException($"--generations must be positive, got {r.Generations}");
            if (r.TimeBudget is double t && !(t > 0 && double.IsFinite(t))) throw new ConfigException($"--time-budget must be a positive number of seconds, got {t}");
            if (r.Epochs is <= 0) throw new ConfigException($"--epochs must be positive, got {r.Epochs}");
            if (r.Resume is string folder) return Resume(r, folder);

            if (r.Generations is null) throw new ConfigException("--generations is required (the number of trials, e.g. --generations 30)");
            var overrides = new Dictionary<string, string?>();
            if (r.Epochs is int e) overrides["epochs"] = e.ToString(CultureInfo.InvariantCulture);
            var baseConfig = TrainCommand.Resolve(r.ConfigFile, overrides);
            var (space, starts) = r.SpaceFile is string path ? SearchSpaceFile.Load(path) : SearchSpaceFile.Default(baseConfig);
            SearchSpaceFile.CheckLimits(baseConfig, space, r.SpaceFile ?? "default search space");
            var fitness = ParseFitness(r.Fitness ?? "top1");
            var settings = new Settings(RunFolder.Create(r.Project), baseConfig, space, starts, r.Generations.Value, r.Seed ?? 0, fitness, ParseParent(r.Parent ?? "single"), r.TimeBudget);
            try
            {
                AtomicWrite(settings.Folder, "base.yaml", ConfigLoader.ToYaml(baseConfig, ["the base config of this evolution (every trial starts from it)"]));
                AtomicWrite(settings.Folder, "space.yaml", SearchSpaceFile.ToYaml(space, starts));
                settings.WriteArgs();
            }
            catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
            {
                // nothing ran: no study folder rather than one that --resume refuses (it lacks what --resume reads); if it
                // cannot go either, the first failure is the one to report
                try { Directory.Delete(settings.Folder, recursive: true); }
                catch (Exception again) when (again is IOException or UnauthorizedAccessException) { }
                throw;
            }
            return settings;
        }

        static Settings Resume(EvolveRequest r, string folder)
        {
            var clash = new List<string>();
            if (r.ConfigFile is not null) clash.Add("--config");
            if (r.SpaceFile is not null) clash.Add("--space");
            if (r.Epochs is not null) clash.Add("--epochs");
            if (r.Seed is not null) clash.Add("--seed");
            if (r.Parent is not null) clash.Add("--parent");
            if (clash.Count > 0)
                throw new ConfigException($"{string.Join(", ", clash)} cannot be combined with --resume: the folder's base.yaml, space.yaml and args.yaml are used (only --generations, --fitness and --time-budget may change)");
            // Run holds the folder already: the check would find it held; a folder that cannot be written passes when the
            // evolution is finished (Run then reports it, writing nothing)
            bool writable = RunFolderCheck.ForResume(folder, RunFolderKind.Evolve, () => Finished(r, folder), lockCheck: false);
            foreach (var file in new[] { "args.yaml", "base.yaml", "space.yaml" })
                if (!File.Exists(Path.Combine(folder, file))) throw new FileNotFoundException($"{folder} is not an ember evolve folder: it has no {file}", Path.Combine(folder, file));
            var args = ReadArgs(Path.Combine(folder, "args.yaml"));
            var baseConfig = ConfigValidator.Validate(ConfigLoader.Load(Path.Combine(folder, "base.yaml")));
            var (space, starts) = SearchSpaceFile.Load(Path.Combine(folder, "space.yaml"));
            T Parse<T>(string text, string key) where T : IParsable<T>
                => T.TryParse(text, CultureInfo.InvariantCulture, out var v) ? v : throw new ConfigException($"{folder}/args.yaml: '{key}' expects a number, got '{text}'");
            string Arg(string key) => args.TryGetValue(key, out var v) && v is not null ? v : throw new ConfigException($"{folder}/args.yaml lacks '{key}'");
            double? storedBudget = args.TryGetValue("time_budget", out var tb) && tb is not null ? Parse<double>(tb, "time_budget") : null;
            var settings = new Settings(folder, baseConfig, space, starts,
                r.Generations ?? Parse<int>(Arg("generations"), "generations"), Parse<long>(Arg("seed"), "seed"),
                ParseFitness(r.Fitness ?? Arg("fitness")), ParseParent(Arg("parent")), r.TimeBudget ?? storedBudget);
            return settings with { ReadOnly = !writable }; // its args.yaml is written once evolve.csv was read (Run)
        }

        // Whether evolve.csv holds as many trials as the resume asks for (--generations, else args.yaml's): asked only of
        // a folder that cannot be written. Evolver reads the rows properly later; this counts them.
        static bool Finished(EvolveRequest r, string folder)
        {
            var csv = Path.Combine(folder, "evolve.csv");
            if (!File.Exists(csv)) return false;
            int? target = r.Generations;
            if (target is null && ReadArgs(Path.Combine(folder, "args.yaml")).TryGetValue("generations", out var g)
                && int.TryParse(g, NumberStyles.Integer, CultureInfo.InvariantCulture, out int stored)) target = stored;
            return target is int t && File.ReadLines(csv).Skip(1).Count(l => l.Length > 0) >= t;
        }

        public void WriteArgs() => AtomicWrite(Folder, "args.yaml", ArgsText());

        public string ArgsText()
        {
            return YamlFile.Write(new Dictionary<string, object?>
            {
                ["generations"] = Generations,
                ["seed"] = Seed,
                ["fitness"] = Fitness.ToString(),
                ["parent"] = Parent.ToString().ToLowerInvariant(),
                ["time_budget"] = TimeBudget,
            }, ["ember evolve settings (the base config is base.yaml, the search space space.yaml)"]);
        }

        static Dictionary<string, string?> ReadArgs(string path)
        {
            var result = YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Load(path), path, "a mapping of evolve settings"), path);
            return result;
        }

        static void AtomicWrite(string folder, string name, string text) => Ember.Interop.AtomicFile.WriteAllText(Path.Combine(folder, name), text);
    }

    /// <summary>Parses --fitness, checking every metric name against what trials report.</summary>
    internal static Fitness ParseFitness(string text)
    {
        Fitness fitness;
        try { fitness = Fitness.Parse(text); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new ConfigException($"--fitness '{text}': {e.Message}"); }
        foreach (var (metric, _) in fitness.Weights) StudyTrial.CheckMetric(metric, $"--fitness '{text}'");
        return fitness;
    }

    static ParentSelection ParseParent(string text) => text switch
    {
        "single" => ParentSelection.Single,
        "weighted" => ParentSelection.Weighted,
        _ => throw new ConfigException($"unknown parent selection '{text}'; valid choices: single, weighted"),
    };
}
