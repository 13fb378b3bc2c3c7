using System.Globalization;
using Ember.Cli.Commands;
using Ember.Tuning;

namespace Ember.Tests.Cli;

/// <summary>runs.csv of an ablation study: every name and folder reads back as written; a damaged file names its line.</summary>
public class AblationRunsFileTests
{
    static readonly IReadOnlyList<long> Seeds = [3, 4];

    // The study's variants with these names (the baseline first); the library's own name rules are not the file's concern.
    static List<AblationVariant> Variants(params string[] names)
        => [.. names.Select((n, i) => new AblationVariant(n, i == 0 ? [] : [n], i == names.Length - 1))];

    static Dictionary<string, double> Metrics(double x)
        => StudyTrial.MetricNames.Select((m, i) => (m, x + i / 3.0)).ToDictionary(p => p.m, p => p.Item2);

    static string Temp(string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-runs-csv").FullName, AblationRunsFile.FileName);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("A", "A+ema")]
    [InlineData("base, v2", "A+\"ema\"")]          // a comma and quotes
    [InlineData(" lead space", "trail space ")]   // spaces that an unquoted field could lose
    [InlineData("基线", "A+Ünïcødé+λ")]            // non-ASCII
    [InlineData("two\nlines", "cr\ronly")]        // line breaks
    public void Every_name_and_folder_reads_back_as_written(string baseline, string full)
    {
        var variants = Variants(baseline, full);
        var runs = new List<AblationRun>();
        var folders = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            runs.Add(new AblationRun(variants[i / 2], Seeds[i % 2], Metrics(0.1 * i + 1e-17)));
            folders.Add($"trials/{variants[i / 2].Name}-seed{Seeds[i % 2]},x/exp1");
        }
        var path = Temp(AblationRunsFile.Format(runs, folders));

        var read = AblationRunsFile.Read(path, variants, Seeds);
        Assert.Equal(4, read.Count);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal((runs[i].Variant.Name, runs[i].Seed, folders[i]), (read[i].Variant, read[i].Seed, read[i].Folder));
            foreach (var m in StudyTrial.MetricNames) Assert.Equal(runs[i].Metrics[m], read[i].Metrics[m]); // bit for bit ("R")
        }
        // a study stopped after three runs: the rows it has, in order
        Assert.Equal(3, AblationRunsFile.Read(Temp(AblationRunsFile.Format(runs.GetRange(0, 3), folders.GetRange(0, 3))), variants, Seeds).Count);
    }

    [Fact]
    public void Plain_names_give_the_file_that_session_19_wrote_so_its_study_folders_resume()
    {
        var variants = Variants("A", "A+ema");
        var metrics = Metrics(0.25);
        var text = AblationRunsFile.Format([new AblationRun(variants[0], 3, metrics)], ["trials/A-seed3/exp1"]);
        var values = string.Join(",", StudyTrial.MetricNames.Select(m => metrics[m].ToString("R", CultureInfo.InvariantCulture)));
        Assert.Equal($"variant,seed,run,{string.Join(",", StudyTrial.MetricNames)}\nA,3,trials/A-seed3/exp1,{values}\n", text);
        // and a copy saved with Windows line ends reads the same
        var read = AblationRunsFile.Read(Temp(text.Replace("\n", "\r\n")), variants, Seeds);
        Assert.Equal(("A", 3L, "trials/A-seed3/exp1", metrics["val_loss"]), (read[0].Variant, read[0].Seed, read[0].Folder, read[0].Metrics["val_loss"]));
    }

    [Theory]
    [InlineData("A,3,\"trials/A-seed3/exp1,0.5,0.9,1.2,0.4,1,2.5\nA,4,x\"y,0.5,0.9,1.2,0.4,1,2.5\n", "runs.csv:2")]                                   // a quote left open
    [InlineData("A,3,tr\"ials,0.5,0.9,1.2,0.4,1,2.5\n", "runs.csv:2: malformed quoting")]                                                                // a bare quote
    [InlineData("A,3,trials/A-seed3/exp1,0.5,0.9,1.2,0.4,1\n", "runs.csv:2: expected 9 values, got 8")]
    [InlineData("A,3,trials/A-seed3/exp1,0.5,0.9,1.2,0.4,1,2.5\n\"A+ema\",3,trials/x,0.5,0.9,1.2,0.4,1,2.5\n", "runs.csv:3: records A+ema with seed 3, but the study's run 2 is A with seed 4")]
    [InlineData("A,3,trials/A-seed3/exp1,0.5,0.9,high,0.4,1,2.5\n", "runs.csv:2: val_loss expects a number, got 'high'")]
    public void A_damaged_file_is_refused_naming_its_line(string rows, string message)
    {
        var path = Temp($"variant,seed,run,{string.Join(",", StudyTrial.MetricNames)}\n" + rows);
        var e = Assert.Throws<InvalidDataException>(() => AblationRunsFile.Read(path, Variants("A", "A+ema"), Seeds));
        Assert.Contains(message, e.Message);
        Assert.Equal(ExitCodes.Data, CliErrors.Describe(e).Code);
    }

    [Fact]
    public void A_file_with_another_header_or_too_many_rows_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => AblationRunsFile.Read(Temp("variant;seed;run\n"), Variants("A", "B"), Seeds));
        Assert.Contains("expected the header 'variant,seed,run,top1", e.Message);
        var row = "A,3,t,0.5,0.9,1.2,0.4,1,2.5\n";
        e = Assert.Throws<InvalidDataException>(() => AblationRunsFile.Read(Temp($"variant,seed,run,{string.Join(",", StudyTrial.MetricNames)}\n" + string.Concat(Enumerable.Repeat(row, 5))), Variants("A", "B"), Seeds));
        Assert.Contains("records 5 runs, but the study has 4", e.Message);
        Assert.Empty(AblationRunsFile.Read(Path.Combine(Path.GetTempPath(), "no-such-dir-ember", "runs.csv"), Variants("A", "B"), Seeds));
    }
}
