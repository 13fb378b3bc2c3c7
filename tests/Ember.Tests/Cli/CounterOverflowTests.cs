using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>Counts computed from a config or study file never wrap: they are checked, with an error that names the key.</summary>
public class CounterOverflowTests
{
    [Theory]
    [InlineData(10, 100, 1000)]
    [InlineData(int.MaxValue, 1, int.MaxValue)]
    [InlineData(1, int.MaxValue, int.MaxValue)]
    [InlineData(65536, 32767, 65536 * 32767)]
    public void Total_steps_within_int_are_exact(int epochs, int steps, int expected)
        => Assert.Equal(expected, TrainJob.TotalSteps(epochs, steps));

    [Theory]
    [InlineData(int.MaxValue, 2, "epochs 2147483647 × 2 optimizer steps per epoch = 4294967294 steps")]
    [InlineData(65536, 32768, "epochs 65536 × 32768 optimizer steps per epoch = 2147483648 steps")] // wraps to int.MinValue in int
    [InlineData(100000, 100000, "= 10000000000 steps, more than the 2147483647 a schedule can count; use fewer epochs")]
    public void Total_steps_past_int_are_a_config_error(int epochs, int steps, string message)
        => Assert.Contains(message, Assert.Throws<ConfigException>(() => TrainJob.TotalSteps(epochs, steps)).Message);

    [Theory]
    [InlineData(8, 1, 8)]
    [InlineData(8, 3, 3)]
    [InlineData(8, int.MaxValue, 1)] // batches + accumulate - 1 wraps negative in int
    [InlineData(int.MaxValue, int.MaxValue, 1)]
    [InlineData(int.MaxValue, 2, 1073741824)]
    public void Steps_per_epoch_round_up_without_wrapping(int batches, int accumulate, int expected)
        => Assert.Equal(expected, TrainJob.StepsPerEpoch(batches, accumulate));

    [Fact]
    public void A_schedule_over_too_many_steps_is_refused_before_training()
    {
        var config = new TrainConfig { Model = "mlp", Epochs = int.MaxValue, Schedule = "cosine" };
        var optimizer = TrainJob.CreateOptimizer(config, Ember.Models.ModelZoo.Create("mlp"));
        var ex = Assert.Throws<ConfigException>(() => TrainJob.CreateSchedule(config, optimizer, 4));
        Assert.Contains("epochs 2147483647 × 4 optimizer steps per epoch", ex.Message);
    }

    [Fact]
    public void Train_with_epochs_that_overflow_the_schedule_exits_with_a_usage_error()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var (code, _, stderr) = CliFailureTests.Invoke(["train", "--model", "mlp", "--epochs", "2147483647", "--schedule", "cosine",
            "--batch-size", "64", "--limit", "128", "--plain", "--project", project]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("ember: epochs 2147483647 × 2 optimizer steps per epoch = 4294967294 steps", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Directory.Delete(project, true);
    }

    [Theory]
    [InlineData("4294967300")]  // 2^32 + 4: an (int) cast made it 4, which passed the [0, 15] check
    [InlineData("-4294967296")] // wraps to 0
    public void Ablation_decimals_that_wrap_in_int_are_refused(string decimals)
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate").FullName;
        var path = Path.Combine(dir, "study.yaml");
        File.WriteAllText(path, $"baseline: {{model: mlp}}\ncomponents:\n  ema: {{ema: 0.9}}\ndecimals: {decimals}\n");
        var ex = Assert.Throws<ConfigException>(() => AblationStudy.Load(path));
        Assert.Equal($"{path}: 'decimals' is out of range, got '{decimals}'", ex.Message);
        Directory.Delete(dir, true);
    }
}
