using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Reporting;
using Ember.Interop;
using ScottPlot;
using StbImageSharp;

namespace Ember.Tests.Cli;

/// <summary>Plot PNGs are written whole or not at all (<see cref="PlotFile"/>), with the same bytes ScottPlot's own SavePng wrote.</summary>
public class PlotFileTests
{
    static Plot Curve()
    {
        var plot = new Plot();
        var x = Enumerable.Range(0, 40).Select(i => (double)i).ToArray();
        plot.Add.Scatter(x, x.Select(v => Math.Sin(v / 5)).ToArray()).LegendText = "sin";
        plot.Title("fixed plot");
        plot.ShowLegend();
        return plot;
    }

    static Multiplot Panels()
    {
        var multi = new Multiplot();
        multi.AddPlots(2);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var x = Enumerable.Range(0, 30).Select(i => (double)i).ToArray();
        multi.GetPlot(0).Add.Scatter(x, x.Select(v => v * v).ToArray());
        multi.GetPlot(1).Add.Scatter(x, x.Select(v => Math.Cos(v / 4)).ToArray());
        return multi;
    }

    [Fact]
    public void The_helper_writes_the_same_bytes_as_ScottPlots_own_SavePng()
    {
        var folder = Directory.CreateTempSubdirectory("ember-plotfile").FullName;
        try
        {
            string Old(string name) => Path.Combine(folder, "old-" + name);
            string New(string name) => Path.Combine(folder, "new-" + name);
            Curve().SavePng(Old("plot.png"), 640, 400);
            Curve().SavePng(Old("plot-again.png"), 640, 400);
            PlotFile.SavePng(Curve(), New("plot.png"), 640, 400);
            Panels().SavePng(Old("multi.png"), 900, 300);
            PlotFile.SavePng(Panels(), New("multi.png"), 900, 300);

            // ScottPlot renders a fixed plot to the same bytes every time, so the old and new PNGs must match exactly
            Assert.Equal(File.ReadAllBytes(Old("plot.png")), File.ReadAllBytes(Old("plot-again.png")));
            Assert.Equal(File.ReadAllBytes(Old("plot.png")), File.ReadAllBytes(New("plot.png")));
            Assert.Equal(File.ReadAllBytes(Old("multi.png")), File.ReadAllBytes(New("multi.png")));
            foreach (var (name, width, height) in new[] { ("plot.png", 640, 400), ("multi.png", 900, 300) })
            {
                var image = ImageResult.FromMemory(File.ReadAllBytes(New(name)), ColorComponents.RedGreenBlue);
                Assert.Equal((width, height), (image.Width, image.Height));
            }
            Assert.Empty(Directory.GetFiles(folder, ".*")); // no temporary file left beside the pictures
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void A_disk_that_fills_up_during_the_write_keeps_the_previous_whole_png_and_leaves_no_temporary_file()
    {
        var folder = Directory.CreateTempSubdirectory("ember-plotfile-full").FullName;
        try
        {
            var path = Path.Combine(folder, "results.png");
            PlotFile.SavePng(Panels(), path, 900, 300);
            var before = File.ReadAllBytes(path);

            int injected = 0;
            AtomicFile.FaultInjection.Value = (target, stream) => { injected++; return new DetectFaultTests.FullDiskStream(stream, 100); };
            IOException error;
            try { error = Assert.Throws<IOException>(() => PlotFile.SavePng(Curve(), path, 640, 400)); }
            finally { AtomicFile.FaultInjection.Value = null; }

            Assert.Equal(1, injected);
            Assert.Equal("No space left on device", error.Message);
            Assert.Equal(before, File.ReadAllBytes(path)); // the earlier picture, whole, not the first 100 bytes of the new one
            Assert.Equal(["results.png"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void A_disk_that_fills_up_while_forecast_train_writes_its_plot_is_exit_5_and_leaves_no_half_png()
    {
        var temp = Directory.CreateTempSubdirectory("ember-plotfile-cli").FullName;
        try
        {
            var random = new Random(3);
            var lines = new List<string> { "month,level" };
            for (int t = 0; t < 96; t++)
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{2000 + t / 12}-{t % 12 + 1:D2},{Math.Round(100 + 0.2 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + 0.1 * random.NextDouble(), 3)}"));
            var data = Path.Combine(temp, "level.csv");
            File.WriteAllLines(data, lines);
            var project = Path.Combine(temp, "runs");

            int seen = 0;
            // forecast.png (the last plot the run draws) fails after its first 100 bytes
            AtomicFile.FaultInjection.Value = (target, stream) =>
                Path.GetFileName(target) == "forecast.png" && ++seen == 1 ? new DetectFaultTests.FullDiskStream(stream, 100) : stream;
            (int Code, string Stdout, string Stderr) result;
            try
            {
                result = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--epochs", "1", "--hidden", "4", "--lookback", "12",
                    "--horizon", "3", "--val", "12", "--test", "12", "--project", project, "--plain"]);
            }
            finally { AtomicFile.FaultInjection.Value = null; }
            var (code, stdout, stderr) = result;
            Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}");
            Assert.StartsWith("ember: the disk is full", stderr);
            Assert.DoesNotContain("   at ", stderr + stdout);
            Assert.Equal(1, seen);

            var run = Path.Combine(project, "exp1");
            Assert.False(File.Exists(Path.Combine(run, "forecast.png")), "a half forecast.png was left under the final name");
            Assert.Empty(Directory.GetFiles(run, ".*", SearchOption.AllDirectories)); // no temporary file
            var results = ImageResult.FromMemory(File.ReadAllBytes(Path.Combine(run, "results.png")), ColorComponents.RedGreenBlue);
            Assert.Equal((1500, 450), (results.Width, results.Height)); // the plot written before the fault is whole
        }
        finally { Directory.Delete(temp, true); }
    }
}
