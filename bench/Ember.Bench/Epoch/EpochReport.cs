using System.Text;

namespace Ember.Bench.Epoch;

/// <summary>The memory and steadiness table of the epoch runs, as Markdown (for docs/benchmarks.md and the console).</summary>
public static class EpochReport
{
    /// <summary>One row per measure, one column per side; null sides are shown as "—".</summary>
    public static string Markdown(EpochResult? ember, EpochResult? peer)
    {
        EpochResult? any = ember ?? peer;
        if (any is null) return "";
        int last = any.Epochs.Count;
        var s = new StringBuilder();
        s.AppendLine("| epoch run (one process per side) | Ember | TorchSharp |");
        s.AppendLine("|---|---:|---:|");
        Line(s, "images per epoch / batch", ember, peer, r => $"{r.Images:N0} / {r.BatchSize}");
        Line(s, "epoch wall s (each epoch)", ember, peer, r => string.Join(" / ", r.Epochs.Select(e => e.Seconds.ToString("F1"))));
        Line(s, "epoch CPU s (each epoch, both cores)", ember, peer, r => string.Join(" / ", r.Epochs.Select(e => e.CpuSeconds.ToString("F1"))));
        Line(s, "train loss (each epoch)", ember, peer, r => string.Join(" / ", r.Epochs.Select(e => e.Loss.ToString("F4"))));
        Line(s, "train accuracy % (each epoch)", ember, peer, r => string.Join(" / ", r.Epochs.Select(e => (100 * e.Accuracy).ToString("F2"))));
        Line(s, "resident after set-up (data loaded), MB", ember, peer, r => r.SetupResidentMb.ToString("F0"));
        Line(s, "peak resident during the epochs (VmHWM), MB", ember, peer, r => r.PeakReset ? r.PeakMb.ToString("F0") : $"{r.PeakMb:F0} (whole process)");
        Line(s, "peak resident of the whole process, MB", ember, peer, r => Math.Max(r.SetupPeakMb, r.PeakMb).ToString("F0"));
        Line(s, $"resident after epoch 1 → {last} (VmRSS), MB", ember, peer, r =>
            $"{r.Epochs[0].ResidentMb:F0} → {r.Epochs[^1].ResidentMb:F0} ({100 * (r.Epochs[^1].ResidentMb / r.Epochs[0].ResidentMb - 1):+0.0;-0.0}%)");
        Line(s, $".NET GC heap after epoch 1 → {last}, MB", ember, peer, r => $"{r.Epochs[0].GcHeapMb:F0} → {r.Epochs[^1].GcHeapMb:F0}");
        Line(s, ".NET GC pause per epoch, ms (each epoch)", ember, peer, r => string.Join(" / ", r.Epochs.Select(e => e.GcPauseMs.ToString("F0"))));
        Line(s, ".NET GCs per epoch, gen0/1/2 (median epoch)", ember, peer, r =>
        {
            var e = r.Epochs.OrderBy(x => x.Seconds).ElementAt(r.Epochs.Count / 2);
            return $"{e.Gen0}/{e.Gen1}/{e.Gen2}";
        });
        return s.ToString();
    }

    static void Line(StringBuilder s, string label, EpochResult? ember, EpochResult? peer, Func<EpochResult, string> cell)
        => s.AppendLine($"| {label} | {(ember is null || ember.Epochs.Count == 0 ? "—" : cell(ember))} | {(peer is null || peer.Epochs.Count == 0 ? "—" : cell(peer))} |");
}
