using System.Globalization;
using Ember.Nn;

namespace Ember.Detection.Optim;

/// <summary>
/// YOLOv5's layer freezing (train.py --freeze): one number N freezes the layers model.0 … model.N−1 (10: YOLOv5's
/// backbone), several numbers freeze exactly those layers, 0 freezes nothing. A frozen layer's parameters stop requiring
/// grad, so the backward pass records nothing for them (nor for the layers before them, when nothing there trains) and
/// the optimizer never sees them. Its BatchNorm layers still update their running statistics in train mode, as in
/// YOLOv5 (freezing there only sets requires_grad). Layers are the entries of the detector's <c>model</c> list, so
/// parameter names start with <c>model.{i}.</c> as YOLOv5's do.
/// </summary>
public static class YoloFreeze
{
    /// <summary>The layer indices <paramref name="freeze"/> names: one number N gives 0 … N−1, several give themselves.</summary>
    public static int[] Layers(IReadOnlyList<int> freeze)
        => freeze.Count == 1 ? [.. Enumerable.Range(0, Math.Max(0, freeze[0]))] : [.. freeze];

    /// <summary>How many layers the detector's <c>model</c> list holds (25 for YOLOv5's v6 layout).</summary>
    public static int LayerCount(Module detector)
    {
        foreach (var (name, child) in detector.NamedChildren())
            if (name == "model" && child is ModuleList list) return list.Count;
        throw new ArgumentException($"{detector.GetType().Name}: expected a detector whose layers are a ModuleList named 'model' (YOLOv5's layout)");
    }

    /// <summary>
    /// Why <paramref name="freeze"/> cannot be applied to <paramref name="detector"/> (a negative number, a repeated
    /// layer, a layer beyond the last, or every parameter frozen so that nothing would train), or null when it can.
    /// </summary>
    public static string? Check(Module detector, IReadOnlyList<int> freeze)
    {
        if (freeze.Count == 0) return "expected a number of layers N (0: none) or several layer indices, got nothing";
        if (freeze.FirstOrDefault(i => i < 0, 0) is int negative and < 0)
            return $"expected numbers ≥ 0, got {negative}";
        int count = LayerCount(detector), last = count - 1;
        if (freeze.Count == 1 && freeze[0] > count)
            return $"expected a number of layers up to {count} (the detector's layers are 0–{last}), got {freeze[0]}";
        if (freeze.Count > 1)
        {
            if (freeze.FirstOrDefault(i => i > last, -1) is int beyond and >= 0)
                return $"expected layer indices 0–{last} (the detector's layers), got {beyond}";
            if (freeze.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1) is { } twice)
                return $"expected each layer once, got layer {twice.Key} {twice.Count()} times";
        }
        var prefixes = Prefixes(Layers(freeze));
        if (detector.NamedParameters().All(p => !p.Parameter.RequiresGrad || Frozen(p.Name, prefixes)))
            return $"expected at least one layer with parameters left to train, got all of them frozen (layers {Describe(Layers(freeze))} of 0–{last})";
        return null;
    }

    /// <summary>
    /// Freezes the layers <paramref name="freeze"/> names (<see cref="Layers"/>): every parameter whose name starts with
    /// <c>model.{i}.</c> for one of them stops requiring grad. Returns the names of the parameters frozen. An argument
    /// <see cref="Check"/> refuses is an <see cref="ArgumentException"/> with its reason.
    /// </summary>
    public static IReadOnlyList<string> Apply(Module detector, IReadOnlyList<int> freeze)
    {
        if (Check(detector, freeze) is { } problem) throw new ArgumentException($"freeze {string.Join(' ', freeze)}: {problem}", nameof(freeze));
        var prefixes = Prefixes(Layers(freeze));
        var frozen = new List<string>();
        foreach (var (name, p) in detector.NamedParameters())
            if (Frozen(name, prefixes))
            {
                p.RequiresGrad = false;
                frozen.Add(name);
            }
        return frozen;
    }

    /// <summary>Layer indices as ranges: "0–9", "0–2, 5".</summary>
    public static string Describe(IReadOnlyList<int> layers)
    {
        var sorted = layers.Distinct().Order().ToArray();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? Text(sorted[i]) : j == i + 1 ? $"{Text(sorted[i])}, {Text(sorted[j])}" : $"{Text(sorted[i])}–{Text(sorted[j])}");
            i = j + 1;
        }
        return string.Join(", ", parts);

        static string Text(int i) => i.ToString(CultureInfo.InvariantCulture);
    }

    // YOLOv5 matches f"model.{x}." inside the name; its parameter names start with it, as ours do
    static string[] Prefixes(int[] layers) => [.. layers.Select(i => string.Create(CultureInfo.InvariantCulture, $"model.{i}."))];

    static bool Frozen(string name, string[] prefixes)
    {
        foreach (var prefix in prefixes) if (name.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }
}
