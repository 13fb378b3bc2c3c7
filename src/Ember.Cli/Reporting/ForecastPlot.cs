using System.Globalization;
using Ember.Cli.Commands.Forecast;
using Ember.Data;
using ScottPlot;

namespace Ember.Cli.Reporting;

/// <summary>forecast.png: the series over the lookback before the test period and the test period itself, with the
/// model's and the baselines' forecasts from non-overlapping origins (one continuous line each) over the test period.</summary>
public static class ForecastPlot
{
    /// <summary>Draws <paramref name="scores"/>' plot series on a time axis (fractional years for year and month series).</summary>
    public static void Save(TimeSeriesCsv csv, ForecastJob.Scores scores, ForecastConfig c, string path)
    {
        var plot = new Plot();
        int start = Math.Max(0, scores.PlotStart - c.Lookback);
        var history = Enumerable.Range(start, scores.PlotStart - start).ToArray();
        var actual = plot.Add.Scatter(history.Select(i => X(csv, i)).ToArray(), history.Select(i => csv.Values[i]).ToArray());
        actual.LegendText = "actual (before test)"; actual.MarkerSize = 0; actual.LineWidth = 2; actual.Color = Colors.Gray;
        var steps = Enumerable.Range(scores.PlotStart, scores.PlotActual.Length).Select(i => X(csv, i)).ToArray();
        Line(plot, steps, scores.PlotActual, "actual (test)", Colors.Black, 2.5f, null);
        Line(plot, steps, scores.PlotModel, $"{c.Cell} forecast", Colors.C0, 2, null);
        Line(plot, steps, scores.PlotSeasonal, "seasonal naive", Colors.C1, 1.5f, LinePattern.Dashed);
        Line(plot, steps, scores.PlotNaive, "naive", Colors.C2, 1.5f, LinePattern.Dotted);
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(csv.Path)}: test period, horizon {c.Horizon} from each origin (MASE {c.Cell} {scores.Model.Mase:F2}, seasonal naive {scores.SeasonalNaive.Mase:F2}, naive {scores.Naive.Mase:F2})"));
        plot.XLabel(csv.Calendar is TimeSeriesCalendar.Months or TimeSeriesCalendar.Years ? "year" : $"{csv.TimeColumn} (step)");
        plot.YLabel(csv.ValueColumn);
        // years as 1999, not the thousands-separated 1,999 of the default labels
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => v.ToString("0.##", CultureInfo.InvariantCulture) };
        plot.ShowLegend(Alignment.UpperLeft);
        PlotFile.SavePng(plot, path, 1200, 500);
    }

    static void Line(Plot plot, double[] x, double[] y, string label, Color color, float width, LinePattern? pattern)
    {
        var s = plot.Add.Scatter(x, y);
        s.LegendText = label; s.Color = color; s.LineWidth = width; s.MarkerSize = 0;
        if (pattern is { } p) s.LinePattern = p;
    }

    static double X(TimeSeriesCsv csv, int i) => csv.Calendar switch
    {
        TimeSeriesCalendar.Years => double.Parse(csv.Times[i], CultureInfo.InvariantCulture),
        TimeSeriesCalendar.Months => int.Parse(csv.Times[i][..4], CultureInfo.InvariantCulture) + (int.Parse(csv.Times[i][5..7], CultureInfo.InvariantCulture) - 1) / 12.0,
        _ => i,
    };
}
