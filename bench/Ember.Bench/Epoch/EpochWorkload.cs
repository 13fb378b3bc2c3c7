namespace Ember.Bench.Epoch;

/// <summary>
/// `epoch`: full Fashion-MNIST training epochs of the default CNN, Ember and TorchSharp each in a fresh process, with
/// epoch times, peak and steady-state memory and GC pauses. `--side ember|torch` runs one side in this process (what
/// the parent starts). `compare` runs it too, for the epoch row of the side-by-side table.
/// </summary>
public sealed class EpochWorkload : IWorkload
{
    public string Name => "epoch";

    public string Description => "Fashion-MNIST epochs of the default CNN, each side in its own process [--epochs 3] [--threads 2] [--batches N] [--ember-only] [--side ember|torch]";

    public int Run(string[] args)
    {
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        int epochs = Math.Max(1, int.Parse(Option(args, "--epochs") ?? "3"));
        int maxBatches = int.Parse(Option(args, "--batches") ?? "0");
        switch (Option(args, "--side"))
        {
            case "ember":
                EpochRunner.Report(EmberEpoch.Run(threads, epochs, maxBatches));
                return 0;
            case "torch":
                EpochResult? result = TorchEpoch.Run(threads, epochs, maxBatches);
                if (result is null) return 1;
                EpochRunner.Report(result);
                return 0;
            case null:
                var (ember, peer) = EpochRunner.RunBoth(threads, epochs, maxBatches, withTorch: !args.Contains("--ember-only"));
                Console.WriteLine();
                Console.WriteLine($"Fashion-MNIST, default CNN, {threads} threads, {(epochs == 1 ? "1 epoch" : $"median of {epochs} epochs")}: " +
                    $"Ember {ember?.MedianSeconds:F1} s, TorchSharp {peer?.MedianSeconds:F1} s" +
                    (ember is not null && peer is not null ? $", ratio {peer.MedianSeconds / ember.MedianSeconds:F2}" : ""));
                Console.Write(EpochReport.Markdown(ember, peer));
                return ember is null ? 1 : 0;
            case string other:
                Console.Error.WriteLine($"epoch: --side must be ember or torch, got '{other}'");
                return 1;
        }
    }

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
