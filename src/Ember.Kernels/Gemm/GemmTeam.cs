using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The multi-threaded GEMM: every thread works on the same blocks of <see cref="GemmDriver.Compute{T, TKernel}"/> (MC-row
/// blocks of A, KC-deep slices, NC-column blocks of B), sharing one packed copy of each. A block's packing is cut into
/// units (groups of A slivers and B panels) and its product into units (one A sliver times a group of B panels); threads
/// claim units from counters, so both threads pack and both compute until the last unit, and a thread that arrives late
/// (or is descheduled) only leaves more units to the other.
/// </summary>
/// <remarks>
/// A thread waits only for units that another thread has claimed and is running, never for a thread to arrive, so the
/// job cannot deadlock and runs correctly on one thread. The waits: a block's product starts when its packing is done;
/// a packing buffer (two for A, two for B, used alternately) is rewritten only when the block that last read it is done;
/// a slice's product onto a tile of C starts when the previous slice's product onto it is done. Every C element is summed
/// by one micro-kernel call per slice, in slice order, with the kernels <see cref="GemmDriver.Compute{T, TKernel}"/> uses,
/// so results are bit-identical for any thread count (and to the single-threaded path).
/// Used from about 320² up by the kernels that share packing, now the Vector128 ones (<see cref="GemmDriver"/>): there
/// each thread packing all of the operand its half of C needs (the fixed split) costs more than moving the shared
/// packed blocks and C tiles between the cores; below, the reverse. The AVX-512 kernels sweep a block twice as fast,
/// and their fixed split measured faster at every size (<see cref="MicroKernel512{T}.SharesPacking"/>); on a quiet
/// Zen 5 so did the AVX2 kernel's (<see cref="MicroKernel256{T}.SharesPacking"/>).
/// </remarks>
internal static unsafe class GemmTeam
{
    // Counters of one block, a cache line apart so that claiming units of one block does not slow another's.
    const int Stride = 16, PackNext = 0, PackDone = 1, ComputeNext = 2, ComputeDone = 3;

    // The caller's counters, reused from call to call (one array per calling thread, so concurrent callers never share).
    [ThreadStatic]
    static int[]? counters;

    /// <summary>Computes the product of validated, non-empty arguments on up to <paramref name="threads"/> threads.</summary>
    public static void Run<T, TKernel>(in GemmArgs<T> g, int threads)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        var plan = new Plan<T, TKernel>(g, threads);
        int length = plan.Blocks * Stride;
        int[] state = counters is { } existing && existing.Length >= length ? existing : counters = new int[Math.Max(length, 4 * Stride)];
        Array.Clear(state, 0, length);
        // One chunk per thread; each runs the whole job's loop, so a chunk that finds every unit taken returns at once.
        ParallelRange.For(threads, 1, new Job<T, TKernel>(plan, state));
        GC.KeepAlive(state);
    }

    static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>The block and unit geometry of one call; the same for every thread.</summary>
    internal readonly struct Plan<T, TKernel>
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public readonly GemmArgs<T> G;
        public readonly int Kc, Mc, Nc, RowBlocks, Slices, ColumnBlocks, Blocks;
        public readonly bool DirectA, DirectB;
        // Slivers per A packing unit and panels per B packing unit; panel groups per product unit.
        readonly int aGroup, bGroup, panelGroups;
        readonly T* a0, a1, b0, b1;

        public Plan(in GemmArgs<T> g, int threads)
        {
            G = g;
            int mr = TKernel.MR, nr = TKernel.NR;
            GemmBlocking blocking = GemmDriver.ForcedBlocking ?? GemmBlocking<T, TKernel>.Value;
            // The same slices and blocks as the single-threaded driver (the slicing decides the summation order).
            Slices = (g.K + blocking.KC - 1) / blocking.KC;
            Kc = (g.K + Slices - 1) / Slices;
            Mc = blocking.RowBlock(g.M, mr);
            Nc = Math.Min(blocking.NC, RoundUp(g.N, nr));
            RowBlocks = (g.M + Mc - 1) / Mc;
            ColumnBlocks = (g.N + Nc - 1) / Nc;
            Blocks = RowBlocks * Slices * ColumnBlocks;
            DirectA = GemmDriver.DirectA<T, TKernel>(g, g.N);
            DirectB = g.BSource == PanelSource.Float && !g.TransB && GemmDriver.ReadInPlace(g.K, g.Ldb, g.M <= mr, Unsafe.SizeOf<T>(), CacheSizes.L1);
            // About four packing units per thread, so the last one to finish leaves little to wait for.
            int slivers = (Mc + mr - 1) / mr, panels = (Nc + nr - 1) / nr;
            aGroup = Math.Max(1, (slivers + 4 * threads - 1) / (4 * threads));
            bGroup = Math.Max(1, (panels + 4 * threads - 1) / (4 * threads));
            // At least eight product units per thread: with fewer A slivers than that, the B panels are cut into groups.
            panelGroups = Math.Clamp((8 * threads + slivers - 1) / slivers, 1, panels);
            // Two buffers per operand from the calling thread's packing memory: a block is packed while the one before
            // it is still being multiplied.
            nint aSize = RoundUp(Mc * Kc * TKernel.ACopies, 16), bSize = RoundUp(Kc * Nc, 16);
            a0 = GemmBuffers<T>.Rent(2 * (aSize + bSize));
            a1 = a0 + aSize;
            b0 = a1 + aSize;
            b1 = b0 + bSize;
        }

        // Block b is (row block, slice, column block) in the order of the single-threaded loops.
        public void Decode(int b, out int ic, out int pc, out int jc)
        {
            jc = b % ColumnBlocks;
            int rest = b / ColumnBlocks;
            pc = rest % Slices;
            ic = rest / Slices;
        }

        public int Rows(int ic) => Math.Min(Mc, G.M - ic * Mc);

        public int Columns(int jc) => Math.Min(Nc, G.N - jc * Nc);

        public int Depth(int pc) => Math.Min(Kc, G.K - pc * Kc);

        public int Slivers(int ic) => (Rows(ic) + TKernel.MR - 1) / TKernel.MR;

        public int Panels(int jc) => (Columns(jc) + TKernel.NR - 1) / TKernel.NR;

        // A packing units (only in a row block's first column block: the A block serves all of them), then B units.
        public int AUnits(int ic, int jc)
        {
            if (jc != 0) return 0;
            if (DirectA) return Rows(ic) % TKernel.MR != 0 ? 1 : 0;
            return (Slivers(ic) + aGroup - 1) / aGroup;
        }

        public int BUnits(int jc)
        {
            if (DirectB) return Columns(jc) % TKernel.NR != 0 ? 1 : 0;
            return (Panels(jc) + bGroup - 1) / bGroup;
        }

        public int PanelGroups(int jc) => Math.Min(panelGroups, Panels(jc));

        public int ComputeUnits(int ic, int jc) => Slivers(ic) * PanelGroups(jc);

        T* ABuffer(int ic, int pc) => ((ic * Slices + pc) & 1) == 0 ? a0 : a1;

        T* BBuffer(int b) => (b & 1) == 0 ? b0 : b1;

        /// <summary>Packs unit <paramref name="u"/> of block <paramref name="b"/>: A units first, then B units.</summary>
        public void Pack(int b, int u)
        {
            Decode(b, out int ic, out int pc, out int jc);
            int mr = TKernel.MR, nr = TKernel.NR, kb = Depth(pc), i0 = ic * Mc, j0 = jc * Nc, p0 = pc * Kc;
            int aUnits = AUnits(ic, jc);
            if (u < aUnits)
            {
                int mb = Rows(ic);
                T* pa = ABuffer(ic, pc);
                if (DirectA)
                {
                    // In place, only the partial last sliver is packed (zero-padded), at the start of the buffer.
                    int full = mb - mb % mr;
                    GemmPacking.PackA<T, TKernel>(G.A, G.Lda, G.TransA, i0 + full, mb - full, p0, kb, pa, G.ASource);
                    return;
                }
                int first = u * aGroup * mr, rows = Math.Min(aGroup * mr, mb - first);
                GemmPacking.PackA<T, TKernel>(G.A, G.Lda, G.TransA, i0 + first, rows, p0, kb, pa + (nint)first * kb * TKernel.ACopies, G.ASource);
                return;
            }
            u -= aUnits;
            int nb = Columns(jc);
            T* pb = BBuffer(b);
            if (DirectB)
            {
                int full = nb - nb % nr;
                GemmPacking.PackB<T, TKernel>(G.B, G.Ldb, false, p0, kb, j0 + full, nb - full, pb, G.BSource);
                return;
            }
            int firstColumn = u * bGroup * nr, columns = Math.Min(bGroup * nr, nb - firstColumn);
            GemmPacking.PackB<T, TKernel>(G.B, G.Ldb, G.TransB, p0, kb, j0 + firstColumn, columns, pb + (nint)firstColumn * kb, G.BSource);
        }

        /// <summary>Product unit <paramref name="u"/> of block <paramref name="b"/>: one A sliver times one group of B panels.</summary>
        public void Compute(int b, int u, T* scratch)
        {
            Decode(b, out int ic, out int pc, out int jc);
            int mr = TKernel.MR, nr = TKernel.NR, kb = Depth(pc), mb = Rows(ic), nb = Columns(jc);
            int groups = PanelGroups(jc), panels = Panels(jc);
            int sliver = u / groups, group = u % groups;
            int perGroup = (panels + groups - 1) / groups;
            int jrBegin = group * perGroup * nr, jrEnd = Math.Min(nb, (group + 1) * perGroup * nr);
            int ic0 = ic * Mc, jc0 = jc * Nc;
            T* pa = ABuffer(ic, pc), pb = BBuffer(b);
            T beta = pc == 0 ? G.Bias == null ? G.Beta : GemmDriver.StartFromBias(G, ic0 + sliver * mr, Math.Min(mr, mb - sliver * mr), jc0 + jrBegin, Math.Max(0, jrEnd - jrBegin)) : T.One;
            GemmDriver.Sliver<T, TKernel>(G, ic0, mb, pc * Kc, kb, jc0, nb, sliver * mr, jrBegin, jrEnd, pa, pb, DirectA, DirectB, beta, scratch);
        }
    }

    readonly struct Job<T, TKernel>(Plan<T, TKernel> plan, int[] state) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end)
        {
            T* scratch = stackalloc T[TKernel.MR * TKernel.NR];
            fixed (int* counters = state)
                Work(plan, counters, scratch);
        }

        static void Work(in Plan<T, TKernel> plan, int* counters, T* scratch)
        {
            // Blocks [0, settled] are known to be finished, so their buffers and C tiles are free.
            int settled = -1;
            for (int b = 0; b < plan.Blocks; b++)
            {
                int* c = counters + b * Stride;
                plan.Decode(b, out int ic, out int pc, out int jc);
                int packUnits = plan.AUnits(ic, jc) + plan.BUnits(jc);
                int computeUnits = plan.ComputeUnits(ic, jc);
                if (Volatile.Read(ref c[PackNext]) < packUnits)
                {
                    // This block's buffers were last read by block b − 2.
                    Settle(plan, counters, b - 2, ref settled);
                    int u;
                    while ((u = Interlocked.Increment(ref c[PackNext]) - 1) < packUnits)
                    {
                        plan.Pack(b, u);
                        Interlocked.Increment(ref c[PackDone]);
                    }
                }
                if (Volatile.Read(ref c[ComputeNext]) >= computeUnits) continue;
                WaitFor(ref c[PackDone], packUnits);
                // The previous slice's product onto the same tiles of C comes first (it is what this one accumulates onto).
                if (pc > 0) Settle(plan, counters, b - plan.ColumnBlocks, ref settled);
                int v;
                while ((v = Interlocked.Increment(ref c[ComputeNext]) - 1) < computeUnits)
                {
                    plan.Compute(b, v, scratch);
                    Interlocked.Increment(ref c[ComputeDone]);
                }
            }
        }

        // Waits until every block up to and including `last` has finished its product.
        static void Settle(in Plan<T, TKernel> plan, int* counters, int last, ref int settled)
        {
            for (int b = settled + 1; b <= last; b++)
            {
                plan.Decode(b, out int ic, out _, out int jc);
                WaitFor(ref counters[b * Stride + ComputeDone], plan.ComputeUnits(ic, jc));
            }
            if (last > settled) settled = last;
        }

        // The units waited for are being run by another thread, so this wait is short: spin, then yield the core.
        static void WaitFor(ref int counter, int target)
        {
            if (Volatile.Read(ref counter) >= target) return;
            var spin = new SpinWait();
            while (Volatile.Read(ref counter) < target) spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
