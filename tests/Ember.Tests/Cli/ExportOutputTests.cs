using System.Security.Cryptography;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Interop;

namespace Ember.Tests.Cli;

/// <summary>`ember export --output` never damages a run and never replaces an existing file without --force.</summary>
public class ExportOutputTests
{
    /// <summary>
    /// A case: where --output points (relative to a scratch folder holding the run as run/ and a plain folder out/),
    /// what to create there first, whether --force is given, and the expected refusal (null: the export succeeds).
    /// </summary>
    public sealed record Case(string Output, Action<string>? Prepare, bool Force, string? Refusal);

    static void Placeholder(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "placeholder");
    }

    public static TheoryData<string> Names => [.. Cases.Keys];

    static readonly Dictionary<string, Case> Cases = new()
    {
        ["the run's best weights, forced"] = new("run/best/model.safetensors", null, true, "inside the checkpoint folder"),
        ["the run's last checkpoint.json, forced"] = new("run/last/checkpoint.json", null, true, "inside the checkpoint folder"),
        ["a new file inside a checkpoint"] = new("run/best/model.onnx", null, false, "inside the checkpoint folder"),
        ["the run's args.yaml, forced"] = new("run/args.yaml", null, true, "is a file of the run"),
        ["the run's metrics.csv, forced"] = new("run/metrics.csv", s => Placeholder(Path.Combine(s, "run/metrics.csv")), true, "is a file of the run"),
        ["a run file in a subfolder, forced"] = new("run/plots/a.onnx", s => Placeholder(Path.Combine(s, "run/plots/a.onnx")), true, "is a file of the run"),
        ["args.yaml through a linked folder, forced"] = new("link/args.yaml", s => Directory.CreateSymbolicLink(Path.Combine(s, "link"), Path.Combine(s, "run")), true, "is a file of the run"),
        ["best weights through a linked folder"] = new("link/model.safetensors", s => Directory.CreateSymbolicLink(Path.Combine(s, "link"), Path.Combine(s, "run/best")), true, "inside the checkpoint folder"),
        ["an earlier export, not forced"] = new("run/best.onnx", s => Placeholder(Path.Combine(s, "run/best.onnx")), false, "already exists; pass --force"),
        ["an earlier export, forced"] = new("run/best.onnx", s => Placeholder(Path.Combine(s, "run/best.onnx")), true, null),
        ["an existing file elsewhere, not forced"] = new("out/model.onnx", s => Placeholder(Path.Combine(s, "out/model.onnx")), false, "already exists; pass --force"),
        ["an existing file elsewhere, forced"] = new("out/model.onnx", s => Placeholder(Path.Combine(s, "out/model.onnx")), true, null),
        ["a link to a run file, forced"] = new("out/model.onnx", s => { Directory.CreateDirectory(Path.Combine(s, "out")); File.CreateSymbolicLink(Path.Combine(s, "out/model.onnx"), Path.Combine(s, "run/args.yaml")); }, true, null),
        ["a folder"] = new("out", s => Directory.CreateDirectory(Path.Combine(s, "out")), true, "is a folder"),
        ["a new file elsewhere"] = new("out/new/model.onnx", null, false, null),
        ["a new file in the run's root"] = new("run/mine.onnx", null, false, null),
    };

    static Dictionary<string, string> Hashes(string folder)
    {
        var hashes = new Dictionary<string, string>();
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            hashes[Path.GetRelativePath(folder, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        return hashes;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Output_is_checked_before_anything_is_written(string name)
    {
        var c = Cases[name];
        var run = ExportCommandTests.TinyRun("mlp");
        var scratch = Path.GetDirectoryName(run)!;
        Directory.Move(run, Path.Combine(scratch, "run"));
        run = Path.Combine(scratch, "run");
        try
        {
            c.Prepare?.Invoke(scratch);
            var output = Path.Combine(scratch, c.Output);
            var before = Hashes(run);
            var existing = File.Exists(output) ? File.ReadAllBytes(output) : null;
            if (c.Refusal is string refusal)
            {
                var ex = Assert.Throws<ConfigException>(() => ExportCommand.Export(run, "onnx", output, "best", Onnx.MinOpset, false, TextWriter.Null, c.Force));
                Assert.Contains(refusal, ex.Message);
                Assert.Contains(Path.GetFullPath(output), ex.Message);
                Assert.Equal(before, Hashes(run)); // the run is unchanged
                Assert.Equal(existing, File.Exists(output) ? File.ReadAllBytes(output) : null); // the target too
            }
            else
            {
                var written = ExportCommand.Export(run, "onnx", output, "best", Onnx.MinOpset, false, TextWriter.Null, c.Force);
                Assert.Equal(Path.GetFullPath(output), written);
                Assert.Null(new FileInfo(written).LinkTarget); // a link is replaced, not written through
                Assert.True(new FileInfo(written).Length > 1000);
                before.Remove(Path.GetRelativePath(run, written));
                var after = Hashes(run);
                after.Remove(Path.GetRelativePath(run, written));
                Assert.Equal(before, after); // nothing else in the run changed (args.yaml behind a replaced link included)
            }
        }
        finally { Directory.Delete(scratch, true); }
    }

    [Fact]
    public void The_command_refuses_without_force_and_overwrites_with_it()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        try
        {
            var errors = new StringWriter();
            CliErrors.Error = errors;
            Assert.Equal(0, ExportCommand.Create().Parse([run, "--format", "safetensors"]).Invoke());
            var path = Path.Combine(run, "best.safetensors");
            var first = File.GetLastWriteTimeUtc(path);
            Assert.Equal(ExitCodes.Usage, ExportCommand.Create().Parse([run, "--format", "safetensors"]).Invoke());
            Assert.Contains($"--output {path} already exists; pass --force", errors.ToString());
            File.SetLastWriteTimeUtc(path, first.AddHours(-1));
            Assert.Equal(0, ExportCommand.Create().Parse([run, "--format", "safetensors", "--force"]).Invoke());
            Assert.True(File.GetLastWriteTimeUtc(path) > first.AddHours(-1));
            Assert.Equal(ExitCodes.Usage, ExportCommand.Create().Parse([run, "--format", "safetensors", "--force", "--output", Path.Combine(run, "args.yaml")]).Invoke());
            Assert.Contains("export never overwrites a run's own files", errors.ToString());
            Assert.Contains("model: mlp", File.ReadAllText(Path.Combine(run, "args.yaml")));
        }
        finally
        {
            CliErrors.Error = null!;
            Directory.Delete(Path.GetDirectoryName(run)!, true);
        }
    }
}
