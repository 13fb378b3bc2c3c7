using Ember.Kernels.Loops;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// <see cref="BinaryRun"/> (the row-vector / column / contiguous runs of add, sub, mul and div, streamed or not) at each
/// width against the scalar op, bit for bit, at every length 0–100 and from misaligned output offsets; and the
/// broadcast loops that use it for large outputs against index arithmetic.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public unsafe class BinaryRunTests
{
    static readonly BinaryOp[] Ops = [BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div];
    static readonly (int A, int B)[] Strides = [(1, 1), (1, 0), (0, 1)];

    [Theory, MemberData(nameof(SimdWidthKernelTests.AllWidths), MemberType = typeof(SimdWidthKernelTests))]
    public void Float_runs_at_each_width_match_the_scalar_op_bit_for_bit(SimdWidth width) => SimdWidthKernelTests.OnWidth(width, () =>
    {
        var a = ContiguousTests.Data(131, 1, 0.1f, 3f);
        var b = ContiguousTests.Data(131, 2, -3f, -0.1f);
        foreach (var op in Ops)
            foreach (var (sa, sb) in Strides)
                foreach (bool stream in new[] { false, true })
                    for (int n = 0; n <= 100; n++)
                        foreach (int offset in new[] { 0, 1, 3, 15 })
                        {
                            var dst = new float[n + offset + 1];
                            dst[^1] = 42f;
                            fixed (float* pa = a, pb = b, pd = dst) BinaryRun.Run(op, pa + 2, sa, pb + 5, sb, pd + offset, n, stream);
                            NonTemporal.Fence();
                            for (int i = 0; i < n; i++)
                            {
                                float expected = ScalarMath.Binary(op, a[2 + i * sa], b[5 + i * sb]);
                                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(dst[offset + i]))
                                    Assert.Fail($"{op} ({sa}, {sb}) stream {stream} n {n} offset {offset} at {i}: expected {expected}, got {dst[offset + i]}");
                            }
                            for (int i = 0; i < offset; i++) Assert.Equal(0f, dst[i]);
                            Assert.Equal(42f, dst[^1]);
                        }
    });

    [Theory, MemberData(nameof(SimdWidthKernelTests.AllWidths), MemberType = typeof(SimdWidthKernelTests))]
    public void Double_runs_at_each_width_match_the_scalar_op_bit_for_bit(SimdWidth width) => SimdWidthKernelTests.OnWidth(width, () =>
    {
        var rng = new Random(3);
        var a = Enumerable.Range(0, 70).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var b = Enumerable.Range(0, 70).Select(_ => rng.NextDouble() * 4 + 0.5).ToArray();
        foreach (var op in Ops)
            foreach (var (sa, sb) in Strides)
                foreach (bool stream in new[] { false, true })
                    for (int n = 0; n <= 40; n++)
                        foreach (int offset in new[] { 0, 1, 5 })
                        {
                            var dst = new double[n + offset];
                            fixed (double* pa = a, pb = b, pd = dst) BinaryRun.Run(op, pa + 1, sa, pb + 3, sb, pd + offset, n, stream);
                            NonTemporal.Fence();
                            for (int i = 0; i < n; i++)
                                Assert.Equal(ScalarMath.Binary(op, a[1 + i * sa], b[3 + i * sb]), dst[offset + i]);
                        }
    });

    [Fact]
    public void Handles_only_the_four_rounding_ops_with_one_contiguous_operand_and_says_what_it_got_otherwise()
    {
        Assert.True(BinaryRun.Handles(BinaryOp.Div, 0, 1));
        Assert.False(BinaryRun.Handles(BinaryOp.Maximum, 1, 1)); // NaN propagation is TensorPrimitives' business
        Assert.False(BinaryRun.Handles(BinaryOp.Pow, 1, 0));
        Assert.False(BinaryRun.Handles(BinaryOp.Mul, 0, 0));
        Assert.False(BinaryRun.Handles(BinaryOp.Mul, 2, 1));
        var buffer = new float[4];
        var e = Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* p = buffer) BinaryRun.Run(BinaryOp.Mul, p, 2, p, 1, p, 2, false);
        });
        Assert.Contains("Mul with run strides (2, 1)", e.Message);
    }

    // Streamed runs write non-temporal stores only over whole cache lines: the head is the elements before the first
    // line boundary, capped at the run; a pointer off the element size has none (-1: the run is not streamed).
    [Fact]
    public void The_streamed_part_of_a_run_starts_at_the_first_cache_line_boundary()
    {
        byte* line = (byte*)(1L << 20);
        for (int offset = 0; offset < NonTemporal.LineBytes; offset += sizeof(float))
        {
            int expected = offset == 0 ? 0 : (NonTemporal.LineBytes - offset) / sizeof(float);
            Assert.Equal(expected, NonTemporal.HeadToLine((float*)(line + offset), 1000));
            Assert.Equal(Math.Min(expected, 3), NonTemporal.HeadToLine((float*)(line + offset), 3));
        }
        Assert.Equal(7, NonTemporal.HeadToLine((double*)(line + 8), 100));
        Assert.Equal(-1, NonTemporal.HeadToLine((float*)(line + 2), 100));
    }

    public static TheoryData<int[], int[], int[]> StreamedLayouts => new()
    {
        // Outputs of at least NonTemporal.MinBytes (4 MB of float32), so the runs are streamed; rows of 1000 do not
        // start register-aligned, and chunks start mid-row.
        { [1100, 1000], [1000, 1], [0, 1] },            // by a row
        { [1100, 1000], [1000, 1], [1, 0] },            // by a column
        { [1100, 1000], [0, 1], [1000, 1] },            // a row on the left
        { [1100, 1000], [1, 0], [1000, 1] },            // a column on the left
        { [1100, 1000], [1000, 1], [1, 1100] },         // a transposed operand (scalar loop, stream flag ignored)
        { [4, 275, 1000], [275000, 1000, 1], [0, 1, 0] }, // a per-channel scale over rank 3 (the general cursor)
        { [1 << 20], [1], [1] },                        // same shape, one run per chunk
    };

    [Theory, MemberData(nameof(StreamedLayouts))]
    public void Large_streamed_broadcasts_match_index_arithmetic_on_one_and_two_threads(int[] shape, int[] aStrides, int[] bStrides)
        => MatchesIndexArithmetic(shape, aStrides, bStrides);

    public static TheoryData<int[], int[], int[]> CachedLayouts => new()
    {
        // Below NonTemporal.MinBytes (plain stores), short and odd rows through BinaryRun.Rows: one chunk, and parallel
        // chunks of Elementwise.Grain that start and end mid-row.
        { [37, 50], [50, 1], [0, 1] },
        { [37, 50], [50, 1], [1, 0] },
        { [300, 64], [1, 0], [64, 1] },
        { [2000, 61], [61, 1], [1, 0] },
        { [2000, 61], [0, 1], [61, 1] },
        { [3, 1], [1, 0], [0, 1] },
    };

    [Theory, MemberData(nameof(CachedLayouts))]
    public void Cached_broadcasts_over_short_rows_match_index_arithmetic_on_one_and_two_threads(int[] shape, int[] aStrides, int[] bStrides)
        => MatchesIndexArithmetic(shape, aStrides, bStrides);

    static void MatchesIndexArithmetic(int[] shape, int[] aStrides, int[] bStrides)
    {
        int count = shape.Aggregate(1, (p, q) => p * q);
        int aLength = 1, bLength = 1;
        for (int d = 0; d < shape.Length; d++) { aLength += (shape[d] - 1) * aStrides[d]; bLength += (shape[d] - 1) * bStrides[d]; }
        // 1 element before each so the inputs start misaligned as well
        var a = ContiguousTests.Data(aLength + 1, 7, 0.1f, 3f);
        var b = ContiguousTests.Data(bLength + 1, 8, 0.5f, 2f);
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (var op in new[] { BinaryOp.Mul, BinaryOp.Div })
                foreach (int threads in new[] { 1, 2 })
                {
                    ParallelRange.MaxThreads = threads;
                    var dst = new float[count];
                    Elementwise.Binary(op, a, 1, aStrides, b, 1, bStrides, shape, dst);
                    for (int i = 0; i < count; i++)
                    {
                        int oa = 1, ob = 1, rest = i;
                        for (int d = shape.Length - 1; d >= 0; d--) { oa += rest % shape[d] * aStrides[d]; ob += rest % shape[d] * bStrides[d]; rest /= shape[d]; }
                        float expected = ScalarMath.Binary(op, a[oa], b[ob]);
                        if (expected != dst[i]) Assert.Fail($"{op} on {threads} threads at {i}: expected {expected}, got {dst[i]}");
                    }
                }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }
}
