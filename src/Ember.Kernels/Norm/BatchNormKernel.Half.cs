using System.Buffers;
using System.Numerics.Tensors;
using Ember.Kernels.Numerics;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Norm;

/// <summary>
/// Batch normalization of float16/bfloat16 activations (autocast runs batch_norm in its input's dtype) in float32 with
/// float32 statistics, one channel at a time: each thread widens its channel's N planes into a scratch of N·S floats
/// (in its L2 at CNN sizes), runs the float32 passes there and rounds the result into the half output. No float32 copy
/// of the whole activation is made. The float32 operations are those of the float32 kernel, plane by plane in the same
/// order (TensorPrimitives' float sums do not depend on the address), so the results are bit for bit those of widening
/// the whole tensor, running <see cref="Forward{T}"/> or <see cref="Backward{T}"/> and rounding once.
/// </summary>
public static unsafe partial class BatchNormKernel
{
    /// <summary><see cref="Forward{T}"/> on a half x and y; weight, bias and the statistics are float32.</summary>
    public static void ForwardHalf<THalf>(ReadOnlySpan<THalf> x, int n, int c, int s, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps,
        Span<THalf> y, Span<float> mean, Span<float> invStd) where THalf : unmanaged
    {
        if (x.Length < n * c * s || y.Length < n * c * s || mean.Length < c || invStd.Length < c)
            throw new ArgumentException($"BatchNormKernel.ForwardHalf: spans too short for [{n}, {c}, {s}]");
        fixed (THalf* px = x, py = y)
        fixed (float* pm = mean, pi = invStd, pw = weight, pb = bias)
        {
            var action = new HalfForwardAction<THalf> { X = px, Y = py, Mean = pm, InvStd = pi, W = weight.IsEmpty ? null : pw, B = bias.IsEmpty ? null : pb, N = n, C = c, S = s, Eps = eps };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    /// <summary><see cref="Backward{T}"/> on a half x, gradOutput and gradInput; weight, statistics and dweight/dbias are float32.</summary>
    public static void BackwardHalf<THalf>(ReadOnlySpan<THalf> x, ReadOnlySpan<THalf> gradOutput, int n, int c, int s, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<THalf> gradInput, Span<float> gradWeight, Span<float> gradBias) where THalf : unmanaged
    {
        if (x.Length < n * c * s || gradOutput.Length < n * c * s || gradInput.Length < n * c * s || gradWeight.Length < c || gradBias.Length < c)
            throw new ArgumentException($"BatchNormKernel.BackwardHalf: spans too short for [{n}, {c}, {s}]");
        fixed (THalf* px = x, pg = gradOutput, pdx = gradInput)
        fixed (float* pw = weight, pm = mean, pi = invStd, pdw = gradWeight, pdb = gradBias)
        {
            var action = new HalfBackwardAction<THalf> { X = px, G = pg, W = weight.IsEmpty ? null : pw, Mean = pm, InvStd = pi, Dx = pdx, Dw = pdw, Db = pdb, N = n, C = c, S = s };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    static void Widen<THalf>(THalf* src, float* dst, int length) where THalf : unmanaged
        => HalfConversion.ToSingle(new ReadOnlySpan<THalf>(src, length), new Span<float>(dst, length));

    static void Round<THalf>(float* src, THalf* dst, int length) where THalf : unmanaged
        => HalfConversion.FromSingle(new ReadOnlySpan<float>(src, length), new Span<THalf>(dst, length));

    // The float32 ForwardAction's operations, on one widened channel at a time.
    struct HalfForwardAction<THalf> : IRangeAction where THalf : unmanaged
    {
        public THalf* X, Y; public float* Mean, InvStd, W, B; public int N, C, S; public float Eps;
        public readonly void Invoke(int start, int end)
        {
            float count = N * S;
            float[] scratch = ArrayPool<float>.Shared.Rent(N * S);
            try
            {
                fixed (float* channel = scratch)
                    for (int ch = start; ch < end; ch++)
                    {
                        float sum = 0f;
                        for (int i = 0; i < N; i++)
                        {
                            float* plane = channel + (long)i * S;
                            Widen(X + ((long)i * C + ch) * S, plane, S);
                            sum += TensorPrimitives.Sum(new ReadOnlySpan<float>(plane, S));
                        }
                        float mean = sum / count;
                        float sq = 0f;
                        for (int i = 0; i < N; i++) sq += SumSquaredDeviation(channel + (long)i * S, S, mean);
                        float invStd = 1f / MathF.Sqrt(sq / count + Eps);
                        Mean[ch] = mean; InvStd[ch] = invStd;
                        var (scale, shift) = OutputAffine(mean, invStd, W, B, ch);
                        for (int i = 0; i < N; i++)
                        {
                            float* plane = channel + (long)i * S;
                            Affine(plane, scale, shift, plane, S);
                            Round(plane, Y + ((long)i * C + ch) * S, S);
                        }
                    }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }
    }

    // The float32 BackwardAction's operations; x and g of a channel widened side by side.
    struct HalfBackwardAction<THalf> : IRangeAction where THalf : unmanaged
    {
        public THalf* X, G, Dx; public float* W, Mean, InvStd, Dw, Db; public int N, C, S;
        public readonly void Invoke(int start, int end)
        {
            float count = N * S;
            int length = N * S;
            float[] scratch = ArrayPool<float>.Shared.Rent(2 * length);
            try
            {
                fixed (float* xs = scratch)
                {
                    float* gs = xs + length;
                    for (int ch = start; ch < end; ch++)
                    {
                        float mean = Mean[ch], invStd = InvStd[ch];
                        float sumG = 0f, sumGx = 0f;
                        for (int i = 0; i < N; i++)
                        {
                            long at = ((long)i * C + ch) * S;
                            float* xp = xs + (long)i * S, gp = gs + (long)i * S;
                            Widen(X + at, xp, S);
                            Widen(G + at, gp, S);
                            var (rowG, rowGx) = SumAndCenteredDot(gp, xp, S, mean);
                            sumG += rowG;
                            sumGx += rowGx;
                        }
                        Db[ch] = sumG;
                        Dw[ch] = sumGx * invStd;
                        var (a, xCoefficient, constant) = InputGradientAffine(sumG, sumGx, mean, invStd, W, ch, count);
                        for (int i = 0; i < N; i++)
                        {
                            float* xp = xs + (long)i * S, gp = gs + (long)i * S;
                            AffinePair(gp, a, xp, xCoefficient, constant, gp, S);
                            Round(gp, Dx + ((long)i * C + ch) * S, S);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }
    }
}
