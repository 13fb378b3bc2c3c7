namespace Ember.Bench;

/// <summary>Facts about the machine for the benchmark reports.</summary>
public static class Machine
{
    /// <summary>The CPU model name from /proc/cpuinfo (as lscpu's "Model name"), or "unknown CPU".</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown CPU";
    }

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg ("0.50 0.40 0.30"), or "unknown".</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
