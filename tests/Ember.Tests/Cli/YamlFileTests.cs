using Ember.Cli.Configuration;
using Ember.Tuning;
using YamlDotNet.RepresentationModel;

namespace Ember.Tests.Cli;

public class YamlFileTests
{
    static string Temp(string name, string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-yaml").FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    public static TheoryData<string> AwkwardStrings =>
    [
        "runs/a: b", "C:\\runs\\train", "it's", "say \"hi\"", "a # not a comment", "#hash", "line1\nline2", "tab\there",
        " leading space", "trailing space ", "", "null", "~", "true", "no", "0.5", "1e3", "-", "- item", "[not, a, list]",
        "{not: a map}", "ünïcødé/日本語/😀", "&anchor", "*alias", "!tag", "%directive", "@at", "`tick`", "|", ">", "a: b: c", "---", "...",
    ];

    [Theory]
    [MemberData(nameof(AwkwardStrings))]
    public void Args_yaml_round_trips_an_awkward_string_in_every_string_key(string text)
    {
        var config = new TrainConfig { Project = text, Data = text, Model = "mlp" };
        var path = Temp("args.yaml", ConfigLoader.ToYaml(config));
        var back = ConfigLoader.Load(path);
        Assert.Equal(text, back.Project);
        Assert.Equal(text, back.Data);
        Assert.Equal(config, back);
    }

    [Fact]
    public void Args_yaml_keeps_one_line_per_key_null_as_null_and_numbers_plain()
    {
        var yaml = ConfigLoader.ToYaml(new TrainConfig { Project = new string('x', 300) + ": y", Lr = 0.1 + 0.2 }, ["a comment", "two lines\nof comment"]);
        var lines = yaml.TrimEnd('\n').Split('\n');
        Assert.Equal(["# a comment", "# two lines", "# of comment"], lines[..3]);
        Assert.Equal(ConfigLoader.Keys.Count + 3, lines.Length);
        Assert.Contains("data: null", lines);
        Assert.Contains("lr: 0.30000000000000004", lines);
        Assert.Contains("augment: false", lines);
        Assert.Null(ConfigLoader.Load(Temp("a.yaml", yaml)).Data);
    }

    [Fact]
    public void A_quoted_null_is_text_and_a_plain_null_is_null()
    {
        var config = ConfigLoader.Load(Temp("q.yaml", "data: \"null\"\ninit_from: ~\n"));
        Assert.Equal("null", config.Data);
        Assert.Null(config.InitFrom);
        // a key that must hold text (the run's folder) refuses no value, instead of failing later on the null
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Temp("p.yaml", "project: ~\n")));
        Assert.Contains("p.yaml: key 'project' needs a value (a string), got none", ex.Message);
    }

    [Theory]
    [InlineData(65, true)]
    [InlineData(64, false)]
    [InlineData(100_000, true)]
    public void Nesting_deeper_than_the_limit_is_a_clear_error_not_a_crash(int depth, bool fails)
    {
        var text = new string('[', depth) + new string(']', depth) + "\n"; // the root counts as one level
        if (!fails)
        {
            Assert.IsType<YamlSequenceNode>(YamlFile.Parse(text, "ok.yaml"));
            return;
        }
        var ex = Assert.Throws<ConfigException>(() => YamlFile.Parse(text, "deep.yaml"));
        Assert.Contains("deep.yaml:1:", ex.Message);
        Assert.Contains($"nested more than {YamlFile.MaxDepth} levels", ex.Message);
    }

    [Fact]
    public void Block_nesting_is_counted_too()
    {
        var text = string.Concat(Enumerable.Range(0, 70).Select(i => new string(' ', 2 * i) + "k:\n")) + new string(' ', 140) + "v\n";
        Assert.Contains("nested more than", Assert.Throws<ConfigException>(() => YamlFile.Parse(text, "block.yaml")).Message);
    }

    [Theory]
    [InlineData("model: mlp\nepochs: a: b\n", "bad.yaml:2:")]
    [InlineData("epochs: 1\nepochs: 2\n", "Duplicate key")]
    [InlineData("model: [mlp\n", "bad.yaml:")]
    [InlineData("\"unterminated: 1\n", "bad.yaml:")]
    public void YamlDotNet_errors_name_the_file_line_and_column(string text, string expected)
        => Assert.Contains(expected, Assert.Throws<ConfigException>(() => YamlFile.Parse(text, "bad.yaml")).Message);

    [Fact]
    public void The_search_space_file_round_trips()
    {
        var space = new SearchSpace().Add("lr", 1.0, 1e-5, 0.1).Add("label_smoothing", 0.5, 0.0, 0.3);
        var starts = new Dictionary<string, double> { ["label_smoothing"] = 0.05 };
        var text = SearchSpaceFile.ToYaml(space, starts);
        Assert.StartsWith("# ember evolve search space", text);
        var (back, backStarts) = SearchSpaceFile.Load(Temp("space.yaml", text));
        Assert.Equal(space.Select(p => (p.Name, p.Gain, p.Lower, p.Upper)), back.Select(p => (p.Name, p.Gain, p.Lower, p.Upper)));
        Assert.Equal(starts, backStarts);
    }
}
