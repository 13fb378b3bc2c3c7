using System.Globalization;
using Ember.Tuning;
using ScottPlot;

namespace Ember.Cli.Reporting;

/// <summary>The pictures of the study commands: evolve.png (`ember evolve`) and ablation.png (`ember ablate`).</summary>
public static class StudyPlots
{
    /// <summary>
    /// YOLOv5's plot_evolve: one panel per hyper-parameter, every trial's value (x) against its fitness (y), points
    /// coloured by generation (dark: early, light: late), the best trial marked with a red cross and named in the title.
    /// </summary>
    public static void Evolve(IReadOnlyList<EvolvePlotSeries> series, string path)
    {
        int n = series.Count;
        if (n == 0) throw new ArgumentException("evolve.png: no hyper-parameters to plot");
        int columns = n <= 3 ? n : n == 4 ? 2 : 3, rows = (n + columns - 1) / columns;
        var multi = new Multiplot();
        multi.AddPlots(n);
        multi.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int i = 0; i < n; i++)
        {
            var s = series[i];
            var plot = multi.GetPlot(i);
            int count = s.Values.Length;
            for (int k = 0; k < count; k++)
            {
                if (!double.IsFinite(s.Fitness[k])) continue;
                // 0.9 at most: Viridis' last yellow is hard to see on white
                var color = colormap.GetColor(count == 1 ? 0.0 : 0.9 * k / (count - 1));
                plot.Add.Marker(s.Values[k], s.Fitness[k], MarkerShape.FilledCircle, 9, color);
            }
            if (double.IsFinite(s.BestFitness))
            {
                var best = plot.Add.Marker(s.BestValue, s.BestFitness, MarkerShape.Cross, 22, Colors.Red);
                best.MarkerLineWidth = 3;
            }
            plot.Title(double.IsFinite(s.BestFitness) ? $"{s.Name} = {G(s.BestValue)}" : s.Name);
            plot.XLabel(s.Name);
            plot.YLabel("fitness");
            Pad(plot, s.Values, s.Fitness);
        }
        PlotFile.SavePng(multi, path, 430 * columns, 360 * rows);
    }

    // Axis limits with a margin, so that a single point or identical values still give a readable panel.
    static void Pad(Plot plot, double[] xs, double[] ys)
    {
        var (x0, x1) = Range(xs);
        var (y0, y1) = Range(ys);
        plot.Axes.SetLimits(x0, x1, y0, y1);
    }

    static (double, double) Range(double[] values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) return (0, 1);
        double lo = finite.Min(), hi = finite.Max();
        double pad = hi > lo ? 0.1 * (hi - lo) : Math.Max(Math.Abs(lo) * 0.05, 1e-3);
        return (lo - pad, hi + pad);
    }

    /// <summary>
    /// The ablation bar plot: one panel per metric, a bar per variant (mean over the seeds) with a ±std error bar, the
    /// baseline in grey. Tick labels give the variant, its mean and its change from the baseline; the y axis is zoomed to
    /// the bars' range (error bars included), since the differences of interest are small.
    /// </summary>
    public static void Ablation(IReadOnlyList<AblationBarSeries> metrics, int seeds, string path)
    {
        int n = metrics.Count;
        if (n == 0) throw new ArgumentException("ablation.png: no metrics to plot");
        var multi = new Multiplot();
        multi.AddPlots(n);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var palette = new ScottPlot.Palettes.Category10();
        int variants = metrics[0].Labels.Length;
        for (int i = 0; i < n; i++)
        {
            var m = metrics[i];
            var plot = multi.GetPlot(i);
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int k = 0; k < m.Means.Length; k++)
            {
                double e = double.IsFinite(m.Stds[k]) ? m.Stds[k] : 0;
                lo = Math.Min(lo, m.Means[k] - e);
                hi = Math.Max(hi, m.Means[k] + e);
            }
            double pad = hi > lo ? 0.25 * (hi - lo) : Math.Max(Math.Abs(lo) * 0.01, 1e-3);
            double bottom = lo - pad;
            var bars = new List<Bar>();
            for (int k = 0; k < m.Means.Length; k++)
            {
                bool hasStd = double.IsFinite(m.Stds[k]);
                bars.Add(new Bar
                {
                    Position = k,
                    Value = m.Means[k],
                    ValueBase = bottom,
                    Error = hasStd ? m.Stds[k] : 0,
                    FillColor = k == 0 ? Colors.Gray : palette.GetColor(k - 1),
                });
            }
            plot.Add.Bars(bars);
            // the numbers go under the bars: on top they would cross the error bars
            var labels = m.Labels.Select((label, k) => $"{label}\n{N(m.Means[k])}" + (k == 0 ? "" : $" ({(m.Deltas[k] >= 0 ? "+" : "")}{N(m.Deltas[k])})")).ToArray();
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, labels.Length).Select(k => (double)k).ToArray(), labels);
            plot.Axes.Bottom.MajorTickStyle.Length = 0;
            plot.Axes.SetLimits(-0.6, variants - 0.4, bottom, hi + 1.5 * pad);
            plot.Title($"{m.Metric}: mean ± std over {seeds} seed{(seeds == 1 ? "" : "s")}");
            plot.YLabel(m.Metric);
            plot.HideGrid();
        }
        PlotFile.SavePng(multi, path, Math.Max(520, 170 * variants) * n, 520);
    }

    static string N(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
