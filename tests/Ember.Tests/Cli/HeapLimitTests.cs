using System.Globalization;
using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Tests.Data;

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

    [Fact]
    public void A_cached_run_admitted_under_a_heap_limit_just_above_the_estimate_trains_and_the_cache_term_is_the_measured_one()
    {
        // 24 + 1 noise PNGs of 1000×1000 (one file listed 25 times): 75 MB of 8-bit copies once the cache is full. The
        // check's need is read from its refusal at 96 MiB; a heap limit 32 MiB above it admits the run, which trains its
        // epoch (what the process holds, its managed heap, measures about 13 MiB more under the larger limit:
        // docs/bench-logs/2026-12-07-session31-s31-trust-cache.txt). With the cache's garbage at 80 MiB (sessions 27-30:
        // here min(copies, 80 MiB) = 71.5 MiB, against the 24 MiB now measured) the need was 47.5 MiB more: refused.
        var root = Directory.CreateTempSubdirectory("ember-heap-cache").FullName;
        try
        {
            const int Side = 1000, Train = 24;
            Directory.CreateDirectory(Path.Combine(root, "images"));
            Directory.CreateDirectory(Path.Combine(root, "labels"));
            var raw = new byte[Side * (3 * Side + 1)];
            new Random(31).NextBytes(raw);
            for (int y = 0; y < Side; y++) raw[y * (3 * Side + 1)] = 0; // filter "None": incompressible rows
            File.WriteAllBytes(Path.Combine(root, "images", "noise.png"), TestPng.Encode(Side, Side, 8, 2, interlaced: false, raw));
            File.WriteAllText(Path.Combine(root, "labels", "noise.txt"), "0 0.5 0.5 0.2 0.2\n");
            File.WriteAllLines(Path.Combine(root, "train.txt"), Enumerable.Repeat("images/noise.png", Train));
            File.WriteAllLines(Path.Combine(root, "val.txt"), ["images/noise.png"]);
            File.WriteAllText(Path.Combine(root, "data.yaml"), "train: train.txt\nval: val.txt\nnames: [square]\n");
            var project = Path.Combine(root, "runs");
            string[] args = ["detect", "train", "--data", Path.Combine(root, "data.yaml"), "--img", "64", "--epochs", "1", "--batch-size", "8", "--augment", "false",
                "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--workers", "0", "--plain", "--project", project];
            static Dictionary<string, string> Limit(double bytes) => new() { ["DOTNET_GCHeapHardLimit"] = "0x" + ((long)bytes).ToString("x", CultureInfo.InvariantCulture) };

            var (code, output) = SignalTests.RunToEnd(args, exitSeconds: 180, Limit(96 << 20));
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {output}");
            const long Pixels = (Train + 1L) * Side * Side;
            double copies = TrainingMemory.CacheBytesPerPixel * Pixels;
            var cacheTerm = Regex.Match(output, $@"; (\d+\.\d) MiB for the 8-bit copies --cache keeps of the {Train + 1} images \({Pixels:N0} pixels\)");
            Assert.True(cacheTerm.Success, output);
            double cache = double.Parse(cacheTerm.Groups[1].Value, CultureInfo.InvariantCulture) * (1 << 20);
            // the term's bound: the copies and at most 24 MiB (the most measured, 18.1 MiB, and a third); 80 MiB fails it
            Assert.InRange(cache - copies, 23.9 * (1 << 20), 24.1 * (1 << 20));
            double need = double.Parse(Regex.Match(output, @"needs about (\d+\.\d) MiB for one training step").Groups[1].Value, CultureInfo.InvariantCulture) * (1 << 20);

            double limit = need + (32 << 20);
            Assert.True(need - cache + copies + Math.Min(copies, 80 << 20) > limit, "the old garbage term would have fitted too: the case shows nothing");
            (code, output) = SignalTests.RunToEnd(args, exitSeconds: 300, Limit(limit));
            Assert.True(code == 0, $"exit {code} under a heap limit of {limit / (1 << 20):F1} MiB, the check's need {need / (1 << 20):F1} MiB: {output}");
            Assert.Single(DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv")));
        }
        finally { Directory.Delete(root, true); }
    }
}
