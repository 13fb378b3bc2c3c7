using ScottPlot;
using Ember.Training;

namespace Ember.Cli.Reporting;

/// <summary>The run folder's pictures: results.png (loss, accuracy and learning-rate curves) and confusion_matrix.png.</summary>
public static class Plots
{
    /// <summary>Three panels side by side: train/val loss, top-1/top-5 accuracy (%), learning rate; x is the epoch.</summary>
    public static void Results(IReadOnlyList<EpochMetrics> rows, string path)
    {
        var epochs = rows.Select(r => (double)r.Epoch).ToArray();
        var multi = new Multiplot();
        multi.AddPlots(3);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();

        var loss = multi.GetPlot(0);
        AddLine(loss, epochs, rows.Select(r => r.TrainLoss), "train loss");
        AddLine(loss, epochs, rows.Select(r => r.ValLoss), "val loss");
        Style(loss, "Loss", "loss", Alignment.UpperRight);

        var accuracy = multi.GetPlot(1);
        AddLine(accuracy, epochs, rows.Select(r => 100 * r.TrainAccuracy), "train top-1");
        AddLine(accuracy, epochs, rows.Select(r => 100 * r.Top1), "val top-1");
        AddLine(accuracy, epochs, rows.Select(r => 100 * r.Top5), "val top-5");
        // Accuracy rises towards the upper right, where a legend there would cover the last epochs.
        Style(accuracy, "Accuracy", "%", Alignment.LowerRight);

        var lr = multi.GetPlot(2);
        AddLine(lr, epochs, rows.Select(r => r.Lr), "lr (end of epoch)");
        Style(lr, "Learning rate", "lr (end of epoch)", legend: null);

        PlotFile.SavePng(multi, path, 1500, 450);
    }

    static void AddLine(Plot plot, double[] x, IEnumerable<double> y, string label)
    {
        var ys = y.ToArray();
        var finite = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
        if (finite.Length == 0) return;
        var scatter = plot.Add.Scatter(finite.Select(i => x[i]).ToArray(), finite.Select(i => ys[i]).ToArray());
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 5;
    }

    static void Style(Plot plot, string title, string yLabel, Alignment? legend)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.YLabel(yLabel);
        if (legend is { } where) plot.ShowLegend(where);
        else plot.HideLegend();
    }

    /// <summary>A normalized confusion matrix (rows: true class, columns: predicted) with class names and cell values.</summary>
    public static void ConfusionMatrix(double[,] normalized, IReadOnlyList<string> classNames, string path)
    {
        int n = normalized.GetLength(0);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(normalized);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                // the heatmap draws row 0 at the top: y = n − 1 − i
                var text = plot.Add.Text(normalized[i, j].ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), j, n - 1 - i);
                text.LabelFontColor = normalized[i, j] > 0.5 ? Colors.Black : Colors.White;
                text.LabelFontSize = 11;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, classNames.ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, classNames.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        // ScottPlot sizes the axis for unrotated labels: reserve room for the longest name at 45° plus the axis title
        float longest = classNames.Count == 0 ? 0 : classNames.Max(c => c.Length) * plot.Axes.Bottom.TickLabelStyle.FontSize * 0.6f;
        plot.Axes.Bottom.MinimumSize = longest * 0.71f + 2.5f * plot.Axes.Bottom.Label.FontSize + 10;
        plot.Title("Confusion matrix (normalized over true class)");
        plot.XLabel("predicted");
        plot.YLabel("true");
        PlotFile.SavePng(plot, path, 900, 860);
    }
}
