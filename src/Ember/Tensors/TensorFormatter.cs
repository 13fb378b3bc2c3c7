using System.Globalization;
using System.Text;

namespace Ember;

/// <summary>PyTorch's tensor printing: 4 decimals, scientific for wide ranges, "1." for integral floats, 80-column wrapping, summaries over 1000 elements.</summary>
internal static class TensorFormatter
{
    const int Threshold = 1000, EdgeItems = 3, LineWidth = 80;

    public static string Format(Tensor t)
    {
        var values = t.NumEl > 0 ? t.ToDoubleArray() : [];
        bool summarize = t.NumEl > Threshold;
        var suffixes = new List<string>();
        string body;
        if (t.NumEl == 0)
        {
            // an empty tensor shows its shape unless it is (0,), and any dtype but the default
            if (t.Rank != 1) suffixes.Add($"size=({string.Join(", ", t.Shape)})");
            if (t.DType != DType.Float32) suffixes.Add($"dtype={t.DType.TorchName()}");
            body = "tensor([]";
        }
        else
        {
            // PyTorch names every dtype but the default float, int64 and bool
            if (t.DType is not (DType.Float32 or DType.Int64 or DType.Bool)) suffixes.Add($"dtype={t.DType.TorchName()}");
            var formatter = ElementFormat.For(t.DType, Shown(t, values, summarize));
            var sb = new StringBuilder("tensor(");
            Append(sb, t.Shape.ToArray(), values, 0, 0, formatter, summarize, indent: 7);
            body = sb.ToString();
        }
        if (t.GradFn is string fn) suffixes.Add($"grad_fn=<{fn}>");
        else if (t.RequiresGrad) suffixes.Add("requires_grad=True");
        return AddSuffixes(body, suffixes);
    }

    // PyTorch's _add_suffixes: a suffix that would run past the line width starts a new line, indented like the data.
    static string AddSuffixes(string body, List<string> suffixes)
    {
        var sb = new StringBuilder(body);
        int lastLineLength = body.Length - body.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLength + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', 7).Append(suffix);
                lastLineLength = 7 + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLength += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    // The values that will be printed (PyTorch decides the format from the shown values only).
    static IEnumerable<double> Shown(Tensor t, double[] values, bool summarize)
    {
        if (!summarize) return values;
        var shown = new List<double>();
        Collect(t.Shape.ToArray(), values, 0, 0, shown);
        return shown;
    }

    static void Collect(int[] shape, double[] values, int dim, int offset, List<double> shown)
    {
        int stride = 1;
        for (int d = dim + 1; d < shape.Length; d++) stride *= shape[d];
        if (shape.Length == 0) { shown.Add(values[0]); return; }
        foreach (int i in Indices(shape[dim], true))
        {
            if (i < 0) continue; // the "..." marker
            if (dim == shape.Length - 1) shown.Add(values[offset + i]);
            else Collect(shape, values, dim + 1, offset + i * stride, shown);
        }
    }

    static IEnumerable<int> Indices(int n, bool summarize)
    {
        if (!summarize || n <= 2 * EdgeItems) { for (int i = 0; i < n; i++) yield return i; yield break; }
        for (int i = 0; i < EdgeItems; i++) yield return i;
        yield return -1;
        for (int i = n - EdgeItems; i < n; i++) yield return i;
    }

    static void Append(StringBuilder sb, int[] shape, double[] values, int dim, int offset, ElementFormat f, bool summarize, int indent)
    {
        if (shape.Length == 0) { sb.Append(f.Format(values[0]).Trim()); return; }
        int stride = 1;
        for (int d = dim + 1; d < shape.Length; d++) stride *= shape[d];
        sb.Append('[');
        if (dim == shape.Length - 1)
        {
            int perLine = Math.Max(1, (LineWidth - indent) / (f.Width + 2));
            int count = 0;
            bool first = true;
            foreach (int i in Indices(shape[dim], summarize))
            {
                if (!first)
                {
                    sb.Append(',');
                    if (count % perLine == 0) sb.Append('\n').Append(' ', indent + 1); else sb.Append(' ');
                }
                sb.Append(i < 0 ? " ..." : f.Format(values[offset + i]));
                first = false;
                count++;
            }
        }
        else
        {
            bool first = true;
            string separator = "," + new string('\n', shape.Length - dim - 1) + new string(' ', indent + 1);
            foreach (int i in Indices(shape[dim], summarize))
            {
                if (!first) sb.Append(separator);
                if (i < 0) sb.Append("...");
                else Append(sb, shape, values, dim + 1, offset + i * stride, f, summarize, indent + 1);
                first = false;
            }
        }
        sb.Append(']');
    }

    sealed class ElementFormat
    {
        enum Mode { Integer, IntegralFloat, Fixed, Scientific, Bool }
        Mode mode;
        public int Width;

        // PyTorch's _Formatter: the mode and the width come from the non-zero finite values only (floats), or all values (ints, bools)
        public static ElementFormat For(DType dtype, IEnumerable<double> shown)
        {
            var f = new ElementFormat();
            var list = shown.ToList();
            if (dtype == DType.Bool || dtype.IsIntegral())
            {
                f.mode = dtype == DType.Bool ? Mode.Bool : Mode.Integer;
                f.Width = list.Count == 0 ? 1 : list.Max(v => f.Raw(v).Length);
                return f;
            }
            var finite = list.Where(v => double.IsFinite(v) && v != 0).ToList();
            f.mode = Mode.IntegralFloat;
            f.Width = 1;
            if (finite.Count == 0) return f;
            double max = finite.Max(Math.Abs), min = finite.Min(Math.Abs);
            bool integral = finite.All(v => v == Math.Ceiling(v));
            if (integral) f.mode = max / min > 1000 || max > 1e8 ? Mode.Scientific : Mode.IntegralFloat;
            else f.mode = max / min > 1000 || max > 1e8 || min < 1e-4 ? Mode.Scientific : Mode.Fixed;
            f.Width = finite.Max(v => f.Raw(v).Length);
            return f;
        }

        string Raw(double v)
        {
            if (double.IsNaN(v)) return "nan";
            if (double.IsPositiveInfinity(v)) return "inf";
            if (double.IsNegativeInfinity(v)) return "-inf";
            return mode switch
            {
                Mode.Bool => v != 0 ? "True" : "False",
                Mode.Integer => ((long)v).ToString(CultureInfo.InvariantCulture),
                Mode.IntegralFloat => v.ToString("0", CultureInfo.InvariantCulture) + ".",
                Mode.Fixed => v.ToString("0.0000", CultureInfo.InvariantCulture),
                _ => v.ToString("0.0000e+00", CultureInfo.InvariantCulture),
            };
        }

        public string Format(double v) => Raw(v).PadLeft(Width);
    }
}
