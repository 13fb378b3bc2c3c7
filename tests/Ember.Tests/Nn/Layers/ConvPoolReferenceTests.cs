using Ember.Nn;
using Ember.Nn.Functional;
using R = Ember.Tests.Nn.Layers.ConvPoolReference;

namespace Ember.Tests.Nn.Layers;

/// <summary>Convolution, pooling and upsampling against libtorch (values from tools/oracle/conv_pool.cs): output and gradients in float32.</summary>
public class ConvPoolReferenceTests
{
    static Tensor Seq(int[] shape, double a, double b, double scale = 1)
    {
        int n = shape.Aggregate(1, (p, d) => p * d);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(Math.Sin(a * i + b) * scale);
        return Torch.FromArray(v, shape);
    }

    static Tensor W(params int[] shape)
    {
        int n = shape.Aggregate(1, (p, d) => p * d);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(Math.Cos(0.23 * i) * 0.5);
        return Torch.FromArray(v, shape).RequiresGradInPlace();
    }

    static void Check(Tensor x, Func<Tensor, Tensor> f, float[] output, float[] dx, params (Tensor T, float[] Grad)[] more)
    {
        x.RequiresGrad = true;
        var y = f(x);
        TestUtil.Close(output.Select(v => (double)v).ToArray(), y, rtol: 1e-5, atol: 1e-5);
        (y * Seq(y.Shape.ToArray(), 0.11, 0.5)).Sum().Backward();
        TestUtil.Close(dx.Select(v => (double)v).ToArray(), x.Grad!, rtol: 1e-5, atol: 1e-5);
        foreach (var (t, g) in more) TestUtil.Close(g.Select(v => (double)v).ToArray(), t.Grad!, rtol: 1e-5, atol: 1e-5);
    }

    [Fact]
    public void Conv2d_strided_padded_grouped()
    {
        var w = W(6, 2, 3, 3); var b = W(6);
        Check(Seq([2, 4, 7, 6], 0.37, 0.1), t => F.Conv2d(t, w, b, (2, 1), 1, groups: 2), R.Conv2dStride2Pad1Groups2_Out, R.Conv2dStride2Pad1Groups2_DX,
            (w, R.Conv2dStride2Pad1Groups2_DW), (b, R.Conv2dStride2Pad1Groups2_DB));
    }

    [Fact]
    public void Conv2d_dilated()
    {
        var w = W(5, 3, 3, 3);
        Check(Seq([1, 3, 8, 8], 0.37, 0.1), t => F.Conv2d(t, w, null, padding: 2, dilation: (2, 2)), R.Conv2dDilation2_Out, R.Conv2dDilation2_DX, (w, R.Conv2dDilation2_DW));
    }

    [Fact]
    public void ConvTranspose2d_strided_with_output_padding()
    {
        var w = W(4, 3, 3, 3); var b = W(3);
        Check(Seq([2, 4, 3, 3], 0.37, 0.1), t => F.ConvTranspose2d(t, w, b, (2, 2), (1, 1), (1, 1)), R.ConvTranspose2dStride2_Out, R.ConvTranspose2dStride2_DX,
            (w, R.ConvTranspose2dStride2_DW), (b, R.ConvTranspose2dStride2_DB));
    }

    [Fact]
    public void Pools_and_upsampling()
    {
        Check(Seq([2, 3, 7, 7], 0.37, 0.1), t => F.MaxPool2d(t, 3, 2, 1, ceilMode: true), R.MaxPool2dK3S2P1Ceil_Out, R.MaxPool2dK3S2P1Ceil_DX);
        Check(Seq([2, 3, 7, 7], 0.37, 0.1), t => F.AvgPool2d(t, 3, 2, 1, countIncludePad: false), R.AvgPool2dK3S2P1NoPad_Out, R.AvgPool2dK3S2P1NoPad_DX);
        Check(Seq([2, 3, 7, 5], 0.37, 0.1), t => F.AdaptiveAvgPool2d(t, (3, 2)), R.AdaptiveAvgPool2d3x2_Out, R.AdaptiveAvgPool2d3x2_DX);
        Check(Seq([2, 3, 7, 5], 0.37, 0.1), t => F.AdaptiveMaxPool2d(t, (3, 2)), R.AdaptiveMaxPool2d3x2_Out, R.AdaptiveMaxPool2d3x2_DX);
        Check(Seq([1, 2, 3, 4], 0.37, 0.1), t => F.Interpolate(t, size: (5, 7), mode: InterpolationMode.Bilinear), R.UpsampleBilinear5x7_Out, R.UpsampleBilinear5x7_DX);
        Check(Seq([1, 2, 3, 4], 0.37, 0.1), t => F.Interpolate(t, scaleFactor: (2, 2)), R.UpsampleNearestX2_Out, R.UpsampleNearestX2_DX);
    }
}
