using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Gemm;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Loops;

/// <summary>
/// Non-temporal stores for the fused kernels' large outputs. A plain store first reads the line it writes
/// (write-allocate), so a kernel that reads n bytes and writes n moves 3n; streamed it moves 2n (a LayerNorm forward of
/// 4096×1024 floats: 48 MB instead of 32). The elementwise loops get the same from TensorPrimitives, which streams a
/// run of more than 256 KB (see <see cref="Elementwise.GrainFor"/>).
/// </summary>
internal static unsafe class NonTemporal
{
    /// <summary>
    /// Outputs of at least this many bytes are streamed: from here on the elementwise loops' chunks are long enough for
    /// TensorPrimitives to stream, and such an output would not stay in the per-core caches for the next op anyway.
    /// </summary>
    public const long MinBytes = 4L << 20;

    /// <summary>
    /// A binary elementwise op streams an output of at least <see cref="MinBytes"/> only when the bytes it touches per call
    /// (output and full-size operands) exceed this, half the L3. Below it, output and inputs stay in L3 from one call to
    /// the next wherever the output buffer is reused (the storage pool hands back the warmest buffer of a size under L3/2),
    /// and plain stores beat streaming: a [rows, 1024] · [rows, 1] multiply into a reused 8 MB output ran in 0.60-0.84× the
    /// streamed time (median pair ratio, both paths, three runs), into a 4 MB one 0.41-1.14×, while at 12 and 16 MB (24
    /// and 32 MB touched) streaming won (1.06-2.0×); 2026-12-05, Zen 5, 32 MiB L3, loaded machine
    /// (docs/bench-logs/2026-12-05-session16-s16-reduce-ab.txt). Half of <see cref="CacheSizes.L3Share"/>, not of the
    /// reported L3: this Intel Xeon (SPR class) VM reports 300 MiB, so binary outputs up to 50-75 MB kept plain stores, and a
    /// 4096×1024 multiply by a row took 1.3-2× as long as streamed (8-32 MB outputs; docs/bench-logs/2026-12-05-session21-s21-elem-ab.txt).
    /// Still so where Tensor.Dispose hands the same output buffer back on every call: plain stores up to the whole L3 share
    /// took 1.35-1.45× the streamed time for the 16 MB multiplies by a row or column on AVX2 and 1.01-1.03× on AVX-512
    /// (median of 4 alternated rounds, loaded Zen 4; docs/bench-logs/2026-12-06-session28-s28-release-ab.txt).
    /// Re-measured on the Zen 5 VM (32 MiB L3, DRAM copy 15-44 GB/s against 50-193 at 2×16 MiB, load 5-9): plain stores
    /// up to the whole L3 share cost more CPU per call than streaming in 11 of 12 bench runs of the 16 MB multiplies by a row or
    /// column (median 1.20×), and in-process 1.11-1.34× the streamed wall time; also keeping a quarter to three quarters of
    /// the output cached (plain) and streaming the rest lost (1.11-1.44×): docs/bench-logs/2026-12-07-session32-s32-mem-ab.txt.
    /// </summary>
    public static long CachedWorkingSetBytes { get; } = CacheSizes.L3Share / 2;

    /// <summary>
    /// Elements from <paramref name="p"/> before the first one aligned to a <typeparamref name="TVec"/> register (at most
    /// <paramref name="length"/>), or -1 where none is (<paramref name="p"/> not aligned to the element size).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HeadToAlignment<TVec, T>(T* p, int length) where TVec : struct, ISimd<TVec, T> where T : unmanaged
        => HeadToBoundary(p, length, TVec.Count * sizeof(T));

    /// <summary>Bytes per cache line: what a non-temporal store fills before it goes to memory.</summary>
    public const int LineBytes = 64;

    /// <summary>
    /// Elements from <paramref name="p"/> before the first one on a cache-line boundary (at most <paramref name="length"/>),
    /// or -1 where none is (<paramref name="p"/> not aligned to the element size).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HeadToLine<T>(T* p, int length) where T : unmanaged => HeadToBoundary(p, length, LineBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int HeadToBoundary<T>(T* p, int length, int bytes) where T : unmanaged
    {
        int misaligned = (int)((nuint)p % (nuint)bytes);
        if (misaligned % sizeof(T) != 0) return -1;
        return Math.Min(length, misaligned == 0 ? 0 : (bytes - misaligned) / sizeof(T));
    }

    /// <summary>Orders the streamed stores before what follows (they are weakly ordered), before the join hands the output on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fence()
    {
        if (Sse.IsSupported) Sse.StoreFence();
    }
}
