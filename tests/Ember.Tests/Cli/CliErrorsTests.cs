using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Training;

namespace Ember.Tests.Cli;

public class CliErrorsTests
{
    public static TheoryData<string> Kinds => [.. Table.Keys];

    static readonly Dictionary<string, (Exception Error, int Code, string Message)> Table = new()
    {
        ["config"] = (new ConfigException("epochs must be positive, got 0"), ExitCodes.Usage, "epochs must be positive, got 0"),
        ["config inside an aggregate"] = (new AggregateException(new ConfigException("bad key")), ExitCodes.Usage, "bad key"),
        ["YAML escaping a reader"] = (new YamlDotNet.Core.SemanticErrorException(new YamlDotNet.Core.Mark(0, 3, 7), new YamlDotNet.Core.Mark(0, 3, 9), "Duplicate key"), ExitCodes.Usage, "line 3, column 7: Duplicate key"),
        ["argument"] = (new ArgumentException("ModelZoo: bad channels", "inChannels"), ExitCodes.Usage, "ModelZoo: bad channels"),
        ["data"] = (new InvalidDataException("idx: file.gz is truncated"), ExitCodes.Data, "idx: file.gz is truncated"),
        ["missing folder"] = (new DirectoryNotFoundException("data folder not found: /x"), ExitCodes.Data, "data folder not found: /x"),
        ["checkpoint"] = (new CheckpointException("last/model.safetensors", "is damaged"), ExitCodes.Checkpoint, "checkpoint: last/model.safetensors is damaged"),
        ["checkpoint counter"] = (new CheckpointException("last/checkpoint.json", ": epoch 9 is outside 1..3"), ExitCodes.Checkpoint, "checkpoint: last/checkpoint.json: epoch 9 is outside 1..3"),
        ["checkpoint inside an aggregate"] = (new AggregateException(new CheckpointException("best/ema.safetensors", "is missing")), ExitCodes.Checkpoint, "best/ema.safetensors is missing"),
        // the type decides, not the words: a data file whose message happens to start like a checkpoint's is a data error
        ["data worded like a checkpoint"] = (new InvalidDataException("checkpoint: a column name in data.csv"), ExitCodes.Data, "checkpoint: a column name in data.csv"),
        ["checkpoint folder missing"] = (new DirectoryNotFoundException("checkpoint: folder not found: runs/x/last"), ExitCodes.Checkpoint, "folder not found: runs/x/last"),
        ["state dict mismatch"] = (new InvalidOperationException("Error(s) in loading state_dict for Mlp:\n\tMissing key(s) in state_dict: \"a\"\n\tb\n\tc\n\td"), ExitCodes.Checkpoint, "(and 2 more); the checkpoint does not hold the model"),
        ["permission"] = (new UnauthorizedAccessException("Access to the path '/x' is denied."), ExitCodes.FileSystem, "Access to the path '/x' is denied: permission denied or read-only"),
        ["disk full by errno"] = (new IOException("write failed", 28), ExitCodes.FileSystem, "the disk is full (write failed)"),
        ["disk full inside a wrapper"] = (new IOException("cannot write args.yaml", new IOException("No space left on device")), ExitCodes.FileSystem, "the disk is full"),
        // make-data's parallel image writers meet a full disk together: one message for them, not "unexpected AggregateException"
        ["disk full on several threads"] = (new AggregateException(new OperationCanceledException(), new IOException("No space left on device : 'a.png'", 28),
            new IOException("No space left on device : 'b.png'", 28)), ExitCodes.FileSystem, "the disk is full (No space left on device : 'a.png')"),
        ["other I/O"] = (new IOException("Is a directory : '/sys/x'"), ExitCodes.FileSystem, "Is a directory : '/sys/x'"),
        // a read-only mount, and the file AtomicFile could not create named as the user knows it (not its hidden temporary)
        ["read-only"] = (new IOException("Read-only file system : '/r/exp1/.best.onnx.3799.0dd5838e14334cde9a349c198d5f0b7f.tmp'"), ExitCodes.FileSystem,
            "cannot write /r/exp1/best.onnx: the file system is read-only; write elsewhere (--output, --project) or copy the run folder somewhere writable"),
        ["permission on a temporary"] = (new UnauthorizedAccessException("Access to the path '/r/.metrics.csv.12.0dd5838e14334cde9a349c198d5f0b7f.tmp' is denied."), ExitCodes.FileSystem,
            "Access to the path '/r/metrics.csv' is denied: permission denied or read-only"),
        ["diverged"] = (new TrainingDivergedException("Trainer: the loss became NaN at epoch 2, batch 7 (step 20); lower the learning rate"), ExitCodes.Diverged, "training diverged: the loss became NaN at epoch 2, batch 7 (step 20). Usual remedies: lower --lr"),
        ["memory"] = (new OutOfMemoryException(), ExitCodes.OutOfMemory, "out of memory"),
        ["a bug"] = (new NullReferenceException("Object reference not set"), ExitCodes.Internal, "unexpected error: NullReferenceException"),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_of_failure_has_its_code_and_a_message(string kind)
    {
        var (error, code, message) = Table[kind];
        var (actualCode, actualMessage) = CliErrors.Describe(error);
        Assert.Equal(code, actualCode);
        Assert.Contains(message, actualMessage);
        Assert.DoesNotContain("(Parameter '", actualMessage);
    }

    [Fact]
    public void Report_prints_one_line_and_the_trace_only_when_verbose()
    {
        Exception thrown;
        try { throw new InvalidOperationException("boom"); }
        catch (InvalidOperationException e) { thrown = e; }
        var output = new StringWriter();
        var previous = CliErrors.Error;
        CliErrors.Error = output;
        try
        {
            Assert.Equal(ExitCodes.Internal, CliErrors.Report(thrown));
            Assert.DoesNotContain("   at ", output.ToString());
            Assert.Contains("--verbose", output.ToString()); // a bug says how to get the trace
            output.GetStringBuilder().Clear();
            CliErrors.Verbose = true;
            CliErrors.Report(thrown);
            Assert.Contains("   at ", output.ToString());
        }
        finally
        {
            CliErrors.Error = previous;
            CliErrors.Verbose = false;
        }
    }
}
