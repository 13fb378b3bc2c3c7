using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

public class ConfigTests
{
    static string Temp(string name, string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-cfg").FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_yaml_file_a_json_file_and_the_options_give_the_same_config()
    {
        var yaml = Temp("run.yaml", "model: resnet\nepochs: 7\nlr: 0.01\naugment: true\nlabel_smoothing: 0.1\n");
        var json = Temp("run.json", "{\"model\": \"resnet\", \"epochs\": 7, \"lr\": 0.01, \"augment\": true, \"label_smoothing\": 0.1}");
        var fromOptions = TrainCommand.Resolve(null, new Dictionary<string, string?> { ["model"] = "resnet", ["epochs"] = "7", ["lr"] = "0.01", ["augment"] = "true", ["label_smoothing"] = "0.1" });
        Assert.Equal(fromOptions, TrainCommand.Resolve(yaml, new Dictionary<string, string?>()));
        Assert.Equal(fromOptions, TrainCommand.Resolve(json, new Dictionary<string, string?>()));
        Assert.Equal(7, fromOptions.Epochs);
        Assert.True(fromOptions.Augment);
    }

    [Fact]
    public void Options_override_the_config_file()
    {
        var yaml = Temp("run.yaml", "epochs: 7\nbatch_size: 64\n");
        var config = TrainCommand.Resolve(yaml, new Dictionary<string, string?> { ["epochs"] = "2" });
        Assert.Equal(2, config.Epochs);
        Assert.Equal(64, config.BatchSize);
    }

    [Fact]
    public void A_typo_in_a_key_names_the_closest_valid_key()
    {
        var yaml = Temp("run.yaml", "learning_rate: 0.1\nepoch: 3\n");
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml));
        Assert.Contains("unknown key 'learning_rate'", ex.Message);
        var ex2 = Assert.Throws<ConfigException>(() => ConfigLoader.Apply(new TrainConfig(), new Dictionary<string, string?> { ["epoch"] = "3" }, "x"));
        Assert.Contains("did you mean 'epochs'", ex2.Message);
    }

    [Theory]
    [InlineData("model", "transformer", "mlp, cnn, resnet, vit")]
    [InlineData("optimizer", "lion", "sgd, adam, adamw")]
    [InlineData("schedule", "warm", "none, cosine, onecycle, step, plateau")]
    [InlineData("amp", "fp8", "none, bf16, fp16")]
    public void Unknown_choices_list_the_valid_ones(string key, string value, string choices)
    {
        var ex = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(choices, ex.Message);
    }

    [Fact]
    public void Wrong_value_types_name_the_key()
    {
        var ex = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, new Dictionary<string, string?> { ["epochs"] = "many" }));
        Assert.Contains("'epochs' expects an integer, got 'many'", ex.Message);
    }

    [Fact]
    public void The_resolved_config_round_trips_through_args_yaml()
    {
        var config = new TrainConfig { Model = "vit", Lr = 3e-4, Seed = 7, Augment = true };
        var path = Temp("args.yaml", ConfigLoader.ToYaml(config));
        Assert.Equal(config, ConfigLoader.Load(path));
    }
}
