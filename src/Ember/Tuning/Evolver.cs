using System.Globalization;
using System.Text;

namespace Ember.Tuning;

/// <summary>
/// Hyper-parameter evolution with a genetic algorithm, as YOLOv5's train.py does it (<c>--evolve</c>): each generation
/// takes the best n rows of evolve.csv so far, builds a parent ('single': one drawn with fitness weights; 'weighted':
/// their fitness-weighted mean), mutates it multiplicatively — v = (g·[r &lt; mp]·randn·random·sigma + 1).clip(0.3, 3.0),
/// redrawn until something changes — clips to the limits, runs the trial and appends the result to evolve.csv.
/// Generation 0 runs the initial values unchanged. An existing evolve.csv is resumed: its rows count as history and
/// generation numbers continue.
/// </summary>
/// <remarks>
/// The mutation is multiplicative, so a hyper-parameter whose parent value is 0 stays 0 (as in YOLOv5): start such
/// keys slightly above 0 if they should be searched. Each generation g draws from a <see cref="Generator"/> seeded by
/// (seed, g), so the proposals depend only on the seed and on the rows before them: a resumed run is bit-identical to
/// an uninterrupted one when the trial function is deterministic.
/// </remarks>
public sealed class Evolver
{
    readonly SearchSpace space;
    readonly List<(string Key, double Value)> initial;
    readonly EvolverOptions options;
    readonly List<EvolveRecord> history = [];
    List<string>? metricNames;

    /// <summary>
    /// An evolver over <paramref name="space"/> starting from <paramref name="initial"/> (which must hold every key of the
    /// space; extra keys are passed to the trials unchanged and kept in the YAML output). When <paramref name="csvPath"/>
    /// names an existing evolve.csv it is read and continued; null keeps the history in memory only.
    /// </summary>
    public Evolver(SearchSpace space, IReadOnlyDictionary<string, double> initial, string? csvPath, EvolverOptions? options = null)
    {
        this.space = space ?? throw new ArgumentNullException(nameof(space));
        this.options = options ?? new EvolverOptions();
        this.options.Validate();
        if (space.Count == 0) throw new ArgumentException("evolver: the search space is empty");
        if (space.All(p => p.Gain == 0)) throw new ArgumentException("evolver: every hyper-parameter has gain 0, so nothing can mutate");
        var missing = space.Names.Where(n => !initial.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"evolver: initial values lack {string.Join(", ", missing)} (the search space has {string.Join(", ", space.Names)})");
        this.initial = initial.Select(kv => (kv.Key, kv.Value)).ToList();
        CsvPath = csvPath;
        if (csvPath is not null && File.Exists(csvPath))
        {
            var (metrics, rows) = EvolveCsv.Read(csvPath, space, this.options.Fitness);
            if (metrics.Count > 0) metricNames = metrics; // a header-only file still fixes the columns
            for (int i = 0; i < rows.Count; i++)
            {
                if (rows[i].Generation != i) throw new FormatException($"evolve.csv ({csvPath}): row {i + 1} has generation {rows[i].Generation}, expected {i}");
                history.Add(rows[i]);
            }
        }
    }

    /// <summary>The search space.</summary>
    public SearchSpace Space => space;

    /// <summary>The settings.</summary>
    public EvolverOptions Options => options;

    /// <summary>The evolve.csv this evolver appends to (null: in memory only).</summary>
    public string? CsvPath { get; }

    /// <summary>Every trial so far (from the file and from this instance), in generation order.</summary>
    public IReadOnlyList<EvolveRecord> History => history;

    /// <summary>The generation the next trial will have (= rows so far).</summary>
    public int NextGeneration => history.Count;

    /// <summary>The metric names of the evolve.csv columns (null before the first trial).</summary>
    public IReadOnlyList<string>? MetricNames => metricNames;

    /// <summary>Raised after each trial is appended (for progress output).</summary>
    public event Action<EvolveRecord>? TrialCompleted;

    /// <summary>The best trial so far (highest fitness; the earliest on ties; NaN never wins), or null.</summary>
    public EvolveRecord? Best
    {
        get
        {
            EvolveRecord? best = null;
            foreach (var r in history)
                if (!double.IsNaN(r.Fitness) && (best is null || r.Fitness > best.Fitness)) best = r;
            return best;
        }
    }

