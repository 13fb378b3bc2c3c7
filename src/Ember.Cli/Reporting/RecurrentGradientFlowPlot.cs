using ScottPlot;
using Ember.Analysis;

namespace Ember.Cli.Reporting;

/// <summary>
/// recurrent-gradient-flow.png: left, ‖∂L/∂x_t‖ per time step for each recurrent cell at initialization and after training (log scale);
/// right, the adding problem's test accuracy of each cell trained without and with gradient clipping.
/// </summary>
public static class RecurrentGradientFlowPlot
{
    /// <summary>Draws the per-step norms (cell → norms) and the accuracies (cell, clip, accuracy) into <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<(string Cell, double[] Norms)> norms, IReadOnlyList<(string Cell, double? Clip, double Accuracy)> accuracies,
        int length, int steps, string path)
    {
        var multi = new Multiplot();
        multi.AddPlots(2);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multi.GetPlot(0);
        foreach (var (cell, values) in norms)
        {
            var xs = Enumerable.Range(0, values.Length).Select(t => (double)t).ToArray();
            // ScottPlot has no log axis: plot log10 values and label the ticks as powers of ten
            var line = left.Add.Scatter(xs, values.Select(v => Math.Log10(Math.Max(v, 1e-30))).ToArray());
            line.LegendText = $"{cell} (first/last step {values[0] / values[^1]:0.0e+0})";
            line.LineWidth = 2;
            line.MarkerSize = 0;
            // a cell's trained curve dashed, in its initial curve's colour
            if (cell.EndsWith(" trained", StringComparison.Ordinal))
            {
                line.LinePattern = LinePattern.Dashed;
                int index = norms.ToList().FindIndex(n => n.Cell == cell[..^" trained".Length]);
                if (index >= 0) line.Color = left.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ElementAt(index).Color;
            }
        }
        left.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => $"1e{y:0}",
        };
        left.Title($"Gradient reaching step t, adding problem of {length} steps (dashed: trained)");
        left.XLabel("time step t (the loss is at the last step)");
        left.YLabel("‖∂L/∂x_t‖ (log scale)");
        left.ShowLegend(Alignment.LowerRight);

        var right = multi.GetPlot(1);
        var ticks = new List<Tick>();
        for (int i = 0; i < accuracies.Count; i++)
        {
            var (cell, clip, accuracy) = accuracies[i];
            double x = i + i / 2; // pairs (no clip, clip) per cell, a gap between cells
            var bar = right.Add.Bar(x, double.IsNaN(accuracy) ? 0 : 100 * accuracy);
            bar.Color = clip is null ? Colors.C0 : Colors.C1;
            ticks.Add(new Tick(x, $"{cell}\n{(clip is double c ? $"clip {c:0.##}" : "no clip")}"));
        }
        right.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        right.Axes.SetLimitsY(0, 105);
        right.Title($"Test accuracy (|error| < {RecurrentGradientFlowExperiment.Tolerance}) after {steps} Adam steps");
        right.YLabel("% of test sequences");
        PlotFile.SavePng(multi, path, 1500, 560);
    }
}
