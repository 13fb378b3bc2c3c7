using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

public class ConfigValidatorTests
{
    static TrainConfig Resolve(params (string Key, string Value)[] options)
        => TrainCommand.Resolve(null, options.ToDictionary(o => o.Key, o => (string?)o.Value));

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Momentum_with_the_adam_family_is_an_error_naming_both(string optimizer)
    {
        var ex = Assert.Throws<ConfigException>(() => Resolve(("optimizer", optimizer), ("momentum", "0.5")));
        Assert.Contains($"momentum 0.5 has no effect with optimizer {optimizer}", ex.Message);
        Assert.Equal(0.5, Resolve(("optimizer", "sgd"), ("momentum", "0.5")).Momentum);
    }

    [Theory]
    [InlineData("onecycle", false)]
    [InlineData("step", false)]
    [InlineData("plateau", false)]
    [InlineData("cosine", true)]
    [InlineData("none", true)]
    public void Warmup_steps_are_an_error_with_the_schedules_that_ignore_them(string schedule, bool applies)
    {
        if (applies)
        {
            Assert.Equal(50, Resolve(("schedule", schedule), ("warmup_steps", "50")).WarmupSteps);
            // and the schedule really warms up: the first step's rate is a hundredth of lr
            var config = Resolve(("schedule", schedule), ("warmup_steps", "50"), ("model", "mlp"));
            var model = Ember.Models.ModelZoo.Create("mlp");
            var optimizer = TrainJob.CreateOptimizer(config, model);
            TrainJob.CreateSchedule(config, optimizer, 100);
            Assert.Equal(config.Lr * 0.01, optimizer.ParamGroups[0].LearningRate, 12);
            return;
        }
        var ex = Assert.Throws<ConfigException>(() => Resolve(("schedule", schedule), ("warmup_steps", "50")));
        Assert.Contains($"warmup_steps 50 has no effect with schedule {schedule}", ex.Message);
        Assert.Contains("--schedule cosine or none", ex.Message);
    }

    [Fact]
    public void The_defaults_and_every_written_args_yaml_pass()
    {
        Assert.Equal(new TrainConfig(), Resolve());
        var sgd = Resolve(("optimizer", "sgd"), ("momentum", "0.95"), ("schedule", "cosine"), ("warmup_steps", "10"));
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-cfg").FullName, "args.yaml");
        File.WriteAllText(path, ConfigLoader.ToYaml(sgd));
        Assert.Equal(sgd, ConfigValidator.Validate(ConfigLoader.Load(path)));
    }
}
