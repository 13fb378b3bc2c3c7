namespace Ember.Bench;

/// <summary>Rewrites one marked section of docs/benchmarks.md, leaving the others (GEMM, data loading, notes) as they are.</summary>
public static class BenchmarksDoc
{
    const string Begin = "<!-- side-by-side:begin (written by `bench/run.sh`; edits inside are overwritten) -->";
    const string End = "<!-- side-by-side:end -->";
    const string Heading = "## Side by side with TorchSharp";

    /// <summary>Replaces the text between the side-by-side markers, or appends the section (heading and markers) at the end.</summary>
    public static void RewriteSideBySide(string path, string body)
    {
        string text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        int begin = text.IndexOf(Begin, StringComparison.Ordinal);
        int end = text.IndexOf(End, StringComparison.Ordinal);
        string block = Begin + "\n" + body.TrimEnd() + "\n" + End;
        if (begin >= 0 && end > begin) text = text[..begin] + block + text[(end + End.Length)..];
        else text = text.TrimEnd() + "\n\n" + Heading + "\n\n" + block + "\n";
        File.WriteAllText(path, text);
    }
}
