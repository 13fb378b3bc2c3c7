using Ember.Cli.Commands;
using Ember.Models;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>A diverged run's checkpoint (NaN weights) is refused by predict and export unless --allow-non-finite is given.</summary>
public class NonFiniteCheckpointTests
{
    static (string Out, string Error) Capture(Func<int> action, out int code)
    {
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output); Console.SetError(error);
        try { code = action(); }
        finally { Console.SetOut(previousOut); Console.SetError(previousError); }
        return (output.ToString(), error.ToString());
    }

    [Fact]
    public void Predict_and_export_refuse_nan_weights_naming_the_tensor_and_file()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        var model = ModelZoo.Create("mlp", 10, 1);
        var name = model.StateDict().Keys.Last();
        using (Torch.NoGrad()) model.StateDict()[name].FillInPlace(double.NaN);
        Directory.Delete(Path.Combine(run, "best"), true);
        Checkpoint.Save(Path.Combine(run, "best"), model, new CheckpointState { Metadata = new() { ["model"] = "mlp" } });

        var (_, error) = Capture(() => PredictCommand.Create().Parse([run, "--index", "0"]).Invoke(), out int code);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains(Path.Combine("best", "model.safetensors"), error);
        Assert.Contains($"tensor '{name}' holds", error);
        Assert.DoesNotContain("   at ", error); // no stack trace

        var target = Path.Combine(run, "nan.safetensors");
        (_, error) = Capture(() => ExportCommand.Create().Parse([run, "--format", "safetensors", "--output", target]).Invoke(), out code);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains("non-finite", error);
        Assert.False(File.Exists(target));

        var (output, _) = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "--allow-non-finite"]).Invoke(), out code);
        Assert.Equal(0, code);
        Assert.Contains("top-5 for test image 0", output);
        // the last/ checkpoint is finite and loads without the switch
        Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "--checkpoint", "last"]).Invoke(), out code);
        Assert.Equal(0, code);
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
