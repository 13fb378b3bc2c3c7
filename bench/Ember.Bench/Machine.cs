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

    /// <summary>Minor page faults of the process so far (field 10 of /proc/self/stat: first touches of fresh pages, all threads).</summary>
    public static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7]);
    }

    /// <summary>
    /// The garbage collector's settings in effect, as the runtime reports them (GC.GetConfigurationVariables: what it read
    /// from runtimeconfig.json or DOTNET_ variables, not what was asked for), for the bench headers: a fresh output's cost
    /// depends on them (docs/performance.md, "Garbage collector settings").
    /// </summary>
    public static string GcSettings()
    {
        var config = GC.GetConfigurationVariables();
        string Get(string key) => config.TryGetValue(key, out object? v) ? v?.ToString() ?? "" : "-";
        string Mb(string key) => config.TryGetValue(key, out object? v) && v is long or ulong or int ? $"{Convert.ToDouble(v) / 1048576:0.#} MiB" : Get(key);
        return $"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, concurrent {Get("ConcurrentGC")}, " +
               $"gen0 budget {Mb("GCGen0MaxBudget")}, retain VM {Get("RetainVM")}, latency mode {System.Runtime.GCSettings.LatencyMode}";
    }
}
