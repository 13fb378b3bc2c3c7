namespace Ember.Bench;

/// <summary>
/// Rewrites one marked section of docs/benchmarks.md, leaving the others (GEMM, data loading, notes) as they are.
/// Each SIMD path has its own side-by-side section, so one machine can record every path (issue 21).
/// </summary>
public static class BenchmarksDoc
{
    /// <summary>Replaces the text between <paramref name="key"/>'s markers, or appends the section (heading and markers) at the end.</summary>
    /// <param name="key">The SIMD path, e.g. "AVX-512"; the AVX-512 section keeps the original markers.</param>
    public static void RewriteSideBySide(string path, string body, string key, string heading)
    {
        string tag = key == "AVX-512" ? "side-by-side" : $"side-by-side {key}";
        string begin = $"<!-- {tag}:begin (written by `bench/run.sh`; edits inside are overwritten) -->";
        string end = $"<!-- {tag}:end -->";
        string text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        int at = text.IndexOf(begin, StringComparison.Ordinal);
        int stop = text.IndexOf(end, StringComparison.Ordinal);
        string block = begin + "\n" + body.TrimEnd() + "\n" + end;
        if (at >= 0 && stop > at) text = text[..at] + block + text[(stop + end.Length)..];
        else text = text.TrimEnd() + "\n\n" + heading + "\n\n" + block + "\n";
        File.WriteAllText(path, text);
    }
}
