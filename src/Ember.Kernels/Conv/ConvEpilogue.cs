using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Conv;

/// <summary>
/// The output pass of a fused convolution: dst = act(src·scale + shift) along a row of one output channel, applied while
/// the convolution's result is still in cache (an eval-mode BatchNorm's α, β and the activation that follows it), so the
/// output is written once instead of once per op. Float32 at the widest accelerated width, float64 in scalar double.
/// </summary>
internal static unsafe class ConvEpilogue
{
    /// <summary>
    /// dst[0..count) = act(src[0..count)·scale + shift (+ residual[0..count) when not null)); dst may alias src or residual.
    /// The residual goes in before the activation, as in ResNet's relu(bn2(conv2(y)) + identity), except for
    /// <see cref="ConvActivation.SiluThenResidual"/>, which adds it after (YOLOv5's x + silu(bn(conv(h)))).
    /// </summary>
    public static void Apply<T>(T* src, T* dst, int count, T scale, T shift, ConvActivation activation, T* residual = null) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            float s = Unsafe.As<T, float>(ref scale), b = Unsafe.As<T, float>(ref shift);
            float* r = (float*)residual;
            switch (activation)
            {
                case ConvActivation.Silu: Float<SiluActivation>((float*)src, (float*)dst, count, s, b, r); break;
                case ConvActivation.SiluThenResidual when r != null: FloatResidualAfter<SiluActivation>((float*)src, (float*)dst, count, s, b, r); break;
                case ConvActivation.SiluThenResidual: Float<SiluActivation>((float*)src, (float*)dst, count, s, b, null); break;
                case ConvActivation.Relu: Float<ReluForward>((float*)src, (float*)dst, count, s, b, r); break;
                default: Float<IdentityForward>((float*)src, (float*)dst, count, s, b, r); break;
            }
            return;
        }
        if (typeof(T) != typeof(double)) throw new NotSupportedException($"Conv2d fused forward: {typeof(T).Name} is not float or double");
        double ds = Unsafe.As<T, double>(ref scale), db = Unsafe.As<T, double>(ref shift);
        double* sp = (double*)src, dp = (double*)dst, rp = (double*)residual;
        for (int i = 0; i < count; i++)
        {
            double v = sp[i] * ds + db;
            if (rp != null && activation != ConvActivation.SiluThenResidual) v += rp[i];
            dp[i] = activation switch
            {
                ConvActivation.Silu => SiluActivation.Forward(v),
                ConvActivation.SiluThenResidual => rp == null ? SiluActivation.Forward(v) : SiluActivation.Forward(v) + rp[i],
                ConvActivation.Relu => v <= 0 ? 0 : v,
                _ => v,
            };
        }
    }

    static void Float<TAct>(float* src, float* dst, int count, float scale, float shift, float* residual) where TAct : struct, IActivation
    {
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512 when residual == null: Body<Simd512<float>, TAct>(src, dst, count, scale, shift); break;
            case SimdWidth.Vector512: BodyResidual<Simd512<float>, TAct>(src, dst, count, scale, shift, residual); break;
            case SimdWidth.Vector256 when residual == null: Body<Simd256<float>, TAct>(src, dst, count, scale, shift); break;
            case SimdWidth.Vector256: BodyResidual<Simd256<float>, TAct>(src, dst, count, scale, shift, residual); break;
            default:
                if (residual == null) Body<Simd128<float>, TAct>(src, dst, count, scale, shift);
                else BodyResidual<Simd128<float>, TAct>(src, dst, count, scale, shift, residual);
                break;
        }
    }

    static void FloatResidualAfter<TAct>(float* src, float* dst, int count, float scale, float shift, float* residual) where TAct : struct, IActivation
    {
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: BodyResidualAfter<Simd512<float>, TAct>(src, dst, count, scale, shift, residual); break;
            case SimdWidth.Vector256: BodyResidualAfter<Simd256<float>, TAct>(src, dst, count, scale, shift, residual); break;
            default: BodyResidualAfter<Simd128<float>, TAct>(src, dst, count, scale, shift, residual); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void BodyResidualAfter<TVec, TAct>(float* src, float* dst, int count, float scale, float shift, float* residual)
        where TVec : struct, ISimd<TVec, float>
        where TAct : struct, IActivation
    {
        var s = TVec.Create(scale);
        var b = TVec.Create(shift);
        int i = 0;
        for (; i <= count - TVec.Count; i += TVec.Count)
            (TAct.Forward(TVec.MultiplyAddEstimate(TVec.Load(src + i), s, b)) + TVec.Load(residual + i)).Store(dst + i);
        if (i < count)
        {
            int n = count - i;
            (TAct.Forward(TVec.MultiplyAddEstimate(TVec.LoadPartial(src + i, n), s, b)) + TVec.LoadPartial(residual + i, n)).StorePartial(dst + i, n);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void BodyResidual<TVec, TAct>(float* src, float* dst, int count, float scale, float shift, float* residual)
        where TVec : struct, ISimd<TVec, float>
        where TAct : struct, IActivation
    {
        var s = TVec.Create(scale);
        var b = TVec.Create(shift);
        int i = 0;
        for (; i <= count - TVec.Count; i += TVec.Count)
            TAct.Forward(TVec.MultiplyAddEstimate(TVec.Load(src + i), s, b) + TVec.Load(residual + i)).Store(dst + i);
        if (i < count)
        {
            int n = count - i;
            TAct.Forward(TVec.MultiplyAddEstimate(TVec.LoadPartial(src + i, n), s, b) + TVec.LoadPartial(residual + i, n)).StorePartial(dst + i, n);
        }
    }

    // Not inlined and fully optimized from the first call, as ActivationKernel's bodies: an inlined copy can run out of
    // the JIT's inlining budget and leave the ISimd operators as calls. The tail goes through partial vectors so every
    // element takes the same operations whatever its position.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Body<TVec, TAct>(float* src, float* dst, int count, float scale, float shift)
        where TVec : struct, ISimd<TVec, float>
        where TAct : struct, IActivation
    {
        var s = TVec.Create(scale);
        var b = TVec.Create(shift);
        int i = 0;
        for (; i <= count - 2 * TVec.Count; i += 2 * TVec.Count)
        {
            var v0 = TVec.MultiplyAddEstimate(TVec.Load(src + i), s, b);
            var v1 = TVec.MultiplyAddEstimate(TVec.Load(src + i + TVec.Count), s, b);
            TAct.Forward(v0).Store(dst + i);
            TAct.Forward(v1).Store(dst + i + TVec.Count);
        }
        for (; i < count; i += TVec.Count)
        {
            int n = Math.Min(TVec.Count, count - i);
            TAct.Forward(TVec.MultiplyAddEstimate(TVec.LoadPartial(src + i, n), s, b)).StorePartial(dst + i, n);
        }
    }

    /// <summary>y = x (the epilogue's affine part alone).</summary>
    readonly struct IdentityForward : IActivation
    {
        public static TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float> => x;

        public static TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float> => g;

        public static double Forward(double x) => x;

        public static double Backward(double g, double x) => g;
    }

    /// <summary>ReLU with NaN passed through as torch.relu does (x ≤ 0 is false for NaN).</summary>
    readonly struct ReluForward : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
            => TVec.ConditionalSelect(TVec.LessThanOrEqual(x, TVec.Zero), TVec.Zero, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float>
            => TVec.ConditionalSelect(TVec.GreaterThan(x, TVec.Zero), g, TVec.Zero);

        public static double Forward(double x) => x <= 0 ? 0 : x;

        public static double Backward(double g, double x) => x > 0 ? g : 0;
    }
}
