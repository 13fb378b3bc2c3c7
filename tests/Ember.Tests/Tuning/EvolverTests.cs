using Ember.Tuning;

namespace Ember.Tests.Tuning;

public class EvolverTests
{
    // Optimum c inside the limits; the objective is scaled by each range so every key matters.
    static readonly SearchSpace Space = new SearchSpace()
        .Add("lr", 1, 0.01, 1.0)
        .Add("width", 1, 0.1, 10.0)
        .Add("momentum", 0.3, 0.6, 0.98)
        .Add("dropout", 1, 0.0, 1.0);
    static readonly Dictionary<string, double> Optimum = new() { ["lr"] = 0.3, ["width"] = 2.5, ["momentum"] = 0.9, ["dropout"] = 0.7 };
    static readonly Dictionary<string, double> Initial = new() { ["lr"] = 0.9, ["width"] = 8.0, ["momentum"] = 0.65, ["dropout"] = 0.1, ["epochs"] = 3 };

    static TrialResult Objective(Dictionary<string, double> h)
    {
        double f = 0;
        foreach (var p in Space) { double d = (h[p.Name] - Optimum[p.Name]) / (p.Upper - p.Lower); f -= d * d; }
        return new TrialResult(("top1", f), ("top5", 2 * f));
    }

    static string TempCsv() => Path.Combine(Path.GetTempPath(), "ember-evolve-" + Guid.NewGuid().ToString("N"), "evolve.csv");

    [Theory]
    [InlineData(ParentSelection.Single)]
    [InlineData(ParentSelection.Weighted)]
    public void Fitness_improves_over_generations(ParentSelection parent)
    {
        var ev = new Evolver(Space, Initial, null, new EvolverOptions { Seed = 7, Parent = parent });
        ev.Run(200, Objective);
        var f = ev.History.Select(r => r.Fitness).ToArray();
        Assert.Equal(200, f.Length);
        double first = f[..5].Max(), last = f[^5..].Max();
        Assert.True(last > first + 0.05, $"best of first 5 = {first}, best of last 5 = {last}");
        // The best found lies much closer to the optimum than the start (fitness of the start is about -1.47).
        Assert.True(ev.Best!.Fitness > -0.05, $"best fitness {ev.Best.Fitness}");
        foreach (var p in Space) Assert.InRange(Math.Abs(ev.Best.Values[p.Name] - Optimum[p.Name]) / (p.Upper - p.Lower), 0, 0.15);
        Assert.Equal(-1.46878, f[0], 5); // generation 0 runs the initial values unchanged
    }

    [Fact]
    public void Limits_are_never_violated_even_when_the_optimum_lies_outside_them()
    {
        // Odd limits (not multiples of 1e-5) so that rounding to 5 decimals would step past them without the second clip.
        var space = new SearchSpace().Add("a", 2, 1.234567e-3, 0.0123456789).Add("b", 1, 0.333333, 0.777777).Add("frozen", 0, 0, 10);
        var init = new Dictionary<string, double> { ["a"] = 0.005, ["b"] = 0.5, ["frozen"] = 4.2 };
        var ev = new Evolver(space, init, null, new EvolverOptions { Seed = 3 });
        var seen = new List<Dictionary<string, double>>();
        ev.Run(150, h =>
        {
            seen.Add(h);
            return new TrialResult(("top1", h["a"] * 100 - h["b"])); // pushes a up and b down, past their limits
        });
        foreach (var h in seen)
        {
            Assert.InRange(h["a"], 1.234567e-3, 0.0123456789);
            Assert.InRange(h["b"], 0.333333, 0.777777);
            Assert.Equal(4.2, h["frozen"]); // gain 0 never mutates
        }
        Assert.Contains(seen, h => h["a"] == 0.0123456789); // the search reached the bound and was clipped there exactly
        Assert.Contains(seen, h => h["b"] == 0.333333);
    }

