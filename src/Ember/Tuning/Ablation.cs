namespace Ember.Tuning;

/// <summary>
/// Ablation studies (消融实验, notes 003): starting from a baseline configuration A, switch named components on —
/// each alone (A+B, A+C), all together (A+B+C), and optionally every subset or the full model minus one — run each
/// variant with several seeds, and tabulate the chosen metrics as mean ± std with the change from the baseline.
/// The configuration is any type the caller owns (a record such as the CLI's train config, or a dictionary); a
/// component is a function that returns the configuration with that component switched on.
/// </summary>
public static class Ablation
{
    /// <summary>
    /// The variants of a study, in table order: baseline first, then by number of components, and within a size in the
    /// components' declared order (as itertools.combinations); the full combination is last. Duplicates (for example
    /// leave-one-out with two components, which equals the singles) appear once.
    /// </summary>
    public static IReadOnlyList<AblationVariant> Variants(IReadOnlyList<string> components, AblationDesign design = AblationDesign.Default, string baselineName = "baseline")
    {
        ValidateNames(components, baselineName);
        int n = components.Count;
        if ((design & AblationDesign.AllSubsets) != 0 && n > 16)
            throw new ArgumentException($"ablation: every subset of {n} components is {Math.Pow(2, n):G} runs per seed; use at most 16 components");
        var sets = new List<int[]> { Array.Empty<int>() };
        if (n > 0)
        {
            if ((design & AblationDesign.AllSubsets) != 0)
                for (int size = 1; size <= n; size++) sets.AddRange(Combinations(n, size));
            if ((design & AblationDesign.Singles) != 0) sets.AddRange(Combinations(n, 1));
            if ((design & AblationDesign.LeaveOneOut) != 0) sets.AddRange(Combinations(n, n - 1));
            if ((design & AblationDesign.Full) != 0) sets.Add(Enumerable.Range(0, n).ToArray());
        }
        var unique = new List<int[]>();
        foreach (var s in sets)
            if (!unique.Any(u => u.SequenceEqual(s))) unique.Add(s);
        unique.Sort(CompareSets);
        return unique.Select(s => new AblationVariant(
            string.Join("+", new[] { baselineName }.Concat(s.Select(i => components[i]))),
            s.Select(i => components[i]).ToArray(),
            n > 0 && s.Length == n)).ToList();
    }

    /// <summary>The configuration of <paramref name="variant"/>: the baseline with its components applied in declared order.</summary>
    public static TConfig Configure<TConfig>(TConfig baseline, IReadOnlyList<(string Name, Func<TConfig, TConfig> Enable)> components, AblationVariant variant)
    {
        var config = baseline;
        foreach (var (name, enable) in components)
            if (variant.Components.Contains(name)) config = enable(config);
        return config;
    }

    /// <summary>
    /// Runs the study: for every variant (see <see cref="Variants"/>) and every seed, builds the configuration and calls
    /// <paramref name="evaluate"/>(config, seed), which trains and returns metrics by name. <paramref name="onRun"/> is
    /// told of each finished run (for progress and for saving partial results); cancellation is checked between runs
    /// and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static AblationResult Run<TConfig>(
        TConfig baseline,
        IReadOnlyList<(string Name, Func<TConfig, TConfig> Enable)> components,
        Func<TConfig, long, IReadOnlyDictionary<string, double>> evaluate,
        AblationOptions? options = null,
        Action<AblationRun>? onRun = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        options ??= new AblationOptions();
        if (options.Seeds.Count == 0) throw new ArgumentException("ablation: at least one seed is required");
        if (options.Seeds.Distinct().Count() != options.Seeds.Count) throw new ArgumentException($"ablation: seeds must be distinct, got {string.Join(", ", options.Seeds)}");
        if (options.Decimals is < 0 or > 15) throw new ArgumentException($"ablation: decimals must be in [0, 15], got {options.Decimals}");
        var variants = Variants(components.Select(c => c.Name).ToList(), options.Design, options.BaselineName);

        var runs = new List<AblationRun>();
        IReadOnlyList<string>? metrics = options.Metrics;
        var perVariant = new List<(AblationVariant Variant, List<IReadOnlyDictionary<string, double>> Results)>();
        foreach (var variant in variants)
        {
            var config = Configure(baseline, components, variant);
            var results = new List<IReadOnlyDictionary<string, double>>();
            foreach (var seed in options.Seeds)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var m = evaluate(config, seed) ?? throw new InvalidOperationException($"ablation: the evaluation of '{variant.Name}' with seed {seed} returned null");
                metrics ??= m.Keys.ToList();
                var missing = metrics.Where(k => !m.ContainsKey(k)).ToList();
                if (missing.Count > 0)
                    throw new KeyNotFoundException($"ablation: run '{variant.Name}' with seed {seed} did not report {string.Join(", ", missing)}; it reported {string.Join(", ", m.Keys)}");
                var copy = new Dictionary<string, double>(m, StringComparer.Ordinal);
                var run = new AblationRun(variant, seed, copy);
                runs.Add(run);
                results.Add(copy);
                onRun?.Invoke(run);
            }
            perVariant.Add((variant, results));
        }

        var names = metrics!;
        var baseMeans = names.ToDictionary(k => k, k => perVariant[0].Results.Average(r => r[k]));
        var rows = perVariant.Select(pv => new AblationRow(pv.Variant, names.ToDictionary(k => k, k =>
        {
            var values = pv.Results.Select(r => r[k]).ToArray();
            double mean = values.Average();
            double std = values.Length < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
            return new MetricSummary(mean, std, pv.Variant.IsBaseline ? 0.0 : mean - baseMeans[k], values);
        }))).ToList();
        return new AblationResult(rows, runs, names, options.Seeds, options.Decimals);
    }

    static void ValidateNames(IReadOnlyList<string> components, string baselineName)
    {
        foreach (var name in components.Append(baselineName))
            if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny([',', '|', '\n', '"']) >= 0)
                throw new ArgumentException($"ablation: name '{name}' must be non-empty without ',', '|', '\"' or a newline (it labels table rows)");
        var dup = components.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"ablation: component '{dup.Key}' is given twice");
    }

    static IEnumerable<int[]> Combinations(int n, int k)
    {
        if (k < 0 || k > n) yield break;
        var idx = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            yield return (int[])idx.Clone();
            int i = k - 1;
            while (i >= 0 && idx[i] == n - k + i) i--;
            if (i < 0) yield break;
            idx[i]++;
            for (int j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
        }
    }

    static int CompareSets(int[] a, int[] b)
    {
        if (a.Length != b.Length) return a.Length.CompareTo(b.Length);
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) return a[i].CompareTo(b[i]);
        return 0;
    }
}
