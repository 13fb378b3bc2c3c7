using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Tests.Cli;

/// <summary>
/// Memory running out in the middle of a training step (between backward and the optimizer step of epoch 2), in the
/// three training commands: one `ember: out of memory …` line (exit 7) that names the options to lower with their values
/// and says what the run folder keeps; then `--resume` ends on the same weights as a run never stopped.
/// </summary>
public class OutOfMemoryTests
{
    static string[] Train(string command, string temp, string project) => command switch
    {
        "train" => ["train", "--model", "mlp", "--epochs", "2", "--batch-size", "64", "--limit", "256", "--plain", "--project", project],
        "detect" => ["detect", "train", "--data", Path.Combine(temp, "set", "data.yaml"), "--img", "64", "--epochs", "2", "--batch-size", "4", "--augment", "false",
                     "--optimizer", "adam", "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--plain", "--project", project],
        _ => ["forecast", "train", "--data", Path.Combine(temp, "level.csv"), "--epochs", "2", "--hidden", "8", "--lookback", "24", "--horizon", "3",
              "--val", "12", "--test", "12", "--plain", "--project", project],
    };

    static AsyncLocal<Callback?> Hook(string command) => command switch
    {
        "train" => TrainJob.TestCallback,
        "detect" => DetectJob.TestCallback,
        _ => ForecastJob.TestCallback,
    };

    [Theory]
    [InlineData("train", "--batch-size (64)")]
    [InlineData("detect", "--img (64), --batch-size (4)")]
    [InlineData("forecast", "--hidden (8)")]
    public void Memory_running_out_mid_step_names_the_options_and_the_run_resumes_onto_the_same_weights(string command, string options)
    {
        var temp = Directory.CreateTempSubdirectory("ember-oom").FullName;
        try
        {
            if (command == "detect") DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 8, val: 4);
            if (command == "forecast") ForecastFaultTests.Series(temp);
            var (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "whole")));
            Assert.True(code == 0, stderr + stdout);

            // the second step of epoch 2 fails after its backward, before its optimizer step
            var hook = Hook(command);
            hook.Value = new LambdaCallback
            {
                AfterBackward = s => { if (s.Epoch == 2 && s.BatchIndex == 1) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."); },
            };
            try { (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "cut"))); }
            finally { hook.Value = null; }
            var run = Path.Combine(temp, "cut", "exp1");
            var resume = $"{(command == "train" ? "ember train" : $"ember {command} train")} --resume {run}";
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}");
            Assert.StartsWith("ember: out of memory (Insufficient memory to continue the execution of the program; ", stderr);
            Assert.Contains($"{Path.Combine(run, "last")} is whole (saved at the end of epoch 1): `{resume}` continues from there", stderr);
            Assert.Contains(options, stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"resuming {run} at epoch 2", stdout);
            var whole = Path.Combine(temp, "whole", "exp1");
            Assert.Equal(ResumeTests.Sha256(Path.Combine(whole, "last", "model.safetensors")), ResumeTests.Sha256(Path.Combine(run, "last", "model.safetensors")));
        }
        finally { Directory.Delete(temp, true); }
    }
}
