namespace Ember.Kernels.Gemm;

/// <summary>
/// Cache blocking of the GEMM driver for one micro-kernel shape: KC (depth of a packed slice), MC (rows of a packed A
/// block), NC (columns of a packed B block). Each kernel gets its own, computed once from its tile and the cache sizes.
/// </summary>
/// <remarks>
/// The analytical rules of the BLIS papers, with the fractions this driver measured best on AVX-512: an MR×KC A sliver
/// and a KC×NR B sliver take 15/16 of L1 (the 12×32 kernel with 48 KiB: KC = 256); the MC×KC A block a third of L2 (the
/// B sliver and C tiles pass through it too; BLIS's Zen and Haswell blockings use 30–65%); the
/// KC×NC B block half of L3's share per core. KC stays in [64, 512] (a short slice does not amortise the C update),
/// MC in [MR, 1008]. NC in [NR, 4096].
/// </remarks>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    /// <summary>The blocking for an MR×NR kernel over elements of <paramref name="elementSize"/> bytes, for the given caches.</summary>
    public static GemmBlocking For(int mr, int nr, int elementSize, int l1, int l2, long l3, int cores)
    {
        int kc = Math.Clamp(l1 * 15 / 16 / ((mr + nr) * elementSize) / 8 * 8, 64, 512);
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
