using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Ember.Tests.Interop;

/// <summary>
/// Runs a reader on a damaged or hostile file and checks the promise every reader makes: a typed exception whose message
/// names the file and the problem, within a time limit (a hang fails the test instead of stalling the suite) and an
/// allocation limit (measured on the thread that ran the reader).
/// </summary>
public static class HostileFile
{
    /// <summary>Allocation allowed by default: far below what any of the hostile files would cost if believed.</summary>
    public const long DefaultMaxAllocated = 32L << 20;

    public static TException Refused<TException>(Action read, string fileName, string problem, long maxAllocated = DefaultMaxAllocated, int timeoutMs = 10_000)
        where TException : Exception
    {
        var (error, allocated, elapsed) = Run(read, timeoutMs);
        Assert.True(error is not null, $"{fileName}: expected {typeof(TException).Name} ({problem}), but the file was accepted");
        Assert.True(error!.GetType() == typeof(TException), $"{fileName}: expected {typeof(TException).Name}, got {error.GetType().Name}: {error}");
        Assert.Contains(fileName, error.Message);
        Assert.Contains(problem, error.Message);
        Assert.True(allocated < maxAllocated, $"{fileName}: the reader allocated {allocated:N0} bytes (limit {maxAllocated:N0}) before failing");
        Assert.True(elapsed < TimeSpan.FromMilliseconds(timeoutMs), $"{fileName}: took {elapsed}");
        return (TException)error;
    }

    /// <summary>Runs <paramref name="read"/> on a worker thread; returns its exception (or null), its allocations and time.</summary>
    public static (Exception? Error, long Allocated, TimeSpan Elapsed) Run(Action read, int timeoutMs = 10_000)
    {
        Exception? error = null;
        long allocated = 0;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { read(); }
            catch (Exception e) { error = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        })
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(timeoutMs), $"the reader did not finish within {timeoutMs} ms (it hangs)");
        return (error, allocated, clock.Elapsed);
    }

    /// <summary>A safetensors file from a header string and data bytes, assembled by hand (independent of the writer).</summary>
    public static byte[] SafeTensorsBytes(string headerJson, byte[] data, ulong? declaredHeaderLength = null)
        => SafeTensorsBytes(Encoding.UTF8.GetBytes(headerJson), data, declaredHeaderLength);

    public static byte[] SafeTensorsBytes(byte[] header, byte[] data, ulong? declaredHeaderLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>Makes a FIFO (named pipe) at <paramref name="path"/>; false where the platform has none.</summary>
    public static bool MakeFifo(string path) => OperatingSystem.IsLinux() && mkfifo(path, 0x1B6) == 0;

    [DllImport("libc", SetLastError = true)]
    static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>The CRC-32 of PNG and zlib, bit by bit (an implementation apart from the reader's table).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
