using ScottPlot;
using Ember.Analysis;

namespace Ember.Cli.Reporting;

/// <summary>gradient-flow.png: mean ‖∇W‖ per layer (input side left), one line per architecture, on a log scale.</summary>
public static class GradientFlowPlot
{
    /// <summary>Draws the reports (name → report) into <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<(string Name, GradientReport Report)> reports, string path)
    {
        var plot = new Plot();
        foreach (var (name, report) in reports)
        {
            var xs = Enumerable.Range(1, report.Layers.Count).Select(i => (double)i).ToArray();
            // ScottPlot has no log axis: plot log10 values and label the ticks as powers of ten.
            var ys = report.Layers.Select(l => Math.Log10(Math.Max(l.MeanGradNorm, 1e-30))).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = $"{name} (first/last {report.FirstToLastGradNorm:0.0e+0})";
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => $"1e{y:0}",
        };
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title($"Gradient flow: mean ‖∇W‖ per layer over {reports[0].Report.Steps} SGD steps");
        plot.XLabel("linear layer (1 = input side, last = classifier)");
        plot.YLabel("mean ‖∇W‖ (log scale)");
        plot.ShowLegend(Alignment.LowerRight);
        PlotFile.SavePng(plot, path, 900, 560);
    }
}
