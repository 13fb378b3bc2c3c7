using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

/// <summary>
/// The real process under a GC heap limit (DOTNET_GCHeapHardLimit, as a container's limit sets one): the check before
/// the first batch refuses a run over it, and a run started anyway (EMBER_MEMORY_CHECK=off) meets .NET's
/// OutOfMemoryException at the limit, which ends it as exit 7 with the options to lower, not as the OOM killer's 137.
/// </summary>
public class HeapLimitTests
{
    [Fact]
    public void A_run_over_the_heap_limit_is_refused_and_started_anyway_ends_as_exit_7()
    {
        var project = Directory.CreateTempSubdirectory("ember-heap").FullName;
        try
        {
            // the cnn's step at 512 images takes about 850 MiB; the limit is 256 MiB
            string[] args = ["train", "--model", "cnn", "--batch-size", "512", "--limit", "1024", "--epochs", "1", "--plain", "--project", project];
            var limit = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };
            var (code, output) = SignalTests.RunToEnd(args, exitSeconds: 120, limit);
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {output}");
            Assert.Contains("--model cnn at --batch-size 512 needs about ", output);
            // against the heap limit, what the process holds is its managed heap, which the limit counts
            Assert.Contains(" that the process holds already on its managed heap (what the GC heap limit counts)), more than the 256.0 MiB this process may use); lower --batch-size (512)", output);

            (code, output) = SignalTests.RunToEnd(args, exitSeconds: 120, new Dictionary<string, string>(limit) { [TrainingMemory.CheckVariable] = "off" });
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {output}");
            var error = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ember:", StringComparison.Ordinal));
            Assert.StartsWith("ember: out of memory (more memory was needed than this process could get, of the 256.0 MiB it may use); lower --batch-size (512) or --workers (0), " +
                "or train a smaller --model than cnn", error);
            Assert.DoesNotContain("   at ", output);
            Assert.False(Directory.EnumerateFileSystemEntries(project).Any(), "the run folder, with nothing trained in it, is removed");
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void Under_a_heap_limit_a_run_whose_managed_heap_fits_it_is_let_through_and_trains()
    {
        // a small detection run under a 128 MiB heap limit: its managed heap peaks at about 77 MiB, its resident memory at
        // about 160 (the runtime's own code and native heaps, which the limit does not count; measured in
        // docs/bench-logs/2026-12-06-session28-s28-trust.txt); a check that weighed the resident memory (118 MiB before the
        // step) against the limit refused it
        var root = Directory.CreateTempSubdirectory("ember-heap").FullName;
        try
        {
            var data = DetectCommandTests.OneObjectSet(Path.Combine(root, "set"), train: 8, val: 4).Yaml;
            var project = Path.Combine(root, "runs");
            string[] args = ["detect", "train", "--data", data, "--img", "64", "--epochs", "1", "--batch-size", "4", "--augment", "false", "--ema", "0", "--warmup-epochs", "0",
                "--plot-images", "0", "--plain", "--project", project];
            var (code, output) = SignalTests.RunToEnd(args, exitSeconds: 180, new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x8000000" });
            Assert.True(code == 0, $"exit {code}: {output}");
            Assert.Single(DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv")));
        }
        finally { Directory.Delete(root, true); }
    }
}
