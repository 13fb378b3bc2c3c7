namespace Ember.Kernels.Gemm;

/// <summary>
/// The data cache sizes of the first CPU, read once from /sys/devices/system/cpu/cpu0/cache (Linux); where that is not
/// readable (other systems, containers that hide /sys) the defaults are a common desktop/server core: 32 KiB L1d,
/// 1 MiB L2, 8 MiB L3.
/// </summary>
public static class CacheSizes
{
    /// <summary>Level-1 data cache of one core, in bytes.</summary>
    public static readonly int L1 = Read(1, 32 << 10);

    /// <summary>
    /// Ways of the level-1 data cache: 8 on Zen 4, 12 on Zen 5 and on recent Intel cores. Lines L1 / ways bytes apart (4 KiB
    /// on all of these) fall in the same set, and only this many of them stay in L1 together.
    /// </summary>
    public static readonly int L1Ways = ReadWays(1, 8);

    /// <summary>Level-2 cache of one core, in bytes.</summary>
    public static readonly int L2 = Read(2, 1 << 20);

    /// <summary>Level-3 cache (shared), in bytes; capped at 1 GiB so that products of it stay in range.</summary>
    public static readonly long L3 = Math.Min(Read(3, 8 << 20), 1L << 30);

    /// <summary>
    /// The part of the L3 this process can count on to keep data between two ops, in bytes: the reported L3, unless that
    /// exceeds <see cref="MaxL3PerProcessor"/> per logical processor we may run on, in which case it is the whole host's
    /// cache seen from a virtual machine (this Intel Xeon (SPR class) VM reports 300 MiB for its 2 vCPUs, and other
    /// tenants use it) and only <see cref="TypicalL3PerProcessor"/> per processor is counted. The rules that keep a
    /// buffer warm or stream it (NonTemporal, the storage pool) use this, not <see cref="L3"/>.
    /// </summary>
    public static readonly long L3Share = ShareOf(L3, Environment.ProcessorCount);

    /// <summary>The most L3 per logical processor taken at its word (twice a 3D V-Cache core's; the 2-vCPU Zen 5 VM's 32 MiB passes).</summary>
    public const long MaxL3PerProcessor = 16L << 20;

    /// <summary>L3 per processor counted where the reported size is not believable: a server core's slice (Zen 4/5 CCX: 32 MiB / 8 cores).</summary>
    public const long TypicalL3PerProcessor = 4L << 20;

    internal static long ShareOf(long l3, int processors)
    {
        processors = Math.Max(1, processors);
        return l3 <= MaxL3PerProcessor * processors ? l3 : TypicalL3PerProcessor * processors;
    }

    /// <summary>The three sizes in one line, for logs and bench headers.</summary>
    public static string Describe() => $"L1d {L1 >> 10} KiB {L1Ways}-way, L2 {L2 >> 10} KiB, L3 {L3 >> 20} MiB";

    // Sizes outside what any CPU has mean a misreported value: keep the default.
    static int Read(int level, int fallback) =>
        ReadEntry(level, "size", fallback, size => size >= 4 << 10 && size <= 4L << 30);

    // A fully associative or unreported L1 (0, or more ways than lines of a 4 KiB span) keeps the default.
    static int ReadWays(int level, int fallback) =>
        ReadEntry(level, "ways_of_associativity", fallback, ways => ways >= 1 && ways <= 64);

    static int ReadEntry(int level, string file, int fallback, Func<long, bool> plausible)
    {
        try
        {
            for (int i = 0; i < 8; i++)
            {
                string dir = $"/sys/devices/system/cpu/cpu0/cache/index{i}";
                if (!Directory.Exists(dir)) break;
                if (File.ReadAllText(Path.Combine(dir, "level")).Trim() != level.ToString()) continue;
                if (File.ReadAllText(Path.Combine(dir, "type")).Trim() == "Instruction") continue;
                string path = Path.Combine(dir, file);
                if (!File.Exists(path)) return fallback;
                long value = Parse(File.ReadAllText(path));
                if (plausible(value)) return (int)Math.Min(value, int.MaxValue);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return fallback;
    }

    // "48K", "2048K", "260M", or plain bytes.
    internal static long Parse(string text)
    {
        text = text.Trim();
        long scale = 1;
        if (text.EndsWith('K')) scale = 1 << 10;
        else if (text.EndsWith('M')) scale = 1 << 20;
        else if (text.EndsWith('G')) scale = 1 << 30;
        return long.TryParse(text.TrimEnd('K', 'M', 'G'), out long value) && value > 0 ? value * scale : 0;
    }
}
