using Ember.Kernels.Loops;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>Strided and broadcast loops (Elementwise, StridedLayout, StridedCursor) against naive index arithmetic.</summary>
public class ElementwiseTests
{
    static int Offset(int flat, int[] shape, int[] strides, int baseOffset)
    {
        int off = baseOffset;
        for (int d = shape.Length - 1; d >= 0; d--) { off += flat % shape[d] * strides[d]; flat /= shape[d]; }
        return off;
    }

    public static TheoryData<int[], int[], int[]> Layouts => new()
    {
        // shape, strides of a, strides of b (0 = broadcast, negative = flipped, gaps = sliced)
        { [3, 5], [5, 1], [0, 1] },
        { [3, 5], [1, 3], [5, 1] },
        { [4, 1, 6], [6, 6, 1], [0, 0, 1] },
        { [2, 3, 4], [1, 2, 6], [12, 4, 1] },
        { [7, 9], [18, 2], [0, 0] },
        { [5, 4], [-4, 1], [1, 5] },
        { [2, 2, 2, 2, 2], [16, 8, 4, 2, 1], [0, 2, 0, 1, 0] },
        { [0, 3], [3, 1], [0, 1] },
        { [], [], [] },
        { [257], [1], [0] },
        { [129, 2], [2, 1], [1, 129] },
    };

    static float[] Storage(int n, int seed) => ContiguousTests.Data(n, seed, 0.1f, 3f);

