using System.Globalization;

namespace Ember.Nn;

/// <summary>Formats values the way Python's repr does, so module printouts read like PyTorch's.</summary>
internal static class PyRepr
{
    /// <summary>1.0 → "1.0", 1e-5 → "1e-05", 1/3 → "0.3333333333333333".</summary>
    public static string Float(double v)
    {
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        if (double.IsNaN(v)) return "nan";
        var s = v.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            // .NET writes 1E-05, Python 1e-05; .NET writes 1E+16, Python 1e+16
            return s.Replace('E', 'e');
        }
        return s.Contains('.') ? s : s + ".0";
    }

    public static string Float(double? v) => v is double d ? Float(d) : "None";

    public static string Bool(bool b) => b ? "True" : "False";

    /// <summary>A Python tuple: (4,) or (2, 3).</summary>
    public static string Tuple(IReadOnlyList<int> items) => items.Count == 1 ? $"({items[0]},)" : "(" + string.Join(", ", items) + ")";
}