    [Fact]
    public void Resume_continues_the_file_exactly_as_an_uninterrupted_run()
    {
        string full = TempCsv(), split = TempCsv();
        var opts = new EvolverOptions { Seed = 11 };
        new Evolver(Space, Initial, full, opts).Run(30, Objective);

        var first = new Evolver(Space, Initial, split, opts);
        Assert.Equal(0, first.NextGeneration);
        first.Run(12, Objective);
        var resumed = new Evolver(Space, Initial, split, opts);
        Assert.Equal(12, resumed.NextGeneration);
        Assert.Equal(12, resumed.History.Count);
        Assert.Equal(first.History[11].Values, resumed.History[11].Values);
        var summary = resumed.Run(18, Objective);
        Assert.Equal(18, summary.Completed);
        Assert.Equal(30, resumed.NextGeneration);

        var a = File.ReadAllLines(full);
        var b = File.ReadAllLines(split);
        Assert.Equal(31, b.Length); // header + generations 0..29
        Assert.StartsWith("29,", b[^1]);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Same_seed_gives_the_same_file_and_another_seed_does_not()
    {
        string p1 = TempCsv(), p2 = TempCsv(), p3 = TempCsv();
        new Evolver(Space, Initial, p1, new EvolverOptions { Seed = 5 }).Run(15, Objective);
        new Evolver(Space, Initial, p2, new EvolverOptions { Seed = 5 }).Run(15, Objective);
        new Evolver(Space, Initial, p3, new EvolverOptions { Seed = 6 }).Run(15, Objective);
        Assert.Equal(File.ReadAllText(p1), File.ReadAllText(p2));
        Assert.NotEqual(File.ReadAllText(p1), File.ReadAllText(p3));
        var lines = File.ReadAllLines(p1);
        Assert.Equal("generation,fitness,top1,top5,lr,width,momentum,dropout", lines[0]);
    }

    [Fact]
    public void Trials_get_the_extra_keys_and_the_best_yaml_lists_all_keys_in_order()
    {
        var ev = new Evolver(Space, Initial, null, new EvolverOptions { Seed = 1 });
        ev.Run(10, h => { Assert.Equal(3.0, h["epochs"]); return Objective(h); });
        var yaml = ev.BestYaml();
        var keys = yaml.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l[..l.IndexOf(':')]).ToArray();
        Assert.Equal(["lr", "width", "momentum", "dropout", "epochs"], keys);
        Assert.Contains("epochs: 3\n", yaml);
        var best = ev.BestHyperParameters();
        Assert.Contains($"lr: {best["lr"].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\n", yaml);
        Assert.Equal(ev.History.Max(r => r.Fitness), ev.Best!.Fitness);

        var series = ev.PlotSeries();
        Assert.Equal(4, series.Count);
        Assert.Equal("width", series[1].Name);
        Assert.Equal(10, series[1].Values.Length);
        Assert.Equal(ev.Best.Values["width"], series[1].BestValue);
        Assert.Equal(ev.History[3].Fitness, series[1].Fitness[3]);
    }

    [Fact]
    public void Fitness_is_a_weighted_sum_and_a_missing_metric_names_itself()
    {
        var f = Fitness.Parse("top1:0.9, top5:0.1,val_loss:-1");
        Assert.Equal(0.9 * 0.8 + 0.1 * 0.95 - 0.3, f.Evaluate(new Dictionary<string, double> { ["top1"] = 0.8, ["top5"] = 0.95, ["val_loss"] = 0.3 }), 12);
        var e = Assert.Throws<KeyNotFoundException>(() => Fitness.Default.Evaluate(new Dictionary<string, double> { ["acc"] = 1 }));
        Assert.Contains("'top1'", e.Message);
        Assert.Contains("acc", e.Message);

        var ev = new Evolver(Space, Initial, null, new EvolverOptions { Seed = 2, Fitness = Fitness.Parse("top5") });
        ev.Run(3, Objective);
        Assert.All(ev.History, r => Assert.Equal(r.Metrics["top5"], r.Fitness));
    }

