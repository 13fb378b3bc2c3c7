using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Norm;

/// <summary>
/// Batch normalization in training mode over a contiguous [N, C, S] block (S = spatial size), one pass for the
/// statistics and one for the output; the backward is the closed form
/// dx = w·invstd/M · (M·g − Σg − x̂·Σ(g·x̂)), with M = N·S. Channels are independent, so they run in parallel with
/// a fixed per-channel summation order (bit-identical whatever the thread count).
/// </summary>
public static unsafe partial class BatchNormKernel
{
    /// <summary>Computes per-channel mean and 1/√(var + eps) (biased variance) and y = (x − mean)·invstd·w + b.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int c, int s, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length < n * c * s || y.Length < n * c * s || mean.Length < c || invStd.Length < c)
            throw new ArgumentException($"BatchNormKernel.Forward: spans too short for [{n}, {c}, {s}]");
        fixed (T* px = x) fixed (T* py = y) fixed (T* pm = mean) fixed (T* pi = invStd) fixed (T* pw = weight) fixed (T* pb = bias)
        {
            var action = new ForwardAction<T> { X = px, Y = py, Mean = pm, InvStd = pi, W = weight.IsEmpty ? null : pw, B = bias.IsEmpty ? null : pb, N = n, C = c, S = s, Eps = eps };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    /// <summary>
    /// Gradients: dx (required), and Σg (dbias) and Σ(g·x̂) (dweight) per channel. <paramref name="gradOutputImageStride"/>:
    /// the distance between gradOutput's images when they lie apart, each holding its channels packed (a channel slice of
    /// a wider tensor, as a concatenation's backward hands out); 0 when gradOutput is packed like x. gradInput may be
    /// gradOutput itself (packed: each element is read before it is written) but must not overlap it otherwise, nor x.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gradOutput, int n, int c, int s, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> invStd, Span<T> gradInput, Span<T> gradWeight, Span<T> gradBias, int gradOutputImageStride = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gStride = GradientImageStride("Backward", gradOutput.Length, n, c, s, gradOutputImageStride);
        if (x.Length < n * c * s || gradInput.Length < n * c * s || gradWeight.Length < c || gradBias.Length < c)
            throw new ArgumentException($"BatchNormKernel.Backward: spans too short for [{n}, {c}, {s}]");
        fixed (T* px = x) fixed (T* pg = gradOutput) fixed (T* pw = weight) fixed (T* pm = mean) fixed (T* pi = invStd)
        fixed (T* pdx = gradInput) fixed (T* pdw = gradWeight) fixed (T* pdb = gradBias)
        {
            var action = new BackwardAction<T> { X = px, G = pg, GStride = gStride, W = weight.IsEmpty ? null : pw, Mean = pm, InvStd = pi, Dx = pdx, Dw = pdw, Db = pdb, N = n, C = c, S = s };
            ParallelRange.For(c, Math.Max(1, c / 8), action);
        }
    }

    // The gradient's image stride (c·s when packed, imageStride = 0), after checking the span reaches its last image.
    static long GradientImageStride(string kernel, int length, int n, int c, int s, int imageStride)
    {
        long image = (long)c * s, stride = imageStride == 0 ? image : imageStride;
        if (imageStride != 0 && imageStride < image)
            throw new ArgumentException($"BatchNormKernel.{kernel}: gradOutput's image stride {imageStride} is under an image's {image} elements ([{n}, {c}, {s}])");
        if (n > 0 && length < (n - 1) * stride + image)
            throw new ArgumentException($"BatchNormKernel.{kernel}: gradOutput too short for [{n}, {c}, {s}] with image stride {stride}");
        return stride;
    }

    // The per-row loops below dispatch once per call to the widest accelerated width (SimdPath); all keep a fixed lane
    // order, so results are deterministic for a given width.

    // Σ (x − mean)².
    static T SumSquaredDeviation<T>(T* x, int n, T mean) where T : unmanaged, IFloatingPointIeee754<T> => SimdPath.Width switch
    {
        SimdWidth.Vector512 => SumSquaredDeviation<Simd512<T>, T>(x, n, mean),
        SimdWidth.Vector256 => SumSquaredDeviation<Simd256<T>, T>(x, n, mean),
        _ => SumSquaredDeviation<Simd128<T>, T>(x, n, mean),
    };

