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

    /// <summary>Level-2 cache of one core, in bytes.</summary>
    public static readonly int L2 = Read(2, 1 << 20);

    /// <summary>Level-3 cache (shared), in bytes; capped at 1 GiB so that products of it stay in range.</summary>
    public static readonly long L3 = Math.Min(Read(3, 8 << 20), 1L << 30);

    /// <summary>The three sizes in one line, for logs and bench headers.</summary>
    public static string Describe() => $"L1d {L1 >> 10} KiB, L2 {L2 >> 10} KiB, L3 {L3 >> 20} MiB";

    static int Read(int level, int fallback)
    {
        try
        {
            for (int i = 0; i < 8; i++)
            {
                string dir = $"/sys/devices/system/cpu/cpu0/cache/index{i}";
                if (!Directory.Exists(dir)) break;
                if (File.ReadAllText(Path.Combine(dir, "level")).Trim() != level.ToString()) continue;
                if (File.ReadAllText(Path.Combine(dir, "type")).Trim() == "Instruction") continue;
                long size = Parse(File.ReadAllText(Path.Combine(dir, "size")));
                // Sizes outside what any CPU has mean a misreported value: keep the default.
                if (size >= 4 << 10 && size <= 4L << 30) return (int)Math.Min(size, int.MaxValue);
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