    static int Extent(int[] shape, int[] strides, out int baseOffset)
    {
        int lo = 0, hi = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 0) { baseOffset = 0; return 1; }
            int span = (shape[d] - 1) * strides[d];
            if (span < 0) lo += span; else hi += span;
        }
        baseOffset = 2 - lo; // start at 2 so spans are misaligned too
        return baseOffset + hi + 1;
    }

    [Theory, MemberData(nameof(Layouts))]
    public void Binary_strided_and_broadcast_match_index_arithmetic(int[] shape, int[] aStrides, int[] bStrides)
    {
        var a = Storage(Extent(shape, aStrides, out int ao), 1);
        var b = Storage(Extent(shape, bStrides, out int bo), 2);
        int count = shape.Aggregate(1, (p, q) => p * q);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            var dst = new float[count];
            Elementwise.Binary(op, a, ao, aStrides, b, bo, bStrides, shape, dst);
            for (int i = 0; i < count; i++)
            {
                float expected = ScalarMath.Binary(op, a[Offset(i, shape, aStrides, ao)], b[Offset(i, shape, bStrides, bo)]);
                Assert.True(Math.Abs(expected - dst[i]) <= 4e-7 * Math.Abs(expected), $"{op} at {i}: {expected} vs {dst[i]}");
            }
        }
    }

    public static TheoryData<int[], int[], int[]> LargeTwoDimLayouts => new()
    {
        // Two collapsed dimensions, large enough to run in parallel chunks; 32768-element chunks start mid-row of 1000.
        { [300, 1000], [1000, 1], [0, 1] },      // by a row
        { [300, 1000], [1000, 1], [1, 0] },      // by a column
        { [300, 1000], [0, 1], [1000, 1] },      // a row broadcast on the left
        { [300, 1000], [1, 0], [1000, 1] },      // a column broadcast on the left
        { [300, 1000], [1, 300], [1000, 1] },    // a transposed operand
        { [300, 1000], [-1000, 1], [2, 0] },     // flipped rows, a column read with a gap
    };

    [Theory, MemberData(nameof(LargeTwoDimLayouts))]
    public void Large_two_dimensional_broadcasts_match_index_arithmetic_on_one_and_two_threads(int[] shape, int[] aStrides, int[] bStrides)
    {
        var a = Storage(Extent(shape, aStrides, out int ao), 3);
        var b = Storage(Extent(shape, bStrides, out int bo), 4);
        int count = shape[0] * shape[1];
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (var op in new[] { BinaryOp.Mul, BinaryOp.Sub, BinaryOp.Div, BinaryOp.Add })
                foreach (int threads in new[] { 1, 2 })
                {
                    ParallelRange.MaxThreads = threads;
                    var dst = new float[count];
                    Elementwise.Binary(op, a, ao, aStrides, b, bo, bStrides, shape, dst);
                    for (int i = 0; i < count; i++)
                    {
                        float expected = ScalarMath.Binary(op, a[Offset(i, shape, aStrides, ao)], b[Offset(i, shape, bStrides, bo)]);
                        if (expected != dst[i]) Assert.Fail($"{op} on {threads} threads at {i}: expected {expected}, got {dst[i]}");
                    }
                }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    [Theory, MemberData(nameof(Layouts))]
    public void Unary_compare_copy_where_strided_match_index_arithmetic(int[] shape, int[] aStrides, int[] bStrides)
    {
        var a = Storage(Extent(shape, aStrides, out int ao), 3);
        var b = Storage(Extent(shape, bStrides, out int bo), 4);
        int count = shape.Aggregate(1, (p, q) => p * q);
        var dst = new float[count];
        Elementwise.Unary(UnaryOp.Sqrt, a, ao, aStrides, shape, dst);
        for (int i = 0; i < count; i++) Assert.Equal(MathF.Sqrt(a[Offset(i, shape, aStrides, ao)]), dst[i]);
        var cmp = new bool[count];
        Elementwise.Compare(CompareOp.Lt, a, ao, aStrides, b, bo, bStrides, shape, cmp);
        for (int i = 0; i < count; i++) Assert.Equal(a[Offset(i, shape, aStrides, ao)] < b[Offset(i, shape, bStrides, bo)], cmp[i]);
        var w = new float[count];
        Elementwise.Where(cmp, 0, Elementwise.ContiguousStrides(shape), a, ao, aStrides, b, bo, bStrides, shape, w);
        for (int i = 0; i < count; i++) Assert.Equal(Math.Min(a[Offset(i, shape, aStrides, ao)], b[Offset(i, shape, bStrides, bo)]), w[i]);
        // copy into a strided destination, converting to double
        var d = new double[a.Length];
        Elementwise.Copy<float, double>(b, bo, bStrides, d, ao, aStrides.Select(s => s).ToArray(), shape);
        if (aStrides.All(s => s != 0))
            for (int i = 0; i < count; i++) Assert.Equal(b[Offset(i, shape, bStrides, bo)], d[Offset(i, shape, aStrides, ao)]);
    }

    // Copies above the parallel threshold: a permute made contiguous (flipped on one axis) and a cat's part written into
    // a narrowed destination, with and without conversion, against index arithmetic on 1 and on 2 threads.
    [Fact]
    public void Large_strided_copies_match_index_arithmetic_on_any_thread_count()
    {
        var src = ContiguousTests.Data(8 * 24 * 30 * 40, 9);
        int[] shape = [8, 30, 40, 24], srcStrides = [24 * 30 * 40, 40, -1, 30 * 40];
        int srcOffset = 39, count = 8 * 30 * 40 * 24;
        int[] narrowed = [3 * 24 * 30 * 40, 40 * 24, 24, 1]; // dst (8, 3·30, 40, 24) viewed at rows [30, 60)
        int dstOffset = 30 * 40 * 24;
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                ParallelRange.MaxThreads = threads;
                var permuted = new float[count];
                Elementwise.Copy<float, float>(src, srcOffset, srcStrides, permuted, 0, Elementwise.ContiguousStrides(shape), shape);
                var part = new double[3 * count];
                Elementwise.Copy<float, double>(src, srcOffset, srcStrides, part, dstOffset, narrowed, shape);
                for (int i = 0; i < count; i++)
                {
                    float expected = src[Offset(i, shape, srcStrides, srcOffset)];
                    Assert.Equal(expected, permuted[i]);
                    Assert.Equal(expected, part[Offset(i, shape, narrowed, dstOffset)]);
                }
                Assert.Equal(0, part[dstOffset - 1]);
                Assert.Equal(0, part[dstOffset + 30 * 40 * 24]); // image 0, row 60: past the part
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => Elementwise.Copy<float, float>(src, 0, srcStrides, new float[count], 0, Elementwise.ContiguousStrides(shape), shape));
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    [Fact]
    public void In_place_strided_binary_where_dst_aliases_the_source()
    {
        var data = ContiguousTests.Data(64, 5);
        var expected = data.Select(v => v * 2f).ToArray();
        Elementwise.Binary(BinaryOp.Mul, data, 0, [8, 1], new[] { 2f }, 0, [0, 0], [8, 8], data);
        Assert.Equal(expected, data);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(100_000)]
    [InlineData(4 << 20)]
    [InlineData(int.MaxValue)]
    public void Chunks_are_long_enough_for_non_temporal_stores_and_still_split_mid_sized_loops(int count)
    {
        int grain = Elementwise.GrainFor(count);
        long chunks = (count + (long)grain - 1) / grain;
        if (count < Elementwise.ParallelThreshold) Assert.Equal(1, chunks);   // small loops stay on the calling thread
        else
        {
            Assert.InRange(chunks, 2, 16);                                    // mid-sized loops still split
            // TensorPrimitives switches to non-temporal stores above 256 KB: 64K float32 elements
            if (count >= 16 * 65536) Assert.True(grain > 65536, $"grain {grain} for {count} elements");
        }
    }

    [Fact]
    public void Large_loops_are_bit_identical_on_one_and_two_threads()
    {
        int saved = ParallelRange.MaxThreads;
        try
        {
            int n = 300_001;
            var a = ContiguousTests.Data(n, 6);
            var b = ContiguousTests.Data(n, 7);
            float[] Run(int threads)
            {
                ParallelRange.MaxThreads = threads;
                var dst = new float[n];
                Elementwise.Binary(BinaryOp.Div, a, 0, [1], b, 0, [1], [n], dst);
                var u = new float[n];
                Elementwise.Unary(UnaryOp.Tanh, dst, 0, [1], [n], u);
                return u;
            }
            Assert.Equal(Run(1), Run(2));
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    [Fact]
    public void Layout_collapses_contiguous_dims_and_drops_unit_dims()
    {
        var l = new StridedLayout([2, 1, 3, 4], [12, 12, 4, 1], [0, 0, 4, 1]);
        Assert.Equal(new[] { 2, 12 }, l.Shape);
        Assert.Equal(24, l.Count);
        Assert.Equal(1, l.InnerStride(0));
        var scalar = new StridedLayout([], [], []);
        Assert.Equal(1, scalar.Count);
        Assert.Equal(0, scalar.Rank);
        var empty = new StridedLayout([3, 0], [1, 1]);
        Assert.Equal(0, empty.Count);
        _ = new StridedCursor(empty, 0, [0]); // must not divide by zero
    }

    [Fact]
    public void Convert_follows_PyTorch_casts()
    {
        Assert.Equal(-1L, Elementwise.Convert<float, long>(-1.9f));
        Assert.Equal(2L, Elementwise.Convert<double, long>(2.99));
        Assert.True(Elementwise.Convert<float, bool>(float.NaN));
        Assert.False(Elementwise.Convert<double, bool>(-0.0));
        Assert.Equal(1.0, Elementwise.Convert<bool, double>(true));
        Assert.Equal(long.MinValue + 1, Elementwise.Convert<long, long>(long.MinValue + 1));
    }

    // A binary op streams a large output only when it and its full-size operands exceed half the L3 (a reused output
    // buffer stays in cache below that): with an output O where 2·O fits and 3·O does not, a column broadcast (one full
    // operand) is written with plain stores and a same-shape add (two) is streamed; below NonTemporal.MinBytes nothing is.
    [Fact]
    public void A_large_binary_output_is_streamed_only_when_it_and_its_full_size_operands_exceed_half_the_L3()
    {
        const int Cols = 1024;
        long half = NonTemporal.CachedWorkingSetBytes;
        long output = Math.Max(NonTemporal.MinBytes, half / 2) / (Cols * sizeof(float)) * (Cols * sizeof(float));
        int rows = (int)(output / (Cols * sizeof(float)));
        int[] shape = [rows, Cols], full = [Cols, 1], column = [1, 0];
        bool columnStreams = Elementwise.StreamsOutput(new StridedLayout(shape, full, column, full), sizeof(float));
        bool addStreams = Elementwise.StreamsOutput(new StridedLayout(shape, full, full, full), sizeof(float));
        Assert.Equal(2 * output > half, columnStreams);
        Assert.Equal(3 * output > half, addStreams);
        if (2 * output <= half) Assert.NotEqual(columnStreams, addStreams); // the case this machine's L3 allows (32 MiB: 8 MB outputs)
        int small = (int)(NonTemporal.MinBytes / sizeof(float)) - 1;
        Assert.False(Elementwise.StreamsOutput(new StridedLayout([small], [1], [1], [1]), sizeof(float)));
        Assert.True(Elementwise.StreamsOutput(new StridedLayout([rows * 4, Cols], full, full, full), sizeof(float)));
    }
}
