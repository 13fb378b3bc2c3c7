using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>Names in a study file that become folder names are confined to a safe character set before anything is made.</summary>
public class AblationNameTests
{
    static string Study(string components, string extra = "")
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate-names").FullName;
        var path = Path.Combine(dir, "study.yaml");
        File.WriteAllText(path, $"baseline: {{model: mlp, epochs: 1, limit: 64, plain: true}}\ncomponents:\n{components}{extra}");
        return path;
    }

    [Theory]
    [InlineData("  \"../escape\": {ema: 0.9}\n", "", "'components': the name '../escape' starts with '.'")]
    [InlineData("  \"a/../../escape\": {ema: 0.9}\n", "", "'components': the name 'a/../../escape' holds '/'")]
    [InlineData("  /tmp/escape: {ema: 0.9}\n", "", "'components': the name '/tmp/escape' holds '/'")]
    [InlineData("  \"a\\\\b\": {ema: 0.9}\n", "", "'components': the name 'a\\b' holds '\\'")]
    [InlineData("  .hidden: {ema: 0.9}\n", "", "'components': the name '.hidden' starts with '.'")]
    [InlineData("  \"..\": {ema: 0.9}\n", "", "'components': the name '..' starts with '.'")]
    [InlineData("  \"two words\": {ema: 0.9}\n", "", "'components': the name 'two words' holds ' '")]
    [InlineData("  \"tab\\tname\": {ema: 0.9}\n", "", "'components': the name 'tab\tname' holds '\\u0009'")]
    [InlineData("  \"\": {ema: 0.9}\n", "", "'components': the name '' is empty")]
    [InlineData("  ema: {ema: 0.9}\n", "baseline_name: ../../up\n", "'baseline_name': the name '../../up' starts with '.'")]
    [InlineData("  ema: {ema: 0.9}\n", "baseline_name: /abs\n", "'baseline_name': the name '/abs' holds '/'")]
    [InlineData("  ema: {ema: 0.9}\n", "baseline_name: \"x:y\"\n", "'baseline_name': the name 'x:y' holds ':'")]
    [InlineData("  émA: {ema: 0.9}\n", "", "'components': the name 'émA' holds 'é'")]
    [InlineData("  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: {ema: 0.9}\n", "", "is 65 characters long, more than 64")]
    public void An_unsafe_name_is_refused_naming_the_file_and_the_key(string components, string extra, string message)
    {
        var path = Study(components, extra);
        var ex = Assert.Throws<ConfigException>(() => AblationStudy.Load(path));
        Assert.Contains(message, ex.Message);
        Assert.StartsWith($"{path}: ", ex.Message);
    }

    [Fact]
    public void Names_of_the_safe_set_are_accepted()
    {
        var max = new string('a', AblationStudy.MaxNameLength);
        var study = AblationStudy.Load(Study($"  label_smoothing: {{label_smoothing: 0.1}}\n  EMA-0.9+x: {{ema: 0.9}}\n  {max}: {{ema: 0.5}}\n", "baseline_name: Base_1.0\ndesign: singles\n"));
        Assert.Equal(["label_smoothing", "EMA-0.9+x", max], study.Components.Select(c => c.Name));
        Assert.Equal("Base_1.0", study.BaselineName);
    }

    [Fact]
    public void Names_too_long_together_are_refused()
    {
        var components = string.Concat(Enumerable.Range(0, 5).Select(i => $"  {new string((char)('a' + i), 60)}: {{ema: 0.9}}\n"));
        var ex = Assert.Throws<ConfigException>(() => AblationStudy.Load(Study(components, "design: full\n")));
        Assert.Contains("needs a folder name longer than 255 characters", ex.Message);
        // the same names one at a time are fine
        Assert.Equal(5, AblationStudy.Load(Study(components, "design: singles\n")).Components.Count);
    }

    [Fact]
    public void The_command_makes_no_folder_for_an_unsafe_name()
    {
        var path = Study("  \"../../escape\": {ema: 0.9}\n");
        var project = Path.Combine(Path.GetDirectoryName(path)!, "runs");
        var errors = new StringWriter();
        CliErrors.Error = errors;
        try { Assert.Equal(ExitCodes.Usage, AblateCommand.Create().Parse([path, "--project", project]).Invoke()); }
        finally { CliErrors.Error = null!; }
        Assert.Contains($"ember: {path}: 'components': the name '../../escape'", errors.ToString());
        Assert.False(Directory.Exists(project));
        Assert.Equal(["study.yaml"], Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
