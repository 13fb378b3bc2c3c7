using Ember.Cli.Commands;
using Ember.Cli.Reporting;
using Ember.Models;
using Ember.Training;

namespace Ember.Tests.Cli;

public class ProgressReporterTests
{
    static TrainerState State(int batches) => new(ModelZoo.Create("mlp"), () => []) { Epoch = 1, Epochs = 2, BatchesPerEpoch = batches, Lr = 1e-3, EpochLoss = 0.5, EpochAccuracy = 0.8 };

    [Fact]
    public void Plain_mode_prints_a_line_at_least_every_10_seconds_with_images_per_second_and_the_eta()
    {
        var now = TimeSpan.Zero;
        var output = new StringWriter();
        var reporter = new ProgressReporter(true, output, () => now);
        var state = State(1000);
        reporter.OnEpochStart(state);
        // 1 batch of 100 images every 3 s: a quarter of the epoch is 750 s away, so only the 10 s rule prints
        for (int b = 0; b < 10; b++)
        {
            now += TimeSpan.FromSeconds(3);
            state.BatchIndex = b;
            state.EpochSamples = 100L * (b + 1);
            reporter.OnBatchEnd(state);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length); // at 12 s and 24 s (the first batches that end 10 s or more after the last line)
        Assert.StartsWith("epoch 1/2   0.4%", lines[0]);
        Assert.Contains("33 img/s", lines[0]);
        // after batch 4 (12 s, 3 s a batch): 996 batches left in this epoch = 49:48, plus 1000 of epoch 2 = 1:39:48
        Assert.Contains("ETA epoch 49:48, run 1:39:48", lines[0]);
    }

    [Fact]
    public void The_summary_of_a_run_stopped_before_its_first_epoch_says_so_instead_of_NaN()
    {
        var output = new StringWriter();
        var reporter = new ProgressReporter(true, output);
        reporter.Summary(State(10), "runs/train/exp3");
        Assert.Contains("done: 0 epochs, no epoch completed; results in runs/train/exp3", output.ToString());
        Assert.DoesNotContain("NaN", output.ToString());
        var state = State(10);
        state.History.Add(new EpochMetrics(1, 0.5, 0.8, 0.4, 0.875, 0.99, 1e-3, 2));
        output.GetStringBuilder().Clear();
        reporter.Summary(state, "r");
        Assert.Contains("done: 1 epoch, best top-1 87.50%", output.ToString());
    }

    [Fact]
    public void A_divergence_carries_the_last_finite_loss_to_the_message()
    {
        var reporter = new ProgressReporter(true, new StringWriter(), () => TimeSpan.Zero);
        var state = State(10);
        reporter.OnEpochStart(state);
        state.BatchIndex = 3;
        state.BatchLoss = 2.5;
        reporter.OnBatchEnd(state);
        var ex = Assert.Throws<TrainingDivergedException>(() => reporter.Run(() => throw new TrainingDivergedException("Trainer: the loss became NaN at epoch 1, batch 4 (step 4); lower the learning rate")));
        var (code, message) = CliErrors.Describe(ex);
        Assert.Equal(ExitCodes.Diverged, code);
        Assert.Contains("training diverged: the loss became NaN at epoch 1, batch 4 (step 4); the last finite loss was 2.5 (epoch 1, batch 3)", message);
        Assert.Contains("lower --lr", message);
    }

    [Theory]
    [InlineData(80, 8)]
    [InlineData(120, 36)]
    [InlineData(200, 60)]
    public void The_live_bar_takes_the_width_the_terminal_leaves(int columns, int bar)
        => Assert.Equal(bar, ProgressReporter.BarWidth(columns));
}
