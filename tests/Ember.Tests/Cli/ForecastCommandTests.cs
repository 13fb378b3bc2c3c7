using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Forecast;

namespace Ember.Tests.Cli;

public class ForecastCommandTests
{
    // 10 years of a monthly series: trend + a 12-month cycle + a little noise, from 2000-01.
    static (string Path, double[] Values) Series(string folder, int months = 120)
    {
        var random = new Random(5);
        var values = new double[months];
        var lines = new List<string> { "month,level" };
        for (int t = 0; t < months; t++)
        {
            values[t] = Math.Round(100 + 0.2 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + 0.1 * random.NextDouble(), 3);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{2000 + t / 12}-{t % 12 + 1:D2},{values[t]}"));
        }
        var path = System.IO.Path.Combine(folder, "level.csv");
        File.WriteAllLines(path, lines);
        return (path, values);
    }

    static Dictionary<string, double[]> ReadMetrics(string file)
        => File.ReadAllLines(file).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => f[1..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());

    [Fact]
    public void Train_eval_and_predict_write_the_run_folder_and_score_the_baselines_as_defined()
    {
        var temp = Directory.CreateTempSubdirectory("ember-forecast").FullName;
        try
        {
            var (data, y) = Series(temp);
            var project = Path.Combine(temp, "runs");
            var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--epochs", "2", "--hidden", "8", "--lookback", "12",
                "--horizon", "3", "--val", "12", "--test", "12", "--cell", "gru", "--project", project, "--plain"]);
            Assert.True(code == 0, stderr);
            var run = Path.Combine(project, "exp1");
            foreach (var file in new[] { "args.yaml", "metrics.csv", "results.png", "forecast.png", "test_metrics.csv", "summary.md", "best", "last" })
                Assert.True(File.Exists(Path.Combine(run, file)) || Directory.Exists(Path.Combine(run, file)), $"no {file} in {run}");
            Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length); // header + 2 epochs
            var config = ForecastConfig.Load(Path.Combine(run, "args.yaml"));
            Assert.Equal(("gru", 8, 12, 3), (config.Cell, config.Hidden, config.Lookback, config.Horizon));

            // the baselines' rows recomputed here from the series: test targets 108..119, origins 108..117
            double scale = 0, n = 0;
            for (int t = 12; t < 96; t++) { scale += Math.Abs(y[t] - y[t - 12]); n++; }
            scale /= n;
            double naive = 0, seasonal = 0, count = 0;
            for (int origin = 108; origin + 3 <= 120; origin++)
                for (int h = 0; h < 3; h++)
                {
                    naive += Math.Abs(y[origin + h] - y[origin - 1]);
                    seasonal += Math.Abs(y[origin + h] - y[origin + h - 12]);
                    count++;
                }
            var metrics = ReadMetrics(Path.Combine(run, "test_metrics.csv"));
            Assert.Equal(naive / count / scale, metrics["naive"][2], 4);
            Assert.Equal(seasonal / count / scale, metrics["seasonal_naive"][2], 4);
            Assert.True(double.IsFinite(metrics["model"][2]));
            Assert.Contains("| seasonal_naive |", stdout);

            // eval scores the same weights the same way
            var before = File.ReadAllText(Path.Combine(run, "test_metrics.csv"));
            File.Delete(Path.Combine(run, "test_metrics.csv"));
            (code, _, stderr) = CliFailureTests.Invoke(["forecast", "eval", run]);
            Assert.True(code == 0, stderr);
            Assert.Equal(before, File.ReadAllText(Path.Combine(run, "test_metrics.csv")));

            // predict: the 3 months after 2009-12
            (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "predict", run]);
            Assert.True(code == 0, stderr);
            var predictions = File.ReadAllLines(Path.Combine(run, "predictions.csv"));
            Assert.Equal("month,level", predictions[0]);
            Assert.Equal(["2010-01", "2010-02", "2010-03"], predictions.Skip(1).Select(l => l.Split(',')[0]).ToArray());
            Assert.All(predictions.Skip(1), l => Assert.InRange(double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture), 110, 130));
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Bad_data_and_windows_that_do_not_fit_are_clear_errors()
    {
        var temp = Directory.CreateTempSubdirectory("ember-forecast-bad").FullName;
        try
        {
            var (data, _) = Series(temp, months: 40);
            var (code, _, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--lookback", "24", "--val", "12", "--test", "12", "--project", Path.Combine(temp, "runs")]);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("the train part has 16 steps, fewer than one window (24 input + 12 target steps)", stderr);
            Assert.Contains("--lookback 24", stderr);
            Assert.False(Directory.Exists(Path.Combine(temp, "runs"))); // refused before a run folder is made

            var gap = Path.Combine(temp, "gap.csv");
            File.WriteAllLines(gap, File.ReadAllLines(data).Where((_, i) => i != 5));
            (code, _, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", gap, "--project", Path.Combine(temp, "runs")]);
            Assert.Equal(ExitCodes.Data, code);
            Assert.Contains($"'{gap}' line 6: month 2000-06 follows 2000-04, expected 2000-05", stderr);

            (code, _, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--season", "24", "--lookback", "12"]);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("season 24 is longer than lookback 12", stderr);
            (code, _, stderr) = CliFailureTests.Invoke(["forecast", "train", "--cell", "rnn"]);
            Assert.Contains("cell must be one of lstm, gru, got 'rnn'", stderr);
            (code, _, stderr) = CliFailureTests.Invoke(["forecast", "eval", Path.Combine(temp, "nothing")]);
            Assert.NotEqual(0, code);
            Assert.Contains("run folder not found", stderr);
        }
        finally { Directory.Delete(temp, true); }
    }
}
