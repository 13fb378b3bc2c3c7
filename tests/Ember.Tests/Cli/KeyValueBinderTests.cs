using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>The one parser of option values (train, detect and forecast configs): what it refuses, and what it reads.</summary>
public class KeyValueBinderTests
{
    static void Apply(string config, string key, string? value)
    {
        var values = new Dictionary<string, string?> { [key] = value };
        _ = config switch
        {
            "train" => (object)ConfigLoader.Apply(new TrainConfig(), values, "f.yaml"),
            "detect" => DetectConfig.Apply(new DetectConfig(), values, "f.yaml"),
            _ => ForecastConfig.Apply(new ForecastConfig(), values, "f.yaml"),
        };
    }

    [Theory]
    // ',' is no decimal point: "1,5" was read as 15 (the invariant culture's thousands separator)
    [InlineData("lr", "1,5", "key 'lr' expects a finite number, got '1,5'")]
    [InlineData("lr", "1e400", "key 'lr' expects a finite number, got '1e400'")]
    [InlineData("lr", "NaN", "key 'lr' expects a finite number, got 'NaN'")]
    [InlineData("weight_decay", "-Infinity", "key 'weight_decay' expects a finite number, got '-Infinity'")]
    [InlineData("epochs", "1,000", "key 'epochs' expects an integer, got '1,000'")]
    [InlineData("epochs", "2.5", "key 'epochs' expects an integer, got '2.5'")]
    [InlineData("epochs", "99999999999", "key 'epochs' expects an integer, got '99999999999'")]
    [InlineData("plain", "maybe", "key 'plain' expects true or false, got 'maybe'")]
    [InlineData("project", null, "key 'project' needs a value (a string), got none")]
    public void A_value_that_is_no_setting_is_refused_naming_the_file_and_key(string key, string? value, string message)
    {
        foreach (var config in new[] { "train", "detect", "forecast" })
        {
            var ex = Assert.Throws<ConfigException>(() => Apply(config, key, value));
            Assert.Equal($"f.yaml: {message}", ex.Message);
        }
    }

    [Fact]
    public void Numbers_switches_and_no_value_read_as_before()
    {
        var values = new Dictionary<string, string?> { ["lr"] = "1.5e-3", ["epochs"] = " 3 ", ["plain"] = "on", ["weight_decay"] = null, ["lrf"] = null };
        var detect = DetectConfig.Apply(new DetectConfig(), values, "f.yaml");
        Assert.Equal((0.0015, 3, true, 0.0, (double?)null), (detect.Lr, detect.Epochs, detect.Plain, detect.WeightDecay, detect.Lrf));
        var train = ConfigLoader.Apply(new TrainConfig(), new Dictionary<string, string?> { ["lr"] = "-0.5e-2", ["seed"] = "+7", ["data"] = null }, "f.yaml");
        Assert.Equal((-0.005, 7L, (string?)null), (train.Lr, (long)train.Seed, train.Data));
    }
}
