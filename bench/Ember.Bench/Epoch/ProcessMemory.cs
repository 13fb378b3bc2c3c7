namespace Ember.Bench.Epoch;

/// <summary>This process's resident memory from /proc/self/status (Linux): the working set now and its peak.</summary>
public static class ProcessMemory
{
    /// <summary>VmRSS in bytes (resident now), or -1 where /proc is unavailable.</summary>
    public static long ResidentBytes() => Status("VmRSS:");

    /// <summary>VmHWM in bytes (the peak resident set since start or since <see cref="ResetPeak"/>), or -1.</summary>
    public static long PeakBytes() => Status("VmHWM:");

    /// <summary>
    /// Resets VmHWM to the current VmRSS (writing 5 to /proc/self/clear_refs, Linux 4.0+), so a later peak covers only
    /// what follows, not the data loading before it; false where the kernel refuses.
    /// </summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    static long Status(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024; // "  123456 kB"
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }
}
