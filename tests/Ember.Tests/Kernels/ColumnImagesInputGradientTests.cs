using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

/// <summary>
/// The column path's input gradient with several images a GEMM (Conv2dKernel.ColumnImages: output gradients side by
/// side, input channels in blocks) against one image a GEMM, bit for bit on 1, 2 and 5 threads and every vector width,
/// and against the direct sum in float64; and which layers take it.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class ColumnImagesInputGradientTests
{
    // "N,C_in,H,W,C_out,kH,kW,sH,sW,pH,pW,dH,dW"
    public static TheoryData<string, string> Cases() => ConvKernelTests.OnEveryWidth(
    [
        "7,12,16,16,10,3,3,2,2,1,1,1,1",   // 8×8 outputs, 7 images: a last group of fewer images
        "5,13,9,11,6,3,3,2,2,1,1,1,1",     // 5×6 outputs, 13 channels: channel blocks of unequal size
        "4,24,16,16,16,3,3,2,2,1,1,1,1",   // 24 channels in blocks of 12, 8 and 6
        "6,6,11,11,3,5,5,2,2,2,2,1,1",     // 5×5 kernel
        "4,9,12,12,5,3,3,2,2,2,2,2,2",     // dilation 2
        "4,8,12,9,5,3,3,2,1,1,1,1,1",      // stride 2 × 1
    ]);

    // Through BackwardInputCore with the column matrix (the phases forced off), bias as the transposed convolution adds it.
    static void Run<T>(in Conv2dGeometry g, T[] dy, T[] w, T[] bias, T[] dx, int images, int threads)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ParallelRange.MaxThreads = threads;
        Conv2dKernel.ForcedColumnImages = images;
        ShiftedGemmConv.ForceColumnInputGradient = true;
        Array.Fill(dx, T.NaN); // every element is written
        Conv2dKernel.BackwardInputCore<T>(g, dy, w, bias, dx);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Images_together_give_the_bits_of_one_image_a_GEMM(string isa, string geometry)
    {
        var g = StridedInputGradientTests.Parse(geometry);
        double[] w = Random(g.WeightLength, 1), dy = Random(g.OutputLength, 2), bias = Random(g.InChannels, 3);
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        int saved = ParallelRange.MaxThreads;
        try
        {
            double[] expected = ConvKernelTests.NaiveGradInput(g, ToDouble(ToFloat(dy)), ToDouble(ToFloat(w)));
            float[] b = ToFloat(bias);
            for (int i = 0; i < expected.Length; i++) expected[i] += b[i / g.InPlane % g.InChannels];
            var alone = new float[g.InputLength];
            Run(g, ToFloat(dy), ToFloat(w), b, alone, images: 1, threads: 1);
            Close(expected, alone, 1e-5, $"{isa} one image a GEMM");
            foreach (int images in new[] { 2, 3, 4, 0 })
                foreach (int threads in new[] { 1, 2, 5 })
                {
                    var together = new float[g.InputLength];
                    Run(g, ToFloat(dy), ToFloat(w), b, together, images, threads);
                    for (int i = 0; i < alone.Length; i++)
                        Assert.True(alone[i].Equals(together[i]),
                            $"{isa}, {images} images, {threads} threads: element {i} is {together[i]:R}, one image a GEMM gives {alone[i]:R}");
                }

            double[] expected64 = ConvKernelTests.NaiveGradInput(g, dy, w);
            for (int i = 0; i < expected64.Length; i++) expected64[i] += bias[i / g.InPlane % g.InChannels];
            var dx64 = new double[g.InputLength];
            Run(g, dy, w, bias, dx64, images: 3, threads: 2);
            Close(expected64, dx64, 1e-12, $"{isa} float64, 3 images a GEMM");
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            Conv2dKernel.ForcedColumnImages = 0;
            ShiftedGemmConv.ForceColumnInputGradient = false;
        }
    }

    [Fact]
    public void Eight_by_eight_outputs_take_four_images_a_GEMM_on_AVX2_and_Vector128_only()
    {
        // YOLOv5's model.7 at width 0.375 and --img 256 (192 → 384 channels, 16² → 8²), batch 16, on two threads.
        var g = new Conv2dGeometry(16, 192, 16, 16, 384, 3, 3, 2, 2, 1, 1);
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 2;
            (GemmIsa Isa, int Images)[] expected = [(GemmIsa.Vector128, 4), (GemmIsa.Vector256, 4), (GemmIsa.Vector512, 1)];
            foreach (var (isa, images) in expected)
            {
                GemmDriver.ForcedIsa = isa;
                Assert.Equal(images, Conv2dKernel.ColumnImages<float>(g));
                // 16×16 outputs already give the GEMM 256 columns; two images on two threads keep one each.
                Assert.Equal(1, Conv2dKernel.ColumnImages<float>(new Conv2dGeometry(16, 96, 32, 32, 192, 3, 3, 2, 2, 1, 1)));
                Assert.Equal(1, Conv2dKernel.ColumnImages<float>(new Conv2dGeometry(2, 192, 16, 16, 384, 3, 3, 2, 2, 1, 1)));
            }
            // Five threads: at least one group of images each.
            ParallelRange.MaxThreads = 5;
            GemmDriver.ForcedIsa = GemmIsa.Vector256;
            Assert.Equal(3, Conv2dKernel.ColumnImages<float>(g));
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
        }
    }
}
