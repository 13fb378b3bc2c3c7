namespace Ember.Kernels.Gemm;

/// <summary>
/// Cache blocking of the GEMM driver for one micro-kernel shape: KC (depth of a packed slice), MC (rows of a packed A
/// block), NC (columns of a packed B block). Each kernel gets its own, computed once from its tile and the cache sizes.
/// </summary>
/// <remarks>
/// KC: the KC×NR B sliver fills L1 while the MR×KC A sliver streams past it from L2. That rule reproduces the one
/// measured point this driver was tuned at (12×32 kernel, 32 KiB L1 on Zen 4: KC = 256, 87–98% of the FMA peak) and
/// gives the 6×16 AVX2 kernel KC = 512 there: half as many k-slices, so C is read and written half as often.
/// KC stays in [64, 512]. MC: the MC×KC A block takes a third of L2 (BLIS's Zen and Haswell blockings use 30–65%),
/// in whole MR tiles, at most 1008 rows. NC: the KC×NC B block takes half of L3's share per core, at most 4096 columns.
/// </remarks>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    /// <summary>The blocking for an MR×NR kernel over elements of <paramref name="elementSize"/> bytes, for the given caches.</summary>
    public static GemmBlocking For(int mr, int nr, int elementSize, int l1, int l2, long l3, int cores)
    {
        int kc = Math.Clamp(l1 / (nr * elementSize) / 8 * 8, 64, 512);
        int mc = Math.Clamp(l2 / 3 / (kc * elementSize) / mr * mr, mr, 1008 / mr * mr);
        long perCore = l3 / Math.Max(1, cores);
        int nc = (int)Math.Clamp(perCore / 2 / (kc * elementSize) / nr * nr, nr, 4096 / nr * nr);
        return new GemmBlocking(kc, mc, nc);
    }

    /// <summary>The blocking for this machine's caches.</summary>
    public static GemmBlocking ForMachine(int mr, int nr, int elementSize) =>
        For(mr, nr, elementSize, CacheSizes.L1, CacheSizes.L2, CacheSizes.L3, Environment.ProcessorCount);

    public override string ToString() => $"KC={KC} MC={MC} NC={NC}";
}

/// <summary>The blocking of one kernel instantiation, computed on first use; a static readonly field, so the JIT folds it.</summary>
internal static class GemmBlocking<T, TKernel>
    where T : unmanaged
    where TKernel : struct, IMicroKernel<T>
{
    public static readonly GemmBlocking Value = GemmBlocking.ForMachine(TKernel.MR, TKernel.NR, System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
}
