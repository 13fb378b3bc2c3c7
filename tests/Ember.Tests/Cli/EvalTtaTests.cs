using System.Globalization;
using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Metrics;

namespace Ember.Tests.Cli;

public class EvalTtaTests
{
    static double Number(string text, string pattern) => double.Parse(Regex.Match(text, pattern).Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void EvalWithTtaReportsBothAccuraciesAndTheTtaOneIsTheAveragedViews()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        int code;
        try { code = EvalCommand.Create().Parse([run, "--tta"]).Invoke(); }
        finally { Console.SetOut(previous); }
        string text = output.ToString();
        Assert.Equal(0, code);
        double plain = Number(text, @"^top-1 ([0-9.]+)%");
        double tta = Number(text, @"with TTA top-1 ([0-9.]+)%");
        Assert.Contains("(6 views per image)", text);
        Assert.Equal(Math.Round(tta - plain, 2), Number(text, @"TTA: ([+-]?[0-9.]+) points"), 2);

        // The same views and averaging, done here by hand on the model eval loads.
        var (model, config) = EvalCommand.Load(run, "best");
        var (data, _) = DataSource.Resolve(config);
        var test = new Mnist(data.Folder, train: false, transform: new Normalize([data.Mean], [data.Std]));
        var accuracy = new TopKAccuracy(1);
        using (Torch.NoGrad())
            foreach (var batch in new DataLoader<(Tensor, long)>(test, 1000).Iterate(0))
                accuracy.Update(TestTimeAugmentation.AverageProbabilities(model.Call, batch[0], true, [1.0, 0.9, 1.1]), batch[1]);
        Assert.Equal(100 * accuracy.Compute(), tta, 2);
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
