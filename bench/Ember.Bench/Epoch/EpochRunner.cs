using System.Diagnostics;
using System.Text.Json;

namespace Ember.Bench.Epoch;

/// <summary>
/// Runs each side's epochs in a fresh child process (`Ember.Bench epoch --side ember|torch`), Ember first, so each
/// process's peak memory is its own side's alone; the child prints its progress and then one result line of JSON.
/// </summary>
public static class EpochRunner
{
    /// <summary>The prefix of the child's result line.</summary>
    public const string ResultPrefix = "EPOCH-RESULT ";

    /// <summary>Both sides' results (TorchSharp's null without the peer, or when <paramref name="withTorch"/> is false).</summary>
    public static (EpochResult? Ember, EpochResult? Torch) RunBoth(int threads, int epochs, int maxBatches, bool withTorch)
    {
        EpochResult? ember = RunChild("ember", threads, epochs, maxBatches);
        EpochResult? peer = withTorch ? RunChild("torch", threads, epochs, maxBatches) : null;
        return (ember, peer);
    }

    /// <summary>Prints the result line the parent reads.</summary>
    public static void Report(EpochResult result) => Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));

    static EpochResult? RunChild(string side, int threads, int epochs, int maxBatches)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("epoch: cannot find this program's path to start a child process");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        // Started as `dotnet Ember.Bench.dll`: the child needs the assembly too.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(EpochRunner).Assembly.Location);
        foreach (string a in new[] { "epoch", "--side", side, "--threads", $"{threads}", "--epochs", $"{epochs}", "--batches", $"{maxBatches}" })
            start.ArgumentList.Add(a);
        Console.WriteLine($"  epoch: {side} in a fresh process ({epochs} epochs{(maxBatches > 0 ? $" of {maxBatches} batches" : "")})");
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"epoch: could not start {self}");
        EpochResult? result = null;
        while (child.StandardOutput.ReadLine() is string line)
        {
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal)) result = JsonSerializer.Deserialize<EpochResult>(line[ResultPrefix.Length..]);
            else Console.WriteLine(line);
        }
        child.WaitForExit();
        if (child.ExitCode != 0 || result is null)
        {
            Console.Error.WriteLine($"epoch: the {side} process exited with code {child.ExitCode}{(result is null ? " and no result" : "")}");
            return null;
        }
        return result;
    }
}
