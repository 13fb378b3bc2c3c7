using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Norm;

/// <summary>
/// Training-mode batch normalization followed by SiLU (YOLOv5's Conv block), fused: the output pass writes
/// silu(x·scale + shift) directly, and the backward turns the gradient of the SiLU output into that of the BN output
/// inside the BN backward's first pass, recomputing bn(x) from x and the statistics instead of reading a saved copy.
/// Two passes and one activation-sized tensor less than BN then SiLU, and the same operations on every element, so
/// the results are bit for bit those of <see cref="Forward{T}"/> then the SiLU kernel (and of the SiLU backward kernel
/// then <see cref="Backward{T}"/>).
/// </summary>
public static unsafe partial class BatchNormKernel
{
    /// <summary>As <see cref="Forward{T}"/>, but y = silu((x − mean)·invstd·w + b).</summary>
    public static void ForwardSilu<T>(ReadOnlySpan<T> x, int n, int c, int s, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireFloatOrDouble<T>("ForwardSilu");
        if (x.Length < n * c * s || y.Length < n * c * s || mean.Length < c || invStd.Length < c)
            throw new ArgumentException($"BatchNormKernel.ForwardSilu: spans too short for [{n}, {c}, {s}]");
        fixed (T* px = x) fixed (T* py = y) fixed (T* pm = mean) fixed (T* pi = invStd) fixed (T* pw = weight) fixed (T* pb = bias)
        {
            var action = new ForwardAction<T> { X = px, Y = py, Mean = pm, InvStd = pi, W = weight.IsEmpty ? null : pw, B = bias.IsEmpty ? null : pb, N = n, C = c, S = s, Eps = eps, Silu = true };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    /// <summary>
    /// Gradients of silu(bn(x)) given <paramref name="gradOutput"/> (the gradient of the SiLU output): dx, and per channel
    /// Σdz (dbias) and Σ(dz·x̂) (dweight), dz = gradOutput·silu′(bn(x)). <paramref name="mean"/> and
    /// <paramref name="invStd"/> are those <see cref="ForwardSilu{T}"/> returned; gradInput may be gradOutput itself (packed:
    /// each element is read before it is written) but must not overlap it otherwise, nor x.
    /// <paramref name="gradOutputImageStride"/> as in <see cref="Backward{T}"/> (0: gradOutput packed like x).
    /// </summary>
    public static void BackwardSilu<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gradOutput, int n, int c, int s, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> invStd, Span<T> gradInput, Span<T> gradWeight, Span<T> gradBias, int gradOutputImageStride = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireFloatOrDouble<T>("BackwardSilu");
        long gStride = GradientImageStride("BackwardSilu", gradOutput.Length, n, c, s, gradOutputImageStride);
        if (x.Length < n * c * s || gradInput.Length < n * c * s || gradWeight.Length < c || gradBias.Length < c)
            throw new ArgumentException($"BatchNormKernel.BackwardSilu: spans too short for [{n}, {c}, {s}]");
        fixed (T* px = x) fixed (T* pg = gradOutput) fixed (T* pw = weight) fixed (T* pb = bias) fixed (T* pm = mean) fixed (T* pi = invStd)
        fixed (T* pdx = gradInput) fixed (T* pdw = gradWeight) fixed (T* pdb = gradBias)
        {
            var action = new BackwardAction<T>
            {
                X = px, G = pg, GStride = gStride, W = weight.IsEmpty ? null : pw, B = bias.IsEmpty ? null : pb, Mean = pm, InvStd = pi, Dx = pdx, Dw = pdw, Db = pdb,
                N = n, C = c, S = s, Silu = true,
            };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    static void RequireFloatOrDouble<T>(string kernel)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"BatchNormKernel.{kernel}: float32 and float64 only, got {typeof(T).Name}");
    }

    // dst = silu(x·scale + shift): the BN output pass (Affine) and the SiLU kernel's per-element operations in one pass.
    static void AffineSilu<T>(T* x, T scale, T shift, T* dst, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            // float64: Affine's lanes, then the SiLU kernel's scalar double form
            double* xd = (double*)x, yd = (double*)dst;
            double sc = double.CreateTruncating(scale), sh = double.CreateTruncating(shift);
            for (int k = 0; k < n; k++) yd[k] = SiluActivation.Forward(xd[k] * sc + sh);
            return;
        }
        float* xf = (float*)x, yf = (float*)dst;
        float scf = float.CreateTruncating(scale), shf = float.CreateTruncating(shift);
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: AffineSilu<Simd512<float>>(xf, scf, shf, yf, n); break;
            case SimdWidth.Vector256: AffineSilu<Simd256<float>>(xf, scf, shf, yf, n); break;
            default: AffineSilu<Simd128<float>>(xf, scf, shf, yf, n); break;
        }
    }

    static void AffineSilu<TVec>(float* x, float scale, float shift, float* dst, int n) where TVec : struct, ISimd<TVec, float>
    {
        TVec vs = TVec.Create(scale), vt = TVec.Create(shift);
        int k = 0;
        for (; k <= n - TVec.Count; k += TVec.Count)
            SiluActivation.Forward(TVec.Load(x + k) * vs + vt).Store(dst + k);
        // lane-wise multiply and add round as Affine's scalar tail does, and the SiLU kernel takes its tail as partial vectors
        if (k < n)
        {
            int m = n - k;
            SiluActivation.Forward(TVec.LoadPartial(x + k, m) * vs + vt).StorePartial(dst + k, m);
        }
    }

    // dz = g·silu′(x·scale + shift) written to dz, and (Σ dz, Σ dz·(x − mean)) as SumAndCenteredDot(dz, x) sums them.
    static (T SumG, T Dot) SiluGradientSumAndCenteredDot<T>(T* g, T* x, T scale, T shift, T* dz, int n, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            double* gd = (double*)g, xd = (double*)x, dd = (double*)dz;
            double sc = double.CreateTruncating(scale), sh = double.CreateTruncating(shift);
            for (int k = 0; k < n; k++) dd[k] = SiluActivation.Backward(gd[k], xd[k] * sc + sh);
            return SumAndCenteredDot(dz, x, n, mean);
        }
        float* gf = (float*)g, xf = (float*)x, df = (float*)dz;
        float scf = float.CreateTruncating(scale), shf = float.CreateTruncating(shift), mf = float.CreateTruncating(mean);
        var (sumG, dot) = SimdPath.Width switch
        {
            SimdWidth.Vector512 => SiluGradientSumAndCenteredDot<Simd512<float>>(gf, xf, scf, shf, df, n, mf),
            SimdWidth.Vector256 => SiluGradientSumAndCenteredDot<Simd256<float>>(gf, xf, scf, shf, df, n, mf),
            _ => SiluGradientSumAndCenteredDot<Simd128<float>>(gf, xf, scf, shf, df, n, mf),
        };
        return (T.CreateTruncating(sumG), T.CreateTruncating(dot));
    }

    static (float SumG, float Dot) SiluGradientSumAndCenteredDot<TVec>(float* g, float* x, float scale, float shift, float* dz, int n, float mean)
        where TVec : struct, ISimd<TVec, float>
        => SumAndCenteredDot<TVec, float, SiluGradient>(g, x, n, mean, scale, shift, dz);

    /// <summary>
    /// dz = g·silu′(x·scale + shift), written to dz as it is made: whole vectors as the SiLU kernel's loop, the tail as its
    /// partial vectors (then summed from dz as scalars).
    /// </summary>
    readonly struct SiluGradient : IRowGradient<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Load<TVec>(float* g, TVec x, TVec scale, TVec shift, float* dz, int k) where TVec : struct, ISimd<TVec, float>
        {
            var d = SiluActivation.Backward(TVec.Load(g + k), x * scale + shift);
            d.Store(dz + k);
            return d;
        }

        public static float* Tail<TVec>(float* g, float* x, TVec scale, TVec shift, float* dz, int k, int n) where TVec : struct, ISimd<TVec, float>
        {
            for (int t = k; t < n; t += TVec.Count)
            {
                int rest = Math.Min(TVec.Count, n - t);
                SiluActivation.Backward(TVec.LoadPartial(g + t, rest), TVec.LoadPartial(x + t, rest) * scale + shift).StorePartial(dz + t, rest);
            }
            return dz;
        }
    }
}
