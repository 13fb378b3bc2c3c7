using System.Numerics;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>Reduction kernels against naive loops, every reduced length 0–257, and bit-identical on 1, 2 and 3 threads.</summary>
public class ReductionTests
{
    [Theory]
    [InlineData(ReduceOp.Sum)]
    [InlineData(ReduceOp.Prod)]
    [InlineData(ReduceOp.Max)]
    [InlineData(ReduceOp.Min)]
    public void Reduce_matches_a_naive_loop_for_every_length_and_inner_size(ReduceOp op)
    {
        foreach (int reduced in ContiguousTests.Lengths)
            foreach (int inner in new[] { 1, 3 })
            {
                if (reduced == 0 && op is ReduceOp.Max or ReduceOp.Min) continue;
                int outer = 2;
                var src = ContiguousTests.Data(outer * reduced * inner + 1, reduced, 0.9f, 1.1f);
                var dst = new float[outer * inner];
                Reduction.Reduce(op, ((ReadOnlySpan<float>)src)[1..], outer, reduced, inner, dst);
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < inner; i++)
                    {
                        double acc = op switch { ReduceOp.Sum => 0, ReduceOp.Prod => 1, ReduceOp.Max => double.NegativeInfinity, _ => double.PositiveInfinity };
                        for (int r = 0; r < reduced; r++)
                        {
                            double v = src[1 + (o * reduced + r) * inner + i];
                            acc = op switch { ReduceOp.Sum => acc + v, ReduceOp.Prod => acc * v, ReduceOp.Max => Math.Max(acc, v), _ => Math.Min(acc, v) };
                        }
                        Assert.True(Math.Abs(acc - dst[o * inner + i]) <= 1e-5 * Math.Max(1, Math.Abs(acc)), $"{op} reduced={reduced} inner={inner}: {acc} vs {dst[o * inner + i]}");
                    }
            }
    }

    [Fact]
    public void Empty_max_is_an_error_and_empty_sum_is_zero()
    {
        var dst = new float[2];
        Assert.Throws<ArgumentException>(() => Reduction.Reduce(ReduceOp.Max, ReadOnlySpan<float>.Empty, 2, 0, 1, dst));
        Reduction.Reduce(ReduceOp.Sum, ReadOnlySpan<float>.Empty, 2, 0, 1, dst);
        Assert.Equal([0f, 0f], dst);
        Assert.Throws<ArgumentException>(() => Reduction.Reduce(ReduceOp.Sum, new float[3], 2, 2, 1, dst));
    }

    [Fact]
    public void Mean_is_the_sum_divided_by_the_count_bit_for_bit()
    {
        // every row length 0-257 (0 gives 0/0 = NaN, as PyTorch's mean), inner 1 and 3, and two large shapes: rows of
        // 1031 and a column sum split into blocks of inner columns
        var shapes = ContiguousTests.Lengths.SelectMany(r => new[] { (2, r, 1), (2, r, 3) }).Append((300, 1031, 1)).Append((1, 130, 1031));
        foreach (var (outer, reduced, inner) in shapes)
        {
            var src = ContiguousTests.Data(outer * reduced * inner + 1, reduced, -3f, 5f);
            CheckMean(src, outer, reduced, inner);
            CheckMean(src.Select(v => (double)v).ToArray(), outer, reduced, inner);
        }

        static void CheckMean<T>(T[] src, int outer, int reduced, int inner) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
        {
            var sum = new T[outer * inner];
            Reduction.Reduce(ReduceOp.Sum, ((ReadOnlySpan<T>)src)[1..], outer, reduced, inner, sum);
            var mean = new T[outer * inner];
            Reduction.Mean(((ReadOnlySpan<T>)src)[1..], outer, reduced, inner, mean);
            Assert.Equal(sum.Select(v => v / T.CreateChecked(reduced)).ToArray(), mean);
        }
        Assert.True(float.IsNaN(Torch.Zeros(2, 0).Mean(1).ToArray<float>()[0]));
        var error = Assert.Throws<ArgumentException>(() => Reduction.Mean(new float[3], 2, 2, 1, new float[2]));
        Assert.StartsWith("mean:", error.Message);
    }

    [Fact]
    public void Column_sums_add_each_column_in_row_order_whatever_the_address()
    {
        // The column sum peels columns up to the rows' first register-aligned one (so its loads do not split cache lines):
        // every start 0-15 floats into the buffer (every 4-byte position within 64 bytes), row strides that are and are
        // not a whole number of registers, one and several 512-column blocks; each column must be exactly the float sum
        // in row order, the bits of one row at a time.
        var buffer = ContiguousTests.Data(130 * 1031 + 16, 7, -3f, 5f);
        foreach (var (reduced, inner) in new[] { (1, 16), (5, 16), (9, 37), (130, 1031), (70, 1024), (6, 600), (4, 48) })
            for (int start = 0; start < 16; start++)
            {
                var dst = new float[inner];
                Reduction.Reduce(ReduceOp.Sum, buffer.AsSpan(start, reduced * inner), 1, reduced, inner, dst);
                for (int i = 0; i < inner; i++)
                {
                    float expected = buffer[start + i];
                    for (int r = 1; r < reduced; r++) expected += buffer[start + r * inner + i];
                    Assert.True(expected.Equals(dst[i]), $"[{reduced}, {inner}] from element {start}, column {i}: {dst[i]}, expected {expected}");
                }
            }
    }

    [Fact]
    public void ArgReduce_returns_first_extreme_and_nan()
    {
        var src = new float[] { 1, 5, 5, 2, /* row 2 */ 3, float.NaN, 9, float.NaN };
        var v = new float[2]; var ix = new long[2];
        Reduction.ArgReduce(true, src, 2, 4, 1, v, ix);
        Assert.Equal([1L, 1L], ix);
        Assert.Equal(5f, v[0]);
        Assert.True(float.IsNaN(v[1]));
        Reduction.ArgReduce(false, src, 2, 4, 1, v, ix);
        Assert.Equal([0L, 1L], ix);
    }

    [Fact]
    public void Softmax_rows_and_strided_columns_agree()
    {
        int outer = 3, reduced = 37, inner = 5;
        var src = ContiguousTests.Data(outer * reduced * inner, 8, -20, 20);
        var strided = new float[src.Length];
        Reduction.Softmax(src, outer, reduced, inner, strided, log: false);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var row = Enumerable.Range(0, reduced).Select(r => src[(o * reduced + r) * inner + i]).ToArray();
                var y = new float[reduced];
                Reduction.Softmax(row, 1, reduced, 1, y, log: false);
                var ly = new float[reduced];
                Reduction.Softmax(row, 1, reduced, 1, ly, log: true);
                for (int r = 0; r < reduced; r++)
                {
                    Assert.True(Math.Abs(y[r] - strided[(o * reduced + r) * inner + i]) <= 1e-6 * Math.Max(y[r], 1e-30) + 1e-12);
                    Assert.True(Math.Abs(Math.Log(y[r]) - ly[r]) <= 1e-4 + 1e-5 * Math.Abs(ly[r]));
                }
            }
    }

    [Fact]
    public void Large_reductions_are_bit_identical_on_one_two_and_three_threads()
    {
        int saved = ParallelRange.MaxThreads;
        try
        {
            var src = ContiguousTests.Data(512 * 1031, 9);
            (float[] Sum, float[] Cols, float[] Soft) Run(int threads)
            {
                ParallelRange.MaxThreads = threads;
                var rows = new float[512]; Reduction.Reduce(ReduceOp.Sum, src, 512, 1031, 1, rows);
                var cols = new float[1031]; Reduction.Reduce(ReduceOp.Sum, src, 1, 512, 1031, cols);
                var soft = new float[src.Length]; Reduction.Softmax(src, 512, 1031, 1, soft, log: true);
                var means = new float[512 + 1031];
                Reduction.Mean(src, 512, 1031, 1, means.AsSpan(0, 512));
                Reduction.Mean(src, 1, 512, 1031, means.AsSpan(512));
                return ([.. rows, .. means], cols, soft);
            }
            var one = Run(1);
            // every row summed (the right one, once): within float32 rounding of the float64 sum
            for (int o = 0; o < 512; o++)
            {
                double exact = 0, magnitude = 0;
                for (int r = 0; r < 1031; r++) { exact += src[o * 1031 + r]; magnitude += Math.Abs(src[o * 1031 + r]); }
                Assert.True(Math.Abs(one.Sum[o] - exact) <= 1e-6 * magnitude, $"row {o}: {one.Sum[o]} vs {exact}");
                Assert.True(Math.Abs(one.Sum[512 + o] - exact / 1031) <= 1e-6 * magnitude / 1031, $"mean of row {o}: {one.Sum[512 + o]} vs {exact / 1031}");
            }
            // a large reduction gives each thread one run of rows, so 3 threads cut the 512 rows unevenly (171, 171, 170)
            foreach (var other in new[] { Run(2), Run(3) })
            {
                Assert.Equal(one.Sum, other.Sum);
                Assert.Equal(one.Cols, other.Cols);
                Assert.Equal(one.Soft, other.Soft);
            }
            // and through the tensor API, with a non-adjacent multi-dim reduction
            var t = Torch.Randn([64, 50, 40], DType.Float32, new Generator(1));
            ParallelRange.MaxThreads = 1;
            var a = t.Sum([0, 2]).ToArray<float>();
            ParallelRange.MaxThreads = 2;
            Assert.Equal(a, t.Sum([0, 2]).ToArray<float>());
        }
        finally { ParallelRange.MaxThreads = saved; }
    }
}
