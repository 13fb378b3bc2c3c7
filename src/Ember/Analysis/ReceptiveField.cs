using System.Globalization;
using System.Text;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Analysis;

/// <summary>
/// Receptive field of a convolutional stack (notes 003: one 3×3 conv sees 3×3, two see 5×5). Per layer with effective
/// kernel k' = d·(k − 1) + 1: jump j ← j·s, size r ← r + (k' − 1)·j_in, start ← start + ((k' − 1)/2 − p)·j_in, output
/// size n ← ⌊(n + 2p − k')/s⌋ + 1; starting from r = 1, j = 1, start = 0.
/// </summary>
public static class ReceptiveField
{
    /// <summary>The bookkeeping after each of <paramref name="layers"/>; <paramref name="inputSize"/> adds feature-map sizes.</summary>
    public static IReadOnlyList<ReceptiveFieldLayer> Compute(IEnumerable<LayerGeometry> layers, int? inputSize = null)
        => Compute(layers.Select(g => (g, "Layer")), inputSize);

    static List<ReceptiveFieldLayer> Compute(IEnumerable<(LayerGeometry Geometry, string Type)> layers, int? inputSize)
    {
        var result = new List<ReceptiveFieldLayer>();
        int jump = 1, size = 1;
        double start = 0;
        int? n = inputSize;
        foreach (var (g, type) in layers)
        {
            if (g.Kernel < 1 || g.Stride < 1 || g.Dilation < 1 || g.Padding < 0)
                throw new ArgumentException($"ReceptiveField: layer '{g.Name}' needs kernel, stride, dilation ≥ 1 and padding ≥ 0, got k={g.Kernel}, s={g.Stride}, p={g.Padding}, d={g.Dilation}");
            int k = g.EffectiveKernel;
            if (n is int m)
            {
                int span = m + 2 * g.Padding - k;
                if (span < 0) throw new ArgumentException($"ReceptiveField: layer '{g.Name}' has an effective kernel of {k} but its input is only {m} (+2·{g.Padding} padding) wide");
                int o = (g.CeilMode ? (span + g.Stride - 1) / g.Stride : span / g.Stride) + 1;
                // PyTorch drops a last ceil-mode window that would start inside the right padding.
                if (g.CeilMode && (o - 1) * g.Stride >= m + g.Padding) o--;
                n = o;
            }
            size += (k - 1) * jump;
            start += ((k - 1) / 2.0 - g.Padding) * jump;
            jump *= g.Stride;
            result.Add(new ReceptiveFieldLayer(g.Name, type, g, n, jump, size, start));
        }
        return result;
    }

    /// <summary>
    /// The main path of <paramref name="model"/> (along the height axis): its leaf modules in registration order —
    /// which is execution order for Sequential stacks and the zoo's AlexNet, LeNet and ResNet — taking Conv2d,
    /// MaxPool2d and AvgPool2d; pointwise layers (BN, activations, dropout) leave the field unchanged; branches named
    /// "downsample" (ResNet's 1×1 shortcut, which sees less) are skipped; the walk stops at the first global layer
    /// (adaptive pooling, flatten, linear), after which every output sees the whole input.
    /// </summary>
    public static IReadOnlyList<ReceptiveFieldLayer> Of(Module model, int? inputSize = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new List<(LayerGeometry, string)>();
        foreach (var (path, m) in model.NamedModules())
        {
            if (m.Children().Any() || path.Split('.').Contains("downsample")) continue;
            string name = path.Length == 0 ? m.GetType().Name : path;
            LayerGeometry? g = m switch
            {
                Conv2d c => new LayerGeometry(name, c.KernelSize.H, c.Stride.H,
                    c.Padding.IsSame ? c.Dilation.H * (c.KernelSize.H - 1) / 2 : c.Padding.H, c.Dilation.H),
                MaxPool2d p => new LayerGeometry(name, p.KernelSize.H, p.Stride.H, p.Padding.H, p.Dilation.H, p.CeilMode),
                AvgPool2d p => new LayerGeometry(name, p.KernelSize.H, p.Stride.H, p.Padding.H, 1, p.CeilMode),
                _ => null,
            };
            if (g is not null) layers.Add((g, m.GetType().Name));
            else if (m is AdaptiveAvgPool2d or AdaptiveMaxPool2d or Flatten or Linear) break;
        }
        return Compute(layers, inputSize);
    }

    /// <summary>A plain-text table of the layers: name, k/s/p/d, output size, jump, receptive field, start.</summary>
    public static string FormatTable(IReadOnlyList<ReceptiveFieldLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        int w = Math.Max(5, layers.Count == 0 ? 0 : layers.Max(l => l.Name.Length));
        var sb = new StringBuilder();
        sb.AppendLine($"{"Layer".PadRight(w)}  {"Type",-10} {"k",3} {"s",3} {"p",3} {"d",3} {"size",6} {"jump",6} {"RF",6} {"start",8}");
        foreach (var l in layers)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{l.Name.PadRight(w)}  {l.Type,-10} {l.Geometry.Kernel,3} {l.Geometry.Stride,3} {l.Geometry.Padding,3} {l.Geometry.Dilation,3} {(l.OutputSize?.ToString(CultureInfo.InvariantCulture) ?? "-"),6} {l.Jump,6} {l.Size,6} {l.Start,8:0.##}"));
        return sb.ToString();
    }
}