    [Fact]
    public void Mutation_factors_follow_yolov5()
    {
        var rng = new Generator(0);
        var gains = new[] { 1.0, 0.0, 2.0, 0.3 };
        int changedFirst = 0, n = 4000;
        for (int t = 0; t < n; t++)
        {
            var v = Evolver.MutationFactors(gains, 0.8, 0.2, rng);
            Assert.Equal(1.0, v[1]);
            Assert.Contains(v, x => x != 1.0);
            Assert.All(v, x => Assert.InRange(x, 0.3, 3.0));
            if (v[0] != 1.0) changedFirst++;
        }
        // Each key mutates with probability mp = 0.8 (slightly more, as all-unchanged draws are redrawn).
        Assert.InRange(changedFirst / (double)n, 0.78, 0.84);
    }

    [Fact]
    public void Cancellation_stops_between_trials_and_keeps_the_rows()
    {
        using var cts = new CancellationTokenSource();
        string path = TempCsv();
        var ev = new Evolver(Space, Initial, path, new EvolverOptions { Seed = 4 });
        int calls = 0;
        var s = ev.Run(10, (h, ct) => { if (++calls == 3) cts.Cancel(); return Objective(h); }, cts.Token);
        Assert.True(s.Cancelled);
        Assert.Equal(3, s.Completed);
        Assert.Equal(4, File.ReadAllLines(path).Length);

        // A trial that observes the token and throws is not recorded.
        using var cts2 = new CancellationTokenSource();
        var s2 = ev.Run(5, (h, ct) => { cts2.Cancel(); ct.ThrowIfCancellationRequested(); return Objective(h); }, cts2.Token);
        Assert.Equal(0, s2.Completed);
        Assert.Equal(3, new Evolver(Space, Initial, path).NextGeneration);
    }

    [Fact]
    public void Errors_name_the_problem()
    {
        string path = TempCsv();
        new Evolver(Space, Initial, path, new EvolverOptions { Seed = 4 }).Run(2, Objective);
        var other = new SearchSpace().Add("lr", 1, 0.01, 1.0).Add("width", 1, 0.1, 10.0);
        var e = Assert.Throws<FormatException>(() => new Evolver(other, Initial, path));
        Assert.Contains("momentum", e.Message);
        Assert.Contains("[lr, width]", e.Message);

        var e2 = Assert.Throws<ArgumentException>(() => new Evolver(Space, new Dictionary<string, double> { ["lr"] = 0.1 }, null));
        Assert.Contains("width", e2.Message);

        var e3 = Assert.Throws<ArgumentException>(() => new SearchSpace().Add("x", 1, 2.0, 1.0));
        Assert.Contains("'x'", e3.Message);
        Assert.Contains("[2, 1]", e3.Message);

        // A header-only file fixes the metric columns too.
        string headerOnly = TempCsv();
        Directory.CreateDirectory(Path.GetDirectoryName(headerOnly)!);
        File.WriteAllText(headerOnly, "generation,fitness,top1,top5,lr,width,momentum,dropout\n");
        var resumed = new Evolver(Space, Initial, headerOnly);
        Assert.Equal(0, resumed.NextGeneration);
        Assert.Throws<ArgumentException>(() => resumed.Run(1, _ => new TrialResult(("acc", 1.0))));
        resumed.Run(2, Objective);
        Assert.Equal(3, File.ReadAllLines(headerOnly).Length);

        var ev = new Evolver(Space, Initial, null);
        ev.Run(1, Objective);
        var e4 = Assert.Throws<ArgumentException>(() => ev.Run(1, _ => new TrialResult(("acc", 1.0))));
        Assert.Contains("[acc]", e4.Message);
        Assert.Contains("[top1, top5]", e4.Message);
    }
}
