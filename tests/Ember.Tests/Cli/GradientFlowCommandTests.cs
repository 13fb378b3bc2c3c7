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
}
