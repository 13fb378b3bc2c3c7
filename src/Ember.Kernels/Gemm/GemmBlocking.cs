namespace Ember.Kernels.Gemm;

/// <summary>
/// Cache blocking of the GEMM driver for one micro-kernel shape: KC (depth of a packed slice), MC (rows of a packed A
/// block), NC (columns of a packed B block). Each kernel gets its own, computed once from its tile and the cache sizes.
/// </summary>
/// <remarks>
/// The driver keeps one MR×KC A sliver in L1 while the KC×NR B slivers of an L2-resident KC×NC block stream past it
/// (<see cref="GemmDriver"/>). KC: the A sliver takes 3/8 of L1 (18 KiB of a 48 KiB L1 for the 12-row float kernel:
/// KC = 384), the rest is for the streaming B sliver and C; a deeper slice means fewer passes over C. KC stays in
/// [64, 512], a multiple of 8. NC: the KC×NC B block takes half of L2, in whole NR tiles, at most 4096 columns. MC: the
/// MC×KC A block takes a quarter of L3's share per core, in whole MR tiles, at least 8 tiles and at most 4096 rows: it
/// is swept once per B block, so it only has to stay in L3. Measured on one 768×1536×384 block of a 2048² product
/// (AVX-512, 48 KiB L1, 2 MiB L2, one thread, best of 25, 2026-12-03): KC×NC = 256×256, 256×512, 256×768, 384×384,
/// 384×256 all gave 136–156 GFLOP/s, inside the noise of a loaded machine.
/// </remarks>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    /// <summary>The blocking for an MR×NR kernel over elements of <paramref name="elementSize"/> bytes, for the given caches.</summary>
    public static GemmBlocking For(int mr, int nr, int elementSize, int l1, int l2, long l3, int cores)
    {
        int kc = Math.Clamp(l1 * 3 / 8 / (mr * elementSize) / 8 * 8, 64, 512);
        int nc = Math.Clamp(l2 / 2 / (kc * elementSize) / nr * nr, nr, 4096 / nr * nr);
        long perCore = l3 / Math.Max(1, cores);
        int mc = (int)Math.Clamp(perCore / 4 / (kc * elementSize) / mr * mr, 8 * mr, 4096 / mr * mr);
        return new GemmBlocking(kc, mc, nc);
    }

    /// <summary>
    /// The depth of a KC×NR B sliver that takes two thirds of L1, in [64, 512]: for a loop that keeps one B sliver in L1
    /// while the A slivers stream past it (the shifted-GEMM convolution, <c>ShiftedGemmConv</c>).
    /// </summary>
    public static int BSliverDepth(int nr, int elementSize, int l1) => Math.Clamp(l1 * 2 / 3 / (nr * elementSize) / 8 * 8, 64, 512);

    /// <summary>The blocking for this machine's caches.</summary>
    public static GemmBlocking ForMachine(int mr, int nr, int elementSize) =>
        For(mr, nr, elementSize, CacheSizes.L1, CacheSizes.L2, CacheSizes.L3, Environment.ProcessorCount);

    /// <summary>
    /// The rows of one packed A block for a product of <paramref name="rows"/> rows: the rows split into equal blocks of
    /// whole MR tiles, as few as fit MC with an eighth to spare. A block only has to stay in L3, so an eighth more is
    /// free, while a remainder block costs a second packing of all of B and a sync: with the AVX2 kernel on this
    /// machine's 32 MiB L3, MC is 2046, which cut a 2048-row product into blocks of 2046 and 2 rows.
    /// </summary>
    public int RowBlock(int rows, int mr)
    {
        int blocks = Math.Max(1, (int)(((long)rows + MC + MC / 8 - 1) / (MC + MC / 8)));
        int perBlock = (rows + blocks - 1) / blocks;
        return Math.Max(mr, (perBlock + mr - 1) / mr * mr);
    }

    public override string ToString() => $"KC={KC} MC={MC} NC={NC}";
}

/// <summary>The blocking of one kernel instantiation, computed on first use; a static readonly field, so the JIT folds it.</summary>
internal static class GemmBlocking<T, TKernel>
    where T : unmanaged
    where TKernel : struct, IMicroKernel<T>
{
    public static readonly GemmBlocking Value = ForKernel(GemmBlocking.ForMachine(TKernel.MR, TKernel.NR, System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));

    // A kernel over broadcast A panels (IMicroKernel.ACopies) keeps the k-slices of the plain kernel of its shape, which
    // decide the summation order, so that both give C the same bits; its A block, ACopies times larger, gets as many
    // times fewer rows. (Slices of 256 instead of 512 measured 0.97-1.05x at 512²-1024² on one thread of this Intel
    // Xeon (SPR class): within the noise.)
    static GemmBlocking ForKernel(GemmBlocking plain) =>
        TKernel.ACopies == 1 ? plain : plain with { MC = Math.Max(8 * TKernel.MR, plain.MC / TKernel.ACopies / TKernel.MR * TKernel.MR) };
}
