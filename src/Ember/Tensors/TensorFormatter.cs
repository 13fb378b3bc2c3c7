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
        var formatter = ElementFormat.For(t.DType, Shown(t, values, summarize));
        var sb = new StringBuilder("tensor(");
        if (t.NumEl == 0 && t.Rank > 0) sb.Append("[]");
        else Append(sb, t.Shape.ToArray(), values, 0, 0, formatter, summarize, indent: 7);
        var suffix = new List<string>();
        if (t.NumEl == 0 && t.Rank != 1) suffix.Add($"size=({string.Join(", ", t.Shape)})");
        if (t.DType == DType.Float64 || (t.DType == DType.Int64 && t.NumEl == 0)) suffix.Add($"dtype={t.DType.TorchName()}");
        if (t.GradFn is string fn) suffix.Add($"grad_fn=<{fn}>");
        else if (t.RequiresGrad) suffix.Add("requires_grad=True");
        foreach (var s in suffix) sb.Append(", ").Append(s);
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
            int perLine = Math.Max(1, (LineWidth - indent - 1) / (f.Width + 2));
            int count = 0;
            bool first = true;
            foreach (int i in Indices(shape[dim], summarize))
            {
                if (!first)
                {
                    sb.Append(',');
                    if (count % perLine == 0) sb.Append('\n').Append(' ', indent + 1); else sb.Append(' ');
                }
                sb.Append(i < 0 ? "...".PadLeft(f.Width) : f.Format(values[offset + i]));
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

        public static ElementFormat For(DType dtype, IEnumerable<double> shown)
        {
            var f = new ElementFormat();
            var list = shown.ToList();
            if (dtype == DType.Bool) f.mode = Mode.Bool;
            else if (dtype == DType.Int64) f.mode = Mode.Integer;
            else
            {
                var finite = list.Where(v => double.IsFinite(v) && v != 0).Select(Math.Abs).ToList();
                bool integral = list.Where(double.IsFinite).All(v => v == Math.Round(v));
                if (finite.Count == 0) f.mode = integral ? Mode.IntegralFloat : Mode.Fixed;
                else
                {
                    double max = finite.Max(), min = finite.Min();
                    if (integral) f.mode = max > 1e8 ? Mode.Scientific : Mode.IntegralFloat;
                    else f.mode = max / min > 1000 || max > 1e8 || min < 1e-4 ? Mode.Scientific : Mode.Fixed;
                }
            }
            f.Width = list.Count == 0 ? 1 : list.Max(v => f.Raw(v).Length);
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
