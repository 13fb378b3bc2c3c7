using Ember.Cli.Commands;
using Ember.Models;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>A diverged run's checkpoint (NaN weights) is refused by predict and export unless --allow-non-finite is given (the message names it).</summary>
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

        var before = Hashes(run);
        var (_, error) = Capture(() => PredictCommand.Create().Parse([run, "--index", "0"]).Invoke(), out int code);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains(Path.Combine("best", "model.safetensors"), error);
        Assert.Contains($"tensor '{name}' holds", error);
        Assert.DoesNotContain("   at ", error); // no stack trace

        var target = Path.Combine(run, "nan.safetensors");
        (_, error) = Capture(() => ExportCommand.Create().Parse([run, "--format", "safetensors", "--output", target]).Invoke(), out code);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains("non-finite", error);
        Assert.Contains("(--allow-non-finite loads it anyway)", error); // the option by its name, which export has too
        Assert.False(File.Exists(target));
        Assert.Equal(before, Hashes(run)); // the refused commands changed nothing in the run
        (_, error) = Capture(() => ExportCommand.Create().Parse([run, "--format", "safetensors", "--output", target, "--allow-non-finite"]).Invoke(), out code);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(target));
        File.Delete(target);

        var (output, _) = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "--allow-non-finite"]).Invoke(), out code);
        Assert.Equal(0, code);
        Assert.Contains("top-5 for test image 0", output);
        // the last/ checkpoint is finite and loads without the switch
        Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "--checkpoint", "last"]).Invoke(), out code);
        Assert.Equal(0, code);
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    static Dictionary<string, string> Hashes(string folder)
    {
        var result = new Dictionary<string, string>();
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            result[Path.GetRelativePath(folder, file)] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        return result;
    }

    [Fact]
    public void Predict_refuses_a_hostile_image_with_its_name_and_no_stack_trace()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        var image = Path.Combine(run, "huge.png");
        // a valid PNG header declaring 30000×30000 pixels: refused before decoding
        byte[] ihdr = [0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0];
        var chunk = new byte[25];
        chunk[3] = 13;
        "IHDR"u8.CopyTo(chunk.AsSpan(4));
        ihdr.CopyTo(chunk, 8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(21), Ember.Tests.Interop.HostileFile.Crc32(chunk.AsSpan(4, 17)));
        File.WriteAllBytes(image, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. chunk]);
        var before = Hashes(run);
        var (_, error) = Capture(() => PredictCommand.Create().Parse([run, "--image", image]).Invoke(), out int code);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains("huge.png", error);
        Assert.Contains("30000×30000", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(before, Hashes(run));
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
