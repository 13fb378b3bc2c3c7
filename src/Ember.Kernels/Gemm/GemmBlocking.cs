namespace Ember.Kernels.Gemm;

/// <summary>
/// Cache blocking of the GEMM driver for one micro-kernel shape: KC (depth of a packed slice), MC (rows of a packed A
/// block), NC (columns of a packed B block). Each kernel gets its own, computed once from its tile and the cache sizes.
/// </summary>
/// <remarks>
/// KC: the KC×NR B sliver fills two thirds of L1 while the MR×KC A sliver streams past it from L2 (the rest of L1 is for
/// the A sliver and C). On a 48 KiB L1 (Sapphire Rapids) that gives the 12×32 kernel KC = 256, the depth it was tuned
/// with; filling all of L1 (KC = 384) measured 139 against 184 GFLOP/s at 512² and 104 against 157 on the 56² conv
/// shape (2 threads, same hour, 2026-12-03). The 6×16 AVX2 kernel gets KC = 512 there (336 on a 32 KiB L1, not measured):
/// half as many k-slices as the 12×32 kernel, so C is read and written half as often.
/// KC stays in [64, 512]. MC: the MC×KC A block takes a third of L2 (BLIS's Zen and Haswell blockings use 30–65%),
/// in whole MR tiles, at most 1008 rows. NC: the KC×NC B block takes half of L3's share per core, at most 4096 columns.
/// </remarks>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    /// <summary>The blocking for an MR×NR kernel over elements of <paramref name="elementSize"/> bytes, for the given caches.</summary>
    public static GemmBlocking For(int mr, int nr, int elementSize, int l1, int l2, long l3, int cores)
    {
        int kc = Math.Clamp(l1 * 2 / 3 / (nr * elementSize) / 8 * 8, 64, 512);
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
