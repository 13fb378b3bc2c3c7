using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

public class PredictCommandTests
{
    static string Capture(Func<int> action, out int code)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try { code = action(); }
        finally { Console.SetOut(previous); }
        return output.ToString();
    }

    [Fact]
    public void Predicts_several_test_images_as_one_batch_fused_or_not()
    {
        var run = ExportCommandTests.TinyRun();
        var plain = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "1"]).Invoke(), out int code);
        Assert.Equal(0, code);
        Assert.Contains("top-5 for test image 0 (true class: Ankle boot):", plain);
        Assert.Contains("top-5 for test image 1 (true class: Pullover):", plain);
        Assert.Equal(12, plain.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var fused = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "1", "--fuse", "--checkpoint", "last"]).Invoke(), out code);
        Assert.Equal(0, code);
        Assert.Equal(plain, fused); // the same classes and percentages to two decimals
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
