using System.Globalization;

namespace Ember.Cli.Commands;

/// <summary>
/// The memory a process can still get now, beyond what it holds: on Linux the kernel's estimate of what can be allocated
/// without swapping (<c>MemAvailable</c> in /proc/meminfo), and, inside a control group with a memory limit (a container),
/// what that limit leaves, whichever is less. .NET's <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/> is the limit
/// itself (the machine's memory, a container's limit or a GC heap limit), the same whether another program holds most
/// of it or none.
/// </summary>
public static class FreeMemory
{
    /// <summary>The bytes available now, or null where the system does not say (not Linux, or its files unreadable).</summary>
    public static long? Now() => Read(path =>
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    });

    /// <summary>
    /// <see cref="Now"/> from the files <paramref name="file"/> returns by path (null: absent). A control group's room is its
    /// limit less its usage, where usage does not count the page cache the kernel would drop first (inactive file pages,
    /// as `docker stats` and the kubelet read it); for cgroup v2 every group from the process's own up to the root counts,
    /// for v1 the memory group's hierarchical limit.
    /// </summary>
    internal static long? Read(Func<string, string?> file)
    {
        long? free = Field(file("/proc/meminfo"), "MemAvailable:") is long kb ? kb * 1024 : null;
        foreach (var room in CgroupRooms(file))
            free = free is long f ? Math.Min(f, room) : room;
        return free is long bytes ? Math.Max(0, bytes) : null;
    }

    static IEnumerable<long> CgroupRooms(Func<string, string?> file)
    {
        foreach (var line in (file("/proc/self/cgroup") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "0::/path" (v2), "4:memory:/path" (v1)
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            if (parts[0] == "0" && parts[1] == "")
            {
                // the group's own folder where the host's path is mounted; in a container with its own namespace the root is its group
                for (var path = parts[2].TrimEnd('/'); ; path = path[..path.LastIndexOf('/')])
                {
                    if (Room(file, $"/sys/fs/cgroup{path}", "memory.max", "memory.current", "inactive_file", null) is long room) yield return room;
                    if (path.Length == 0) break;
                }
            }
            else if (parts[1].Split(',').Contains("memory"))
            {
                var own = $"/sys/fs/cgroup/memory{parts[2].TrimEnd('/')}";
                var folder = file($"{own}/memory.limit_in_bytes") is null ? "/sys/fs/cgroup/memory" : own;
                if (Room(file, folder, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file", "hierarchical_memory_limit") is long room) yield return room;
            }
        }
    }

    // No limit: v2 writes "max", v1 a number near long.MaxValue (rounded down to a page).
    const long Unlimited = 1L << 60;

    static long? Room(Func<string, string?> file, string folder, string limitFile, string usageFile, string inactiveKey, string? hierarchicalKey)
    {
        if (!long.TryParse(file($"{folder}/{limitFile}")?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long limit)) return null;
        var stat = file($"{folder}/memory.stat");
        if (hierarchicalKey is not null && Field(stat, hierarchicalKey + " ") is long hierarchical) limit = Math.Min(limit, hierarchical);
        if (limit >= Unlimited) return null;
        if (!long.TryParse(file($"{folder}/{usageFile}")?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long usage)) return null;
        long inactive = Field(stat, inactiveKey + " ") ?? 0;
        return limit - Math.Max(0, usage - inactive);
    }

    // The number after "key" at the start of a line ("MemAvailable:   24201460 kB", "inactive_file 123")
    static long? Field(string? text, string key)
    {
        foreach (var line in (text ?? "").Split('\n'))
            if (line.StartsWith(key, StringComparison.Ordinal)
                && long.TryParse(line[key.Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                return value;
        return null;
    }
}