    /// <summary>Runs <paramref name="generations"/> more trials (see the other overload).</summary>
    public EvolveSummary Run(int generations, Func<Dictionary<string, double>, TrialResult> trial, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trial);
        return Run(generations, (h, _) => trial(h), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="generations"/> more trials: propose, call <paramref name="trial"/> with the full
    /// hyper-parameter dictionary (initial keys with the evolved ones replaced) and the token, append the row to
    /// evolve.csv. Cancellation is checked before each trial; a trial that throws <see cref="OperationCanceledException"/>
    /// after the token fired is not recorded. A per-trial time budget is the trial's business.
    /// </summary>
    public EvolveSummary Run(int generations, Func<Dictionary<string, double>, CancellationToken, TrialResult> trial, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trial);
        if (generations < 0) throw new ArgumentOutOfRangeException(nameof(generations), generations, "evolver: generations must be >= 0");
        int done = 0;
        for (; done < generations; done++)
        {
            if (cancellationToken.IsCancellationRequested) return new EvolveSummary(done, true, Best);
            var proposal = Propose();
            TrialResult result;
            try { result = trial(Full(proposal), cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return new EvolveSummary(done, true, Best); }
            Record(proposal, result);
        }
        return new EvolveSummary(done, false, Best);
    }

    /// <summary>
    /// Records a trial run outside <see cref="Run(int, Func{Dictionary{string, double}, TrialResult}, CancellationToken)"/>
    /// (for example proposals evaluated in parallel by the caller): appends it as the next generation.
    /// </summary>
    public EvolveRecord Record(IReadOnlyDictionary<string, double> values, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var h = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in space)
            h[p.Name] = values.TryGetValue(p.Name, out double v) ? v : throw new ArgumentException($"evolver: recorded values lack '{p.Name}'");
        if (metricNames is null)
        {
            if (result.MetricNames.Count == 0) throw new ArgumentException("evolver: a trial must report at least one metric");
            foreach (var m in result.MetricNames)
                if (m.Contains(',') || m.Contains('\n')) throw new ArgumentException($"evolver: metric name '{m}' must not contain ',' or a newline (it is a CSV column)");
            metricNames = [.. result.MetricNames];
        }
        else if (result.Metrics.Count != metricNames.Count || metricNames.Any(m => !result.Metrics.ContainsKey(m)))
            throw new ArgumentException($"evolver: trial reported metrics [{string.Join(", ", result.MetricNames)}], expected the evolve.csv columns [{string.Join(", ", metricNames)}]");
        var metrics = metricNames.ToDictionary(m => m, m => result.Metrics[m], StringComparer.Ordinal);
        var record = new EvolveRecord(history.Count, options.Fitness.Evaluate(metrics), metrics, h);
        if (CsvPath is not null)
        {
            var text = new StringBuilder();
            if (!File.Exists(CsvPath) || new FileInfo(CsvPath).Length == 0)
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(CsvPath));
                if (dir is not null) Directory.CreateDirectory(dir);
                text.Append(EvolveCsv.Header(metricNames, space)).Append('\n');
            }
            text.Append(EvolveCsv.Row(record, metricNames, space)).Append('\n');
            // The whole file is rewritten through a temporary, not appended to: an append cut by a full disk or a kill
            // left half a row, which --resume then refused (or read as a shorter number).
            var before = File.Exists(CsvPath) ? File.ReadAllText(CsvPath) : "";
            Interop.AtomicFile.WriteAllText(CsvPath, before + text);
        }
        history.Add(record);
        TrialCompleted?.Invoke(record);
        return record;
    }

    /// <summary>
    /// The evolved hyper-parameters for the next generation (<see cref="NextGeneration"/>): the initial values (clipped)
    /// for generation 0, else a mutated parent. Deterministic given the seed and the history.
    /// </summary>
    public Dictionary<string, double> Propose()
    {
        int g = history.Count;
        var x = new double[space.Count];
        var candidates = history.Where(r => !double.IsNaN(r.Fitness)).ToList();
        if (candidates.Count == 0)
        {
            var init = initial.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            for (int i = 0; i < x.Length; i++) x[i] = init[space[i].Name];
            return Constrain(x);
        }
        var rng = new Generator(GenerationSeed(options.Seed, g));

        // Top n by fitness, descending; the stable sort keeps the earlier row first on ties.
        var top = candidates.OrderByDescending(r => r.Fitness).Take(options.TopN).ToList();
        int n = top.Count;
        double min = top.Min(r => r.Fitness);
        var w = top.Select(r => r.Fitness - min + 1e-6).ToArray();
        if (options.Parent == ParentSelection.Single || n == 1)
        {
            int pick = n == 1 ? 0 : WeightedChoice(w, rng);
            for (int i = 0; i < x.Length; i++) x[i] = top[pick].Values[space[i].Name];
        }
        else
        {
            double sw = w.Sum();
            for (int i = 0; i < x.Length; i++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += top[k].Values[space[i].Name] * w[k];
                x[i] = s / sw;
            }
        }
        var v = MutationFactors(space.Select(p => p.Gain).ToArray(), options.MutationProbability, options.Sigma, rng);
        for (int i = 0; i < x.Length; i++) x[i] *= v[i];
        return Constrain(x);
    }

    /// <summary>
    /// YOLOv5's mutation factors: v = (g·[r &lt; mp]·randn·random·sigma + 1).clip(0.3, 3.0), with r and randn drawn per
    /// hyper-parameter and one shared uniform "random", redrawn while every factor is exactly 1.
    /// </summary>
    internal static double[] MutationFactors(double[] gains, double mp, double sigma, Generator rng)
    {
        int ng = gains.Length;
        var v = new double[ng];
        var r = new double[ng];
        var z = new double[ng];
        while (true)
        {
            for (int i = 0; i < ng; i++) r[i] = rng.NextDouble();
            for (int i = 0; i < ng; i++) z[i] = rng.NextNormal();
            double scale = rng.NextDouble();
            bool changed = false;
            for (int i = 0; i < ng; i++)
            {
                double mask = r[i] < mp ? 1.0 : 0.0;
                v[i] = Math.Clamp(gains[i] * mask * z[i] * scale * sigma + 1.0, 0.3, 3.0);
                changed |= v[i] != 1.0;
            }
            if (changed) return v;
        }
    }

    // random.choices(range(n), weights=w): the first index whose cumulative weight exceeds u·Σw.
    static int WeightedChoice(double[] w, Generator rng)
    {
        double total = w.Sum(), u = rng.NextDouble() * total, c = 0;
        for (int i = 0; i < w.Length; i++)
        {
            c += w[i];
            if (u < c) return i;
        }
        return w.Length - 1;
    }

    Dictionary<string, double> Constrain(double[] x)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < x.Length; i++)
        {
            var p = space[i];
            double v = p.Clip(x[i]);
            if (options.Decimals is int dec) v = p.Clip(Math.Round(v, dec, MidpointRounding.ToEven)); // clip again: rounding may step past a limit
            d[p.Name] = v;
        }
        return d;
    }

    Dictionary<string, double> Full(IReadOnlyDictionary<string, double> evolved)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in initial) d[k] = evolved.TryGetValue(k, out double e) ? e : v;
        return d;
    }

    // SplitMix64 of (seed, generation): distinct, well-mixed seeds for every generation of every run.
    static long GenerationSeed(long seed, int generation)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)generation + 0xD1B54A32D192ED03UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return unchecked((long)(z ^ (z >> 31)));
    }

    /// <summary>
    /// The best trial's hyper-parameters as YAML (<c>key: value</c>, keys in the order of the initial dictionary, the
    /// non-evolved ones unchanged), headed by comments giving the generation, fitness and metrics, as YOLOv5's
    /// hyp_evolve.yaml. Usable as an `ember train` config when the keys are its option names.
    /// </summary>
    public string BestYaml()
    {
        var best = Best ?? throw new InvalidOperationException("evolver: no trial has a fitness yet, so there is no best");
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Ember hyper-parameter evolution: best of {history.Count} trials (generation {best.Generation})\n");
        sb.Append(CultureInfo.InvariantCulture, $"# fitness ({options.Fitness}): {EvolveCsv.F(best.Fitness)}\n");
        sb.Append("# metrics: ").Append(string.Join(", ", best.Metrics.Select(m => m.Key + "=" + EvolveCsv.F(m.Value)))).Append('\n');
        foreach (var (k, v) in Full(best.Values)) sb.Append(k).Append(": ").Append(EvolveCsv.F(v)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The best trial's full hyper-parameter dictionary (initial keys, evolved values).</summary>
    public Dictionary<string, double> BestHyperParameters()
        => Full((Best ?? throw new InvalidOperationException("evolver: no trial has a fitness yet, so there is no best")).Values);

    /// <summary>The data of evolve.png: one panel per hyper-parameter, its value against fitness for every trial.</summary>
    public IReadOnlyList<EvolvePlotSeries> PlotSeries()
    {
        var best = Best;
        var fit = history.Select(r => r.Fitness).ToArray();
        return space.Select(p => new EvolvePlotSeries(p.Name, history.Select(r => r.Values[p.Name]).ToArray(), fit,
            best?.Values[p.Name] ?? double.NaN, best?.Fitness ?? double.NaN)).ToList();
    }
}
