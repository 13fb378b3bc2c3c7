using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

public class GradientFlowCommandTests
{
    [Fact]
    public void Writes_the_gradient_flow_plot_as_a_png()
    {
        var folder = Directory.CreateTempSubdirectory("ember-gradflow").FullName;
        var path = Path.Combine(folder, "sub", "flow.png");
        Assert.Equal(0, GradientFlowCommand.Create().Parse(["--output", path]).Invoke());
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        // IHDR: width and height, big-endian, at bytes 16..23
        Assert.Equal(900, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(560, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Directory.Delete(folder, true);
    }

    [Fact]
    public void Recurrent_mode_writes_norms_per_step_and_accuracy_per_run_and_rejects_bad_sizes()
    {
        var folder = Directory.CreateTempSubdirectory("ember-gradflow-rnn").FullName;
        try
        {
            var path = Path.Combine(folder, "flow.png");
            var (code, stdout, stderr) = CliFailureTests.Invoke(["gradient-flow", "--recurrent", "--length", "8", "--steps", "2", "--hidden", "3", "--output", path]);
            Assert.True(code == 0, stderr);
            var norms = File.ReadAllLines(Path.Combine(folder, "step_gradient_norms.csv"));
            Assert.Equal("t,rnn,lstm,gru,rnn_trained,lstm_trained,gru_trained", norms[0]);
            Assert.Equal(9, norms.Length);
            var accuracy = File.ReadAllLines(Path.Combine(folder, "accuracy.csv"));
            Assert.Equal(["rnn,none", "rnn,1", "lstm,none", "lstm,1", "gru,none", "gru,1"], accuracy.Skip(1).Select(l => string.Join(',', l.Split(',')[..2])).ToArray());
            Assert.Contains("first/last", stdout);
            (code, _, stderr) = CliFailureTests.Invoke(["gradient-flow", "--recurrent", "--length", "1", "--output", path]);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("expected --length ≥ 2", stderr);
            // a bad option is refused before a run folder is made (it used to leave an empty runs/gradient-flow/exp1)
            var project = Path.Combine(folder, "runs");
            (code, _, stderr) = CliFailureTests.Invoke(["gradient-flow", "--recurrent", "--hidden", "0", "--project", project]);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.False(Directory.Exists(Path.Combine(project, "exp1")), "a run folder made for a refused command");
        }
        finally { Directory.Delete(folder, true); }
    }
}