    static T SumSquaredDeviation<TVec, T>(T* x, int n, T mean) where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        T sum = T.Zero;
        if (TVec.IsSupported && n >= TVec.Count)
        {
            var m = TVec.Create(mean);
            var acc = TVec.Zero;
            for (; k <= n - TVec.Count; k += TVec.Count)
            {
                var d = TVec.Load(x + k) - m;
                acc += d * d;
            }
            sum = TVec.Sum(acc);
        }
        for (; k < n; k++) { T d = x[k] - mean; sum += d * d; }
        return sum;
    }

    // (Σ g, Σ g·(x − mean)) in one pass.
    static (T SumG, T Dot) SumAndCenteredDot<T>(T* g, T* x, int n, T mean) where T : unmanaged, IFloatingPointIeee754<T> => SimdPath.Width switch
    {
        SimdWidth.Vector512 => SumAndCenteredDot<Simd512<T>, T, StoredGradient<T>>(g, x, n, mean, T.Zero, T.Zero, null),
        SimdWidth.Vector256 => SumAndCenteredDot<Simd256<T>, T, StoredGradient<T>>(g, x, n, mean, T.Zero, T.Zero, null),
        _ => SumAndCenteredDot<Simd128<T>, T, StoredGradient<T>>(g, x, n, mean, T.Zero, T.Zero, null),
    };

    /// <summary>
    /// The backward's statistics pass over one row, (Σ g, Σ g·(x − mean)), whatever <typeparamref name="TGradient"/> makes
    /// of g (read as stored, or the SiLU's gradient made from it and written to dz): one accumulator per lane, then the
    /// scalar tail, so the plain and the fused SiLU backward sum in the same order.
    /// </summary>
    static (T SumG, T Dot) SumAndCenteredDot<TVec, T, TGradient>(T* g, T* x, int n, T mean, T scale, T shift, T* dz)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T> where TGradient : IRowGradient<T>
    {
        int k = 0;
        T sumG = T.Zero, dot = T.Zero;
        TVec vs = TVec.Create(scale), vt = TVec.Create(shift);
        if (TVec.IsSupported && n >= TVec.Count)
        {
            var m = TVec.Create(mean);
            TVec accG = TVec.Zero, accDot = TVec.Zero;
            for (; k <= n - TVec.Count; k += TVec.Count)
            {
                var xv = TVec.Load(x + k);
                var gv = TGradient.Load(g, xv, vs, vt, dz, k);
                accG += gv;
                accDot += gv * (xv - m);
            }
            sumG = TVec.Sum(accG);
            dot = TVec.Sum(accDot);
        }
        T* rest = TGradient.Tail(g, x, vs, vt, dz, k, n);
        for (; k < n; k++) { sumG += rest[k]; dot += rest[k] * (x[k] - mean); }
        return (sumG, dot);
    }

    /// <summary>Where <see cref="SumAndCenteredDot{TVec, T, TGradient}"/> gets a row's gradient from.</summary>
    interface IRowGradient<T> where T : unmanaged
    {
        /// <summary>The gradient at [k, k + Count) given the row's x there, bn(x) = x·scale + shift, and where to keep it (dz).</summary>
        static abstract TVec Load<TVec>(T* g, TVec x, TVec scale, TVec shift, T* dz, int k) where TVec : struct, ISimd<TVec, T>;

        /// <summary>The gradient from k to the row's end n, as memory indexed from the row's start.</summary>
        static abstract T* Tail<TVec>(T* g, T* x, TVec scale, TVec shift, T* dz, int k, int n) where TVec : struct, ISimd<TVec, T>;
    }

    /// <summary>The gradient as stored in g.</summary>
    readonly struct StoredGradient<T> : IRowGradient<T> where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Load<TVec>(T* g, TVec x, TVec scale, TVec shift, T* dz, int k) where TVec : struct, ISimd<TVec, T> => TVec.Load(g + k);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T* Tail<TVec>(T* g, T* x, TVec scale, TVec shift, T* dz, int k, int n) where TVec : struct, ISimd<TVec, T> => g;
    }

    // dst = x·scale + shift.
    static void Affine<T>(T* x, T scale, T shift, T* dst, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: Affine<Simd512<T>, T>(x, scale, shift, dst, n); break;
            case SimdWidth.Vector256: Affine<Simd256<T>, T>(x, scale, shift, dst, n); break;
            default: Affine<Simd128<T>, T>(x, scale, shift, dst, n); break;
        }
    }

    static void Affine<TVec, T>(T* x, T scale, T shift, T* dst, int n) where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        if (TVec.IsSupported)
        {
            TVec vs = TVec.Create(scale), vt = TVec.Create(shift);
            for (; k <= n - TVec.Count; k += TVec.Count)
                (TVec.Load(x + k) * vs + vt).Store(dst + k);
        }
        for (; k < n; k++) dst[k] = x[k] * scale + shift;
    }

    // dst = a·g + b·x + c.
    static void AffinePair<T>(T* g, T a, T* x, T b, T c, T* dst, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: AffinePair<Simd512<T>, T>(g, a, x, b, c, dst, n); break;
            case SimdWidth.Vector256: AffinePair<Simd256<T>, T>(g, a, x, b, c, dst, n); break;
            default: AffinePair<Simd128<T>, T>(g, a, x, b, c, dst, n); break;
        }
    }

    static void AffinePair<TVec, T>(T* g, T a, T* x, T b, T c, T* dst, int n) where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        if (TVec.IsSupported)
        {
            TVec va = TVec.Create(a), vb = TVec.Create(b), vc = TVec.Create(c);
            for (; k <= n - TVec.Count; k += TVec.Count)
                (TVec.Load(g + k) * va + (TVec.Load(x + k) * vb + vc)).Store(dst + k);
        }
        for (; k < n; k++) dst[k] = g[k] * a + (x[k] * b + c);
    }

    // bn(x) = x·scale + shift, scale = invstd·w, shift = b − mean·scale: formed only here, so that the SiLU backward
    // recomputes bn(x) with the forward's bits.
    static (T Scale, T Shift) OutputAffine<T>(T mean, T invStd, T* w, T* b, int ch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T scale = invStd * (w == null ? T.One : w[ch]);
        return (scale, (b == null ? T.Zero : b[ch]) - mean * scale);
    }

    // dx = w·invstd·(g − Σg/M − x̂·Σ(g·x̂)/M), x̂ = (x − mean)·invstd, expanded to dx = a·g + (−a·b)·x + a·(b·mean − Σg/M)
    // with a = w·invstd, b = Σ(g·x̂)·invstd/M: two multiply-adds per element (AffinePair).
    static (T A, T XCoefficient, T Constant) InputGradientAffine<T>(T sumG, T sumGx, T mean, T invStd, T* w, int ch, T count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T a = (w == null ? T.One : w[ch]) * invStd;
        T meanG = sumG / count;
        T b = sumGx * invStd * invStd / count;
        return (a, -a * b, a * (b * mean - meanG));
    }

    struct ForwardAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Mean, InvStd, W, B; public int N, C, S; public T Eps;
        // y = silu(bn(x)) instead of bn(x) (see ForwardSilu).
        public bool Silu;
        public readonly void Invoke(int start, int end)
        {
            T count = T.CreateTruncating(N * S);
            for (int ch = start; ch < end; ch++)
            {
                T sum = T.Zero;
                for (int i = 0; i < N; i++) sum += TensorPrimitives.Sum(new ReadOnlySpan<T>(X + ((long)i * C + ch) * S, S));
                T mean = sum / count;
                // second pass over centered values: stable variance
                T sq = T.Zero;
                for (int i = 0; i < N; i++) sq += SumSquaredDeviation(X + ((long)i * C + ch) * S, S, mean);
                T invStd = T.One / T.Sqrt(sq / count + Eps);
                Mean[ch] = mean; InvStd[ch] = invStd;
                var (scale, shift) = OutputAffine(mean, invStd, W, B, ch);
                for (int i = 0; i < N; i++)
                {
                    long at = ((long)i * C + ch) * S;
                    if (Silu) AffineSilu(X + at, scale, shift, Y + at, S);
                    else Affine(X + at, scale, shift, Y + at, S);
                }
            }
        }
    }

    struct BackwardAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, G, W, Mean, InvStd, Dx, Dw, Db; public int N, C, S;
        // G's images lie GStride apart (C·S when packed like X and Dx).
        public long GStride;
        // G is the gradient of silu(bn(x)) (see BackwardSilu): the first pass turns it into the gradient of bn(x), stored
        // in Dx, which the second pass then reads in place of G. B is the BN bias, needed to recompute bn(x).
        public bool Silu; public T* B;
        public readonly void Invoke(int start, int end)
        {
            T count = T.CreateTruncating(N * S);
            for (int ch = start; ch < end; ch++)
            {
                T mean = Mean[ch], invStd = InvStd[ch];
                T sumG = T.Zero, sumGx = T.Zero;
                // bn(x) = x·scale + shift exactly as the forward computed it (same operations, same bits)
                var (scale, shift) = OutputAffine(mean, invStd, W, B, ch);
                for (int i = 0; i < N; i++)
                {
                    long at = ((long)i * C + ch) * S;
                    T* g = G + i * GStride + (long)ch * S;
                    var (rowG, rowGx) = Silu ? SiluGradientSumAndCenteredDot(g, X + at, scale, shift, Dx + at, S, mean) : SumAndCenteredDot(g, X + at, S, mean);
                    sumG += rowG;
                    sumGx += rowGx;
                }
                Db[ch] = sumG;
                Dw[ch] = sumGx * invStd; // Σ g·x̂
                var (a, xCoefficient, constant) = InputGradientAffine(sumG, sumGx, mean, invStd, W, ch, count);
                for (int i = 0; i < N; i++)
                {
                    long at = ((long)i * C + ch) * S;
                    T* g = Silu ? Dx + at : G + i * GStride + (long)ch * S;
                    AffinePair(g, a, X + at, xCoefficient, constant, Dx + at, S);
                }
            }
        }
    }
}
