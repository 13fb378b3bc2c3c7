using Ember.Tuning;

namespace Ember.Tests.Tuning;

public class AblationTests
{
    sealed record Config(bool Smooth, bool Ema, double Lr, string Trace);

    static readonly Config Baseline = new(false, false, 0.01, "A");
    static readonly (string, Func<Config, Config>)[] Components =
    [
        ("B", c => c with { Smooth = true, Trace = c.Trace + "B" }),
        ("C", c => c with { Ema = true, Trace = c.Trace + "C" }),
    ];

    // Known additive effects: B adds 0.05 to top1, C adds 0.02; the seed adds noise +0.01, -0.01, 0 (mean 0, sample std 0.01).
    static readonly Dictionary<long, double> Noise = new() { [0] = 0.01, [1] = -0.01, [2] = 0.0 };
    static IReadOnlyDictionary<string, double> Evaluate(Config c, long seed)
    {
        double top1 = 0.70 + (c.Smooth ? 0.05 : 0) + (c.Ema ? 0.02 : 0) + Noise[seed];
        return new Dictionary<string, double> { ["top1"] = top1, ["loss"] = 2 * (1 - top1), ["seconds"] = 1 };
    }

    [Fact]
    public void Table_shows_the_known_deltas_and_the_std_across_seeds()
    {
        var r = Ablation.Run(Baseline, Components, Evaluate, new AblationOptions { BaselineName = "A", Metrics = ["top1", "loss"] });
        Assert.Equal(["A", "A+B", "A+C", "A+B+C"], r.Rows.Select(x => x.Variant.Name));
        Assert.Equal(12, r.Runs.Count);
        double[] expectedDelta = [0, 0.05, 0.02, 0.07];
        for (int i = 0; i < 4; i++)
        {
            var s = r.Rows[i].Metrics["top1"];
            Assert.Equal(0.70 + expectedDelta[i], s.Mean, 12);
            Assert.Equal(expectedDelta[i], s.Delta, 12);
            Assert.Equal(0.01, s.Std, 12); // sample std of (+0.01, -0.01, 0)
            Assert.Equal(-2 * expectedDelta[i], r.Rows[i].Metrics["loss"].Delta, 12);
            Assert.Equal(0.02, r.Rows[i].Metrics["loss"].Std, 12);
        }
        Assert.True(r["A+B+C"].Variant.IsFull);
        Assert.True(r["A"].Variant.IsBaseline);

        var md = r.ToMarkdown();
        var lines = md.Split('\n');
        Assert.Equal("| Variant | top1 | Δ top1 | loss | Δ loss |", lines[0]);
        Assert.Equal("| A (baseline) | 0.7000 ± 0.0100 | — | 0.6000 ± 0.0200 | — |", lines[2]);
        Assert.Equal("| A+B | 0.7500 ± 0.0100 | +0.0500 | 0.5000 ± 0.0200 | -0.1000 |", lines[3]);
        Assert.Equal("| A+C | 0.7200 ± 0.0100 | +0.0200 | 0.5600 ± 0.0200 | -0.0400 |", lines[4]);
        Assert.Equal("| A+B+C (final) | 0.7700 ± 0.0100 | +0.0700 | 0.4600 ± 0.0200 | -0.1400 |", lines[5]);
        Assert.Contains("3 seeds (0, 1, 2)", md);

        var csv = r.ToCsv().Split('\n');
        Assert.Equal("variant,components,seeds,top1_mean,top1_std,top1_delta,loss_mean,loss_std,loss_delta", csv[0]);
        var full = csv[4].Split(',');
        Assert.Equal(["A+B+C", "B+C", "3"], full[..3]);
        Assert.Equal(0.77, double.Parse(full[3], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal(0.07, double.Parse(full[5], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("", csv[1].Split(',')[1]);

        var bars = r.BarSeries("top1");
        Assert.Equal(["A", "A+B", "A+C", "A+B+C"], bars.Labels);
        Assert.Equal(0.75, bars.Means[1], 12);
        Assert.Equal(0.01, bars.Stds[3], 12);
        Assert.Equal(2, r.BarSeries().Count);
    }

    [Fact]
    public void Every_variant_runs_every_seed_with_components_applied_in_declared_order()
    {
        var seen = new List<(string Trace, long Seed)>();
        var order = new List<string>();
        var r = Ablation.Run(Baseline, Components, (c, s) => { seen.Add((c.Trace, s)); return Evaluate(c, s); },
            new AblationOptions { Seeds = [2, 0], Design = AblationDesign.AllSubsets }, run => order.Add(run.Variant.Name + "/" + run.Seed));
        Assert.Equal([("A", 2L), ("A", 0L), ("AB", 2L), ("AB", 0L), ("AC", 2L), ("AC", 0L), ("ABC", 2L), ("ABC", 0L)], seen);
        Assert.Equal("baseline/2", order[0]);
        Assert.Equal("baseline+B+C/0", order[^1]);
        Assert.Equal("A", Baseline.Trace); // the caller's baseline is untouched
        // Metrics default to every metric of the first run, in its order.
        Assert.Equal(["top1", "loss", "seconds"], r.MetricNames);
        Assert.Equal(0.0, r.Rows[3].Metrics["seconds"].Std);
    }

    [Theory]
    [InlineData(AblationDesign.Default, "A|A+B|A+C|A+D|A+E|A+B+C+D+E")]
    [InlineData(AblationDesign.LeaveOneOut | AblationDesign.Full, "A|A+B+C+D|A+B+C+E|A+B+D+E|A+C+D+E|A+B+C+D+E")]
    [InlineData(AblationDesign.Default | AblationDesign.LeaveOneOut, "A|A+B|A+C|A+D|A+E|A+B+C+D|A+B+C+E|A+B+D+E|A+C+D+E|A+B+C+D+E")]
    [InlineData(AblationDesign.Singles, "A|A+B|A+C|A+D|A+E")]
    public void Enumerations_are_right(AblationDesign design, string expected)
        => Assert.Equal(expected.Split('|'), Ablation.Variants(["B", "C", "D", "E"], design, "A").Select(v => v.Name));

    [Fact]
    public void All_subsets_are_enumerated_once_in_combination_order()
    {
        var v = Ablation.Variants(["B", "C", "D"], AblationDesign.AllSubsets | AblationDesign.Default | AblationDesign.LeaveOneOut, "A");
        Assert.Equal(["A", "A+B", "A+C", "A+D", "A+B+C", "A+B+D", "A+C+D", "A+B+C+D"], v.Select(x => x.Name));
        Assert.Equal(16, Ablation.Variants(["p", "q", "r", "s"], AblationDesign.AllSubsets).Count);
        Assert.Equal(["C", "D"], v[6].Components);
        Assert.Equal([true], v.Where(x => x.IsFull).Select(x => x.IsFull));
        // Two components: leave-one-out equals the singles and is not repeated.
        Assert.Equal(["A", "A+B", "A+C", "A+B+C"], Ablation.Variants(["B", "C"], AblationDesign.Default | AblationDesign.LeaveOneOut, "A").Select(x => x.Name));
    }

    [Fact]
    public void One_seed_shows_the_mean_only_and_errors_name_the_run()
    {
        var r = Ablation.Run(Baseline, Components, Evaluate, new AblationOptions { Seeds = [1], Metrics = ["top1"] });
        Assert.True(double.IsNaN(r.Rows[1].Metrics["top1"].Std));
        Assert.Contains("| baseline+B | 0.7400 | +0.0500 |", r.ToMarkdown());

        var e = Assert.Throws<KeyNotFoundException>(() => Ablation.Run(Baseline, Components,
            (c, s) => c.Ema ? new Dictionary<string, double> { ["acc"] = 1 } : Evaluate(c, s), new AblationOptions { Metrics = ["top1"] }));
        Assert.Contains("'baseline+C' with seed 0", e.Message);
        Assert.Contains("top1", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Ablation.Variants(["B", "B"]));
        Assert.Contains("'B'", e2.Message);
    }
}
