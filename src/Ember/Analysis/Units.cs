using System.Globalization;

namespace Ember.Analysis;

/// <summary>Decimal K/M/G/T formatting of counts (thop's clever_format; 1 K = 1000) and binary sizes for bytes.</summary>
public static class Units
{
    /// <summary>714206912 → "714.21 M"; values under 1000 print as integers.</summary>
    public static string Format(double value, int decimals = 2)
    {
        string[] suffixes = ["", " K", " M", " G", " T", " P"];
        double a = Math.Abs(value);
        int k = 0;
        while (a >= 1000 && k < suffixes.Length - 1) { a /= 1000; k++; }
        if (k == 0) return value.ToString(value == Math.Floor(value) ? "0" : "0." + new string('#', decimals), CultureInfo.InvariantCulture);
        return (Math.Sign(value) * a).ToString("F" + decimals, CultureInfo.InvariantCulture) + suffixes[k];
    }

    /// <summary>Bytes in binary units: 4194304 → "4.00 MiB".</summary>
    public static string FormatBytes(double bytes, int decimals = 2)
    {
        string[] suffixes = ["B", "KiB", "MiB", "GiB", "TiB"];
        double a = Math.Abs(bytes);
        int k = 0;
        while (a >= 1024 && k < suffixes.Length - 1) { a /= 1024; k++; }
        return k == 0 ? bytes.ToString("0", CultureInfo.InvariantCulture) + " B"
            : (Math.Sign(bytes) * a).ToString("F" + decimals, CultureInfo.InvariantCulture) + " " + suffixes[k];
    }
}
