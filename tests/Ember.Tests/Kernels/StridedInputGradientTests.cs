using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

/// <summary>
/// The input gradient of strided convolutions split by the input's phases (one stride-1 shifted GEMM per phase) against
/// the direct sum in float64 and float32, on every vector width, bit-identical on 1 and 2 threads; and the dispatch:
/// YOLOv5's 3×3 stride-2 convs take it on AVX2 and AVX-512; small planes, one image and few channels keep the column path.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class StridedInputGradientTests
{
    // "N,C_in,H,W,C_out,kH,kW,sH,sW,pH,pW,dH,dW"
    public static TheoryData<string, string> Cases() => ConvKernelTests.OnEveryWidth(
    [
        "2,16,16,16,24,3,3,2,2,1,1,1,1",   // 3×3 stride 2, padding 1: phases with 1, 2, 2 and 4 taps
        "3,17,13,11,5,3,3,2,2,1,1,1,1",    // odd sizes (phases of unequal size), 17 input channels: a short row tile
        "1,24,9,14,7,3,3,2,2,1,1,1,1",     // one image
        "2,20,12,10,8,3,3,2,1,1,1,1,1",    // stride 2 × 1: two phases, rows only
        "2,16,14,12,6,6,6,2,2,2,2,1,1",    // the 6×6 stem's shape: 9 taps per phase
        "2,16,9,9,4,1,1,2,2,0,0,1,1",      // 1×1 stride 2: three phases without taps are zero
        "2,16,11,10,6,3,3,3,3,1,1,1,1",    // stride 3
        "2,16,12,11,6,3,3,2,2,2,2,2,2",    // dilation 2 at stride 2: the odd rows and columns have no taps
        "2,16,10,10,6,2,2,2,2,0,0,1,1",    // 2×2 stride 2: one tap per phase
        "2,32,30,33,12,3,3,2,2,1,1,1,1",   // 15×17-position phase grids
        "2,56,14,14,8,3,3,2,2,1,1,1,1",    // 56 rows: the 12-row AVX-512 kernel with a short tile (up to 48 rows take 8-row tiles)
    ]);

    internal static Conv2dGeometry Parse(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], 1);
    }

    // The direct sum over every (output, tap) pair.
    static double[] DirectGradInput(in Conv2dGeometry g, double[] dy, double[] w) => ConvKernelTests.NaiveGradInput(g, dy, w);

    static unsafe void RunPhases<T>(in Conv2dGeometry g, T[] dy, T[] w, T[] dx) where T : unmanaged, System.Numerics.INumber<T>
    {
        fixed (T* pdy = dy, pw = w, pdx = dx)
            ShiftedGemmConv.BackwardInputStrided(g, pdy, pw, pdx);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Phases_match_the_direct_sum_on_every_width_and_thread_count(string isa, string geometry)
    {
        var g = Parse(geometry);
        double[] w = Random(g.WeightLength, 1), dy = Random(g.OutputLength, 2);
        double[] expected = DirectGradInput(g, dy, w);
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        int saved = ParallelRange.MaxThreads;
        try
        {
            var dx = new double[g.InputLength];
            Array.Fill(dx, double.NaN); // every element is written, none accumulated
            RunPhases(g, dy, w, dx);
            Close(expected, dx, 1e-12, $"{isa} float64 grad input");

            float[] Run(int threads)
            {
                ParallelRange.MaxThreads = threads;
                var dxf = new float[g.InputLength];
                Array.Fill(dxf, float.NaN);
                RunPhases(g, ToFloat(dy), ToFloat(w), dxf);
                return dxf;
            }
            float[] one = Run(1), two = Run(2);
            Close(DirectGradInput(g, ToDouble(ToFloat(dy)), ToDouble(ToFloat(w))), one, 1e-5, $"{isa} float32 grad input");
            Assert.True(one.AsSpan().SequenceEqual(two), $"{isa}: the float32 input gradient differs between 1 and 2 threads");
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
        }
    }

    [Theory]
    [InlineData("2,24,30,33,12,3,3,2,2,1,1,1,1", 1)]  // chunks of one panel: rows of the grid cut between chunks
    [InlineData("3,17,13,11,5,3,3,2,2,1,1,1,1", 3)]
    [InlineData("2,20,12,10,8,3,3,2,1,1,1,1,1", 2)]
    public void Chunks_of_grid_positions_give_the_bits_of_one_chunk(string geometry, int chunkPanels)
    {
        var g = Parse(geometry);
        float[] w = ToFloat(Random(g.WeightLength, 8)), dy = ToFloat(Random(g.OutputLength, 9));
        float[] Run(int panels)
        {
            ShiftedGemmConv.ForcedChunkPanels = panels;
            var dx = new float[g.InputLength];
            Array.Fill(dx, float.NaN);
            RunPhases(g, dy, w, dx);
            return dx;
        }
        try
        {
            float[] whole = Run(0), chunked = Run(chunkPanels);
            Assert.True(whole.AsSpan().SequenceEqual(chunked), $"chunks of {chunkPanels} panels change the input gradient");
            Close(DirectGradInput(g, ToDouble(dy), ToDouble(w)), whole, 1e-5, "float32 grad input");
        }
        finally { ShiftedGemmConv.ForcedChunkPanels = 0; }
    }

    [Fact]
    public void Stride_two_convs_of_YOLOv5_take_the_phases_and_match_the_column_path()
    {
        // model.1 at width 0.375 and --img 256, batch cut to 2 and the image to 64² to keep the test short.
        var g = new Conv2dGeometry(2, 24, 64, 64, 48, 3, 3, 2, 2, 1, 1);
        // The 128-bit path keeps the column matrix.
        bool wide = GemmDriver.SelectedIsa != GemmIsa.Vector128;
        Assert.Equal(wide, ShiftedGemmConv.AppliesToStridedInputGradient<float>(g));
        // One image, eight input channels, and 8×8 phases keep the column path.
        Assert.False(ShiftedGemmConv.AppliesToStridedInputGradient<float>(new Conv2dGeometry(1, 24, 64, 64, 48, 3, 3, 2, 2, 1, 1)));
        Assert.False(ShiftedGemmConv.AppliesToStridedInputGradient<float>(new Conv2dGeometry(2, 8, 64, 64, 48, 3, 3, 2, 2, 1, 1)));
        Assert.False(ShiftedGemmConv.AppliesToStridedInputGradient<float>(new Conv2dGeometry(2, 192, 16, 16, 384, 3, 3, 2, 2, 1, 1)));
        Assert.False(ShiftedGemmConv.AppliesToStridedInputGradient<float>(new Conv2dGeometry(2, 24, 64, 64, 48, 3, 3, 1, 1, 1, 1)));
        // 16×16 phases (32² inputs, model.5's): 12.5 % of the grid wasted in 32-wide AVX-512 panels, 6 % in AVX2's 16-wide ones.
        Assert.Equal(GemmDriver.SelectedIsa == GemmIsa.Vector256,
            ShiftedGemmConv.AppliesToStridedInputGradient<float>(new Conv2dGeometry(2, 96, 32, 32, 192, 3, 3, 2, 2, 1, 1)));

        double[] w = Random(g.WeightLength, 3), dy = Random(g.OutputLength, 4);
        double[] expected = DirectGradInput(g, ToDouble(ToFloat(dy)), ToDouble(ToFloat(w)));
        var phases = new float[g.InputLength];
        var columns = new float[g.InputLength];
        Conv2dKernel.BackwardInput<float>(g, ToFloat(dy), ToFloat(w), phases);
        try
        {
            ShiftedGemmConv.ForceColumnInputGradient = true;
            Conv2dKernel.BackwardInput<float>(g, ToFloat(dy), ToFloat(w), columns);
        }
        finally { ShiftedGemmConv.ForceColumnInputGradient = false; }
        Close(expected, phases, 1e-5, "phases");
        Close(expected, columns, 1e-5, "columns");
    }

    [Fact]
    public void Transposed_convolution_with_stride_two_adds_its_bias_after_the_phases()
    {
        // conv_transpose2d(x, W, b, stride 2, padding 1, output padding 1): the input gradient of the conv below, plus b.
        var t = new ConvTranspose2dGeometry(2, 48, 32, 32, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);
        Assert.Equal(GemmDriver.SelectedIsa != GemmIsa.Vector128, ShiftedGemmConv.AppliesToStridedInputGradient<float>(t.Conv));
        double[] x = Random(t.Conv.OutputLength, 5), w = Random(t.Conv.WeightLength, 6), b = Random(t.OutChannels, 7);
        double[] expected = DirectGradInput(t.Conv, ToDouble(ToFloat(x)), ToDouble(ToFloat(w)));
        for (int k = 0; k < expected.Length; k++) expected[k] += (float)b[k / t.Conv.InPlane % t.OutChannels];
        var y = new float[t.OutputLength];
        ConvTranspose2dKernel.Forward<float>(t, ToFloat(x), ToFloat(w), ToFloat(b), y);
        Close(expected, y, 1e-5, "conv_transpose2d with bias");
    }
}
