using Ember.Cli.Reporting;
using Ember.Detection.Metrics;
using ScottPlot;

namespace Ember.Cli.Commands.Detect;

/// <summary>A detection run's pictures: results.png (loss parts and metrics per epoch), pr_curve.png and confusion_matrix.png.</summary>
public static class DetectPlots
{
    /// <summary>Four panels: box, objectness and class loss (train and val), and P, R, mAP@0.5, mAP@0.5:0.95; x is the epoch.</summary>
    public static void Results(IReadOnlyList<DetectEpoch> rows, string path)
    {
        var epochs = rows.Select(r => (double)r.Epoch).ToArray();
        var multi = new Multiplot();
        multi.AddPlots(4);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        (string Title, Func<DetectEpoch, double> Train, Func<DetectEpoch, double> Val)[] losses =
            [("Box loss (CIoU)", r => r.TrainBox, r => r.ValBox), ("Objectness loss", r => r.TrainObj, r => r.ValObj), ("Class loss", r => r.TrainCls, r => r.ValCls)];
        for (int i = 0; i < 3; i++)
        {
            var plot = multi.GetPlot(i);
            Line(plot, epochs, rows.Select(losses[i].Train), "train");
            Line(plot, epochs, rows.Select(losses[i].Val), "val");
            Style(plot, losses[i].Title, "loss", Alignment.UpperRight);
        }
        var metrics = multi.GetPlot(3);
        Line(metrics, epochs, rows.Select(r => r.Precision), "precision");
        Line(metrics, epochs, rows.Select(r => r.Recall), "recall");
        Line(metrics, epochs, rows.Select(r => r.Map50), "mAP@0.5");
        Line(metrics, epochs, rows.Select(r => r.Map50To95), "mAP@0.5:0.95");
        Style(metrics, "Validation", "", Alignment.LowerRight);
        PlotFile.SavePng(multi, path, 1800, 450);
    }

    /// <summary>Precision against recall per class and their mean, traced over the confidence threshold (the curves of <see cref="DetectionResults"/>).</summary>
    public static void PrCurve(DetectionResults r, IReadOnlyList<string> names, string path)
    {
        var plot = new Plot();
        int n = r.Classes.Length, points = n > 0 ? r.PrecisionCurve[0].Length : 0;
        var meanP = new double[points];
        var meanR = new double[points];
        for (int k = 0; k < n; k++)
        {
            var scatter = plot.Add.Scatter(r.RecallCurve[k], r.PrecisionCurve[k]);
            scatter.LegendText = $"{Name(names, r.Classes[k])} {r.Ap50[k]:0.000}";
            scatter.MarkerSize = 0;
            scatter.LineWidth = 1;
            for (int x = 0; x < points; x++) { meanP[x] += r.PrecisionCurve[k][x] / n; meanR[x] += r.RecallCurve[k][x] / n; }
        }
        if (n > 0)
        {
            var mean = plot.Add.Scatter(meanR, meanP);
            mean.LegendText = $"all classes mAP@0.5 {r.Map50:0.000}";
            mean.MarkerSize = 0;
            mean.LineWidth = 3;
            mean.Color = Colors.Blue;
        }
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Title("Precision-recall (traced over the confidence)");
        plot.XLabel("recall");
        plot.YLabel("precision");
        plot.ShowLegend(Alignment.LowerLeft);
        PlotFile.SavePng(plot, path, 900, 700);
    }

    /// <summary>The confusion matrix with background, normalized over each true class (rows true, columns predicted).</summary>
    public static void Confusion(ConfusionMatrix matrix, IReadOnlyList<string> names, string path)
    {
        int n = matrix.NumClasses + 1;
        var normalized = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            double sum = 0;
            for (int p = 0; p < n; p++) sum += matrix[p, t];
            for (int p = 0; p < n; p++) normalized[t, p] = sum > 0 ? matrix[p, t] / sum : 0;
        }
        Plots.ConfusionMatrix(normalized, [.. Enumerable.Range(0, matrix.NumClasses).Select(k => Name(names, k)), "background"], path);
    }

    internal static string Name(IReadOnlyList<string> names, int k) => k >= 0 && k < names.Count ? names[k] : k.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static void Line(Plot plot, double[] x, IEnumerable<double> y, string label)
    {
        var ys = y.ToArray();
        var finite = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
        if (finite.Length == 0) return;
        var scatter = plot.Add.Scatter(finite.Select(i => x[i]).ToArray(), finite.Select(i => ys[i]).ToArray());
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = 5;
    }

    static void Style(Plot plot, string title, string yLabel, Alignment legend)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.YLabel(yLabel);
        plot.ShowLegend(legend);
    }
}
