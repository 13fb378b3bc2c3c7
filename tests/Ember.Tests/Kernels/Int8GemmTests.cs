using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Quantized;

namespace Ember.Tests.Kernels;

public class Int8GemmTests
{
    static readonly Int8DotPath[] Paths = [Int8DotPath.Scalar, Int8DotPath.Sse, Int8DotPath.Avx2, Int8DotPath.AvxVnni];

    static bool Supported(Int8DotPath path) => path switch
    {
        Int8DotPath.Sse => Ssse3.IsSupported,
        Int8DotPath.Avx2 => Avx2.IsSupported,
        Int8DotPath.AvxVnni => AvxVnni.IsSupported,
        _ => true,
    };

    // The definition: y = (Σ a·w − z·Σ w) · (s·s_w) + b, the integer part in long arithmetic.
    static float[] Reference(byte[] a, int m, int kp, int z, float s, sbyte[] w, int n, int k, float[] scales, float[] bias)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0, wsum = 0;
                for (int c = 0; c < k; c++) { sum += a[i * kp + c] * (long)w[j * k + c]; wsum += w[j * k + c]; }
                y[i * n + j] = (float)(sum - z * wsum) * (s * scales[j]) + (bias.Length > 0 ? bias[j] : 0f);
            }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(4, 16, 16)]
    [InlineData(9, 37, 19)]
    [InlineData(17, 64, 33)]
    [InlineData(130, 784, 48)] // several tiles per thread chunk
    public void EveryInstructionPathGivesTheDefinitionBitForBit(int m, int k, int n)
    {
        var random = new Random(m * 1000 + k * 10 + n);
        var w = new sbyte[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)random.Next(-128, 128);
        var packed = Int8PackedWeights.Pack(w, n, k);
        int kp = packed.PaddedColumns;
        // activations up to 128: the largest a reduced range plus a rounding tie gives, the pmaddubsw paths' limit
        var a = new byte[m * kp];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < k; c++) a[i * kp + c] = (byte)random.Next(0, 129);
        var scales = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 0.01 + 1e-4)).ToArray();
        var bias = n % 2 == 0 ? [] : Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        var expected = Reference(a, m, kp, 37, 0.02f, w, n, k, scales, bias);
        foreach (var path in Paths.Where(Supported))
        {
            var y = new float[m * n];
            Int8Gemm.MultiplyDequantize(a, m, 37, 0.02f, packed, scales, bias, y, path);
            Assert.True(expected.AsSpan().SequenceEqual(y), $"{path} differs from the definition at [{m}, {k}] x [{n}, {k}]");
        }
    }

    [Fact]
    public void ExtremeBytesDoNotSaturateThePairSums()
    {
        // 128 × −128 twice is −32768, the int16 minimum; 128 × 127 twice is 32512: both exact in pmaddubsw
        int m = 4, k = 8, n = 16;
        var w = new sbyte[n * k];
        for (int j = 0; j < n; j++) for (int c = 0; c < k; c++) w[j * k + c] = j % 2 == 0 ? (sbyte)-128 : (sbyte)127;
        var packed = Int8PackedWeights.Pack(w, n, k);
        var a = Enumerable.Repeat((byte)128, m * packed.PaddedColumns).ToArray();
        var scales = Enumerable.Repeat(1f, n).ToArray();
        foreach (var path in Paths.Where(Supported))
        {
            var y = new float[m * n];
            Int8Gemm.MultiplyDequantize(a, m, 0, 1f, packed, scales, [], y, path);
            for (int j = 0; j < n; j++) Assert.Equal(j % 2 == 0 ? -128 * 128 * k : 127 * 128 * k, y[j]);
        }
    }

    [Fact]
    public void PackingKeepsEveryWeightAndItsRowSum()
    {
        int n = 21, k = 10;
        var w = Enumerable.Range(0, n * k).Select(i => (sbyte)((i * 37) % 256 - 128)).ToArray();
        var packed = Int8PackedWeights.Pack(w, n, k);
        Assert.Equal((12, 32), (packed.PaddedColumns, packed.Blocks * 8));
        for (int j = 0; j < n; j++)
            for (int c = 0; c < k; c++) Assert.Equal(w[j * k + c], packed[j, c]);
        Assert.Throws<ArgumentOutOfRangeException>(() => packed[n, 0]);
        var e = Assert.Throws<ArgumentException>(() => Int8PackedWeights.Pack(w, n, k + 1));
        Assert.Contains("expected 231 values for [21, 11], got 210", e.Message);
    }

    [Fact]
    public void QuantizerRoundsTiesToEvenAfterAddingTheZeroPointAndClamps()
    {
        // scale 0.5: x / s = 2x; z = 3 → 3 + 2x; ties: 3 + 0.5 = 3.5 → 4, 3 + 1.5 = 4.5 → 4, 3 − 0.5 = 2.5 → 2
        float[] x = [0.25f, 0.75f, -0.25f, 1000f, -100f, 0f, 1f, 2f, 3f, 0.1f, 7f];
        var q = new byte[12];
        q[11] = 99;
        Uint8Quantizer.QuantizeRows(x, 1, 11, 0.5f, 3, q, 12);
        Assert.Equal(new byte[] { 4, 4, 2, 255, 0, 3, 5, 7, 9, 3, 17, 0 }, q);
    }
}
