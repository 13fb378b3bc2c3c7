using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Operators;

/// <summary>
/// A vectorized erf evaluated in double precision, for float32 tensors: erf(x) = x·P(x²) for |x| ≤ 1 and
/// 1 − e^(−x²)·R(1/x) for 1 &lt; |x| &lt; 6 (±1 beyond), P and R Chebyshev interpolants (tools/fit/erf_chebyshev.py,
/// relative error below 2e-14), so the float result is the correctly rounded erf in practice — what PyTorch's
/// float kernels aim for too. Branch-free: both pieces are computed and blended per lane.
/// </summary>
public static unsafe class VectorErf
{
    // Chebyshev coefficients of erf(x)/x on t = x² ∈ [0, 1] and of erfc(x)·e^(x²) on u = 1/x ∈ [1/6, 1].
    static readonly double[] Small =
    [
        0.975476939382654, -0.14226120510371357, 0.010035582187599701, -0.000576876469976469, 2.7419931251900415e-05,
        -1.1043175508484993e-06, 3.8488755405019504e-08, -1.1808584665651267e-09, 3.233398733944644e-11,
        -7.98463147451874e-13, 1.8013368574543165e-14, -6.337523098901935e-16,
    ];
    static readonly double[] Large =
    [
        0.27477468589795295, 0.16699329119310402, -0.014778434908201323, 0.0004607660043735337, 0.00017657967835401262,
        -5.02698406424208e-05, 7.427013355629538e-06, -3.5188112197350983e-07, -1.7150112884463847e-07,
        6.70662304672979e-08, -1.4316589422457158e-08, 1.7595568250884497e-09, 7.452134434229564e-11,
        -1.1543783136182106e-10, 3.887346386146875e-11, -8.506389265811659e-12, 1.1356155213723992e-12,
        1.125353668276732e-14,
    ];
    const double LargeLow = 1.0 / 6, LargeScale = 2 / (1 - LargeLow), LargeShift = (1 + LargeLow) / (1 - LargeLow);

    /// <summary>erf of each lane, in double precision (NaN stays NaN, ±∞ gives ±1, −0 gives −0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Erf<TVec>(TVec x) where TVec : struct, ISimd<TVec, double> =>
        Piecewise<TVec, double>(x, Small, Large, LargeScale, LargeShift, 6.0);

    /// <summary>The same function on one double (agrees with every vector width bit for bit).</summary>
    public static double Erf(double x) => Erf(Simd128<double>.Create(x)).ToScalar();

    /// <summary>dst[i] = erf(x[i]) for float32, evaluated in double and rounded once. dst may alias x.</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> dst)
    {
        if (dst.Length < x.Length) throw new ArgumentException($"VectorErf.Erf: {x.Length} inputs for {dst.Length} outputs");
        fixed (float* px = x) fixed (float* pd = dst)
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: ErfWidened<Simd512<double>>(px, pd, x.Length); break;
                case SimdWidth.Vector256: ErfWidened<Simd256<double>>(px, pd, x.Length); break;
                default: ErfWidened<Simd128<double>>(px, pd, x.Length); break;
            }
    }

    // Blocks of floats widened to double on the stack (a plain conversion loop: the JIT vectorizes nothing here, but the
    // erf costs ~40 operations per element, so the conversions are noise).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
    static void ErfWidened<TVec>(float* x, float* dst, int n) where TVec : struct, ISimd<TVec, double>
    {
        const int Block = 64;
        double* buffer = stackalloc double[Block];
        for (int at = 0; at < n; at += Block)
        {
            int m = Math.Min(Block, n - at);
            for (int k = 0; k < m; k++) buffer[k] = x[at + k];
            int i = 0;
            for (; i <= m - TVec.Count; i += TVec.Count) Erf(TVec.Load(buffer + i)).Store(buffer + i);
            if (i < m) Erf(TVec.LoadPartial(buffer + i, m - i)).StorePartial(buffer + i, m - i);
            for (int k = 0; k < m; k++) dst[at + k] = (float)buffer[k];
        }
    }

    /// <summary>
    /// erf of each lane evaluated in single precision (within 1.5e-7 relative; NaN, ±∞ and −0 as <see cref="Erf(double)"/>):
    /// x·P(2x² − 1) for |x| ≤ 1, sign(x)·L((2|x| − 5)/3) for 1 &lt; |x| &lt; 3.92 and ±1 beyond (where erf rounds to ±1 in
    /// float). P interpolates erf(x)/x on x² ∈ [0, 1] and L erf itself on [1, 4] (no exp, no division), both Chebyshev
    /// interpolants converted to monomials (tools/fit/erf_chebyshev.py --float, --float-split): Horner chains of
    /// multiply-adds with constant coefficients (L's split in its even and odd powers), blended per lane. On AVX-512
    /// hardware the Vector512 width takes <see cref="ErfSingleTable"/> instead, on AVX2 + FMA the Vector256 width
    /// <see cref="ErfSingleTable8"/>, and on x64 with AVX the Vector128 width <see cref="ErfSingleTable4"/> (the same
    /// bound, different last bits); the chains remain for Vector128 elsewhere (ARM64, where they run on fused multiply-adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ErfSingle<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
    {
        if (typeof(TVec) == typeof(Simd512<float>) && Avx512F.IsSupported)
        {
            var r = ErfSingleTable(Unsafe.As<TVec, Simd512<float>>(ref x).Value);
            return Unsafe.As<Vector512<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Simd256<float>) && Avx2.IsSupported && Fma.IsSupported)
        {
            var r = ErfSingleTable8(Unsafe.As<TVec, Simd256<float>>(ref x).Value);
            return Unsafe.As<Vector256<float>, TVec>(ref r);
        }
        if (typeof(TVec) == typeof(Simd128<float>) && Avx.IsSupported)
        {
            var r = ErfSingleTable4(Unsafe.As<TVec, Simd128<float>>(ref x).Value);
            return Unsafe.As<Vector128<float>, TVec>(ref r);
        }
        var one = TVec.One;
        var signBit = TVec.Create(-0f);
        var ax = TVec.AndNot(x, signBit);

        var s = TVec.MultiplyAddEstimate(x * x, TVec.Create(2f), TVec.Create(-1f));
        var p = TVec.MultiplyAddEstimate(TVec.Create(1.230605449e-06f), s, TVec.Create(-1.766906826e-05f));
        p = TVec.MultiplyAddEstimate(p, s, TVec.Create(2.175135451e-04f));
        p = TVec.MultiplyAddEstimate(p, s, TVec.Create(-2.285419498e-03f));
        p = TVec.MultiplyAddEstimate(p, s, TVec.Create(1.985249668e-02f));
        p = TVec.MultiplyAddEstimate(p, s, TVec.Create(-1.405360997e-01f));
        p = TVec.MultiplyAddEstimate(p, s, TVec.Create(9.654687643e-01f));
        var small = x * p;

        // Lanes outside (1, 3.92) evaluate L far from its interval (huge or infinite for |x| = ∞); the blends drop them.
        // L(u) = E(u²) + u·O(u²), its even and odd coefficients in two chains of 7 and 6 multiply-adds instead of one of
        // 14: at 128 bits that chain's latency bounded GELU, not the arithmetic (GELU (erf) on 4M floats took 5.2 ms
        // at ~1.3 operations a cycle, session 15). P stays one chain: split, its worst error grows past the bound.
        var u = TVec.MultiplyAddEstimate(ax, TVec.Create(2f / 3), TVec.Create(-5f / 3));
        var u2 = u * u;
        var le = TVec.MultiplyAddEstimate(TVec.Create(2.580060973e-04f), u2, TVec.Create(-2.032798715e-03f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(4.667028785e-03f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(6.637864280e-03f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(-3.186845034e-02f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(-4.365148023e-02f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(-1.225282997e-02f));
        le = TVec.MultiplyAddEstimate(le, u2, TVec.Create(9.995930195e-01f));
        var lo = TVec.MultiplyAddEstimate(TVec.Create(9.497237625e-05f), u2, TVec.Create(1.542911050e-03f));
        lo = TVec.MultiplyAddEstimate(lo, u2, TVec.Create(-1.041184552e-02f));
        lo = TVec.MultiplyAddEstimate(lo, u2, TVec.Create(9.579305537e-03f));
        lo = TVec.MultiplyAddEstimate(lo, u2, TVec.Create(4.638958350e-02f));
        lo = TVec.MultiplyAddEstimate(lo, u2, TVec.Create(2.818740718e-02f));
        lo = TVec.MultiplyAddEstimate(lo, u2, TVec.Create(3.267270280e-03f));
        var l = TVec.MultiplyAddEstimate(lo, u, le);
        var large = TVec.ConditionalSelect(TVec.GreaterThanOrEqual(ax, TVec.Create(3.92f)), one, l) | (x & signBit);

        // NaN is not > 1, so it takes the small piece, which is NaN
        return TVec.ConditionalSelect(TVec.GreaterThan(ax, one), large, small);
    }

    /// <summary>
    /// <see cref="ErfSingle{TVec}(TVec)"/> on AVX-512 (within the same 1.5e-7 relative, the same special values, other
    /// bits than the narrower widths): erf(x) = x·r(|x|) with r(t) = erf(t)/t on 16 intervals of [0, 4) a quarter wide,
    /// a degree-5 polynomial each (tools/fit/erf_chebyshev.py --table), its coefficients picked per lane from six
    /// 16-entry tables with vpermps. One Horner chain of 5 multiply-adds and 6 permutes, against the two chains of 6 and
    /// 14 multiply-adds plus their blends: at 512 bits only two ports take vector arithmetic, and GELU (erf) on 4M floats
    /// was compute-bound at ~22 cycles per register there. The narrower widths keep the two chains (a 16-entry lookup
    /// takes three instructions at 256 bits, and there is no float permute at 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> ErfSingleTable(Vector512<float> x)
    {
        var signBit = Vector512.Create(-0f);
        var ax = Vector512.AndNot(x, signBit);
        // g = 4|x| − ½ = k + d with k the interval (rounded half to even by the 1.5·2²³ add, so d ∈ [−½, ½]); the low
        // bits of the sum's pattern are k, and vpermps reads only the low 4 (lanes from 4 on wrap, replaced below)
        var g = Vector512.FusedMultiplyAdd(ax, Vector512.Create(4f), Vector512.Create(-0.5f));
        var magic = Vector512.Create(12582912f);
        var k = g + magic;
        var d = g - (k - magic);
        var index = k.AsInt32();
        var p = Avx512F.PermuteVar16x32(Vector512.Create(
            -1.901112591e-05f, -4.518445348e-05f, -4.542111856e-05f, -2.497924106e-05f, -6.608211152e-07f, 1.406275351e-05f, 1.653100480e-05f, 1.178057119e-05f,
            5.780765605e-06f, 1.638209255e-06f, -3.004218172e-07f, -8.448654398e-07f, -7.963147937e-07f, -5.987627105e-07f, -4.174405035e-07f, -2.863187092e-07f), index);
        p = Vector512.FusedMultiplyAdd(p, d, Avx512F.PermuteVar16x32(Vector512.Create(
            4.142755060e-04f, 2.449151943e-04f, 7.736831321e-06f, -1.734374237e-04f, -2.356929908e-04f, -1.970271260e-04f, -1.163550041e-04f, -4.402919512e-05f,
            -4.976288892e-07f, 1.709382013e-05f, 1.969261393e-05f, 1.645675184e-05f, 1.223212803e-05f, 8.732427887e-06f, 6.210445463e-06f, 4.470746262e-06f), index));
        p = Vector512.FusedMultiplyAdd(p, d, Avx512F.PermuteVar16x32(Vector512.Create(
            8.652764373e-04f, 2.234159503e-03f, 2.739778021e-03f, 2.368785907e-03f, 1.503600040e-03f, 6.098918966e-04f, -2.147373380e-05f, -3.329968895e-04f,
            -4.104840045e-04f, -3.693486797e-04f, -2.920807165e-04f, -2.187567006e-04f, -1.614814391e-04f, -1.199342078e-04f, -9.039653378e-05f, -6.928523362e-05f), index));
        p = Vector512.FusedMultiplyAdd(p, d, Avx512F.PermuteVar16x32(Vector512.Create(
            -2.285264432e-02f, -1.803095452e-02f, -1.032905374e-02f, -2.483184449e-03f, 3.386988072e-03f, 6.516713183e-03f, 7.317170966e-03f, 6.712587085e-03f,
            5.553968251e-03f, 4.366969690e-03f, 3.372493433e-03f, 2.609606134e-03f, 2.043516841e-03f, 1.624897355e-03f, 1.311916625e-03f, 1.074126572e-03f), index));
        p = Vector512.FusedMultiplyAdd(p, d, Avx512F.PermuteVar16x32(Vector512.Create(
            -2.328873798e-02f, -6.486152112e-02f, -9.347435087e-02f, -1.060973555e-01f, -1.047565490e-01f, -9.440335631e-02f, -8.025337756e-02f, -6.606873870e-02f,
            -5.376452580e-02f, -4.386489466e-02f, -3.616440669e-02f, -3.021906130e-02f, -2.559456602e-02f, -2.194689028e-02f, -1.902481169e-02f, -1.664930023e-02f), index));
        p = Vector512.FusedMultiplyAdd(p, d, Avx512F.PermuteVar16x32(Vector512.Create(
            1.122529626e+00f, 1.077645063e+00f, 9.971854091e-01f, 8.960857987e-01f, 7.896784544e-01f, 6.895782351e-01f, 6.021192074e-01f, 5.290613770e-01f,
            4.693392813e-01f, 4.207229614e-01f, 3.808741570e-01f, 3.478094339e-01f, 3.199968338e-01f, 2.962957621e-01f, 2.758619785e-01f, 2.580645084e-01f), index));
        // x·r keeps the sign and −0, and NaN (NaN ≥ 3.92 is false); from 3.92 on erf rounds to ±1 in float
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(ax, Vector512.Create(3.92f)), Vector512<float>.One | (x & signBit), x * p);
    }

    /// <summary>
    /// <see cref="ErfSingle{TVec}(TVec)"/> on AVX2 + FMA (within 1.2e-7 relative, the same special values, other bits than
    /// the other widths): 8 intervals of [0, 4) half a unit wide, a degree-7 polynomial each (tools/fit/erf_chebyshev.py
    /// --table8), its coefficients picked per lane from eight 8-entry tables with one vpermps each. Interval 0 holds
    /// erf(t)/t, multiplied by |x| (relative accuracy near 0); the others erf itself. 27 instructions a register against
    /// the two chains' 40 (the AVX2 path is throughput-bound: GELU (erf) on 4M floats took 3× the AVX-512 time); the
    /// 16-entry AVX-512 tables would take two permutes and a blend per coefficient here. Measured on Zen 5 with AVX-512
    /// switched off only; a core whose vpermps ymm takes two cycles (older AMD) may find the two chains faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> ErfSingleTable8(Vector256<float> x)
    {
        var signBit = Vector256.Create(-0f);
        var ax = Vector256.AndNot(x, signBit);
        // g = 2|x| − ½ = k + d with k the interval (rounded half to even by the 1.5·2²³ add, so d ∈ [−½, ½]); the low
        // bits of the sum's pattern are k, and vpermps reads only the low 3 (lanes from 4 on wrap, replaced below)
        var g = Vector256.FusedMultiplyAdd(ax, Vector256.Create(2f), Vector256.Create(-0.5f));
        var magic = Vector256.Create(12582912f);
        var k = g + magic;
        var d = g - (k - magic);
        var index = k.AsInt32();
        var p = Avx2.PermuteVar8x32(Vector256.Create(
            6.812109496e-05f, 1.402019261e-04f, 2.915821096e-05f, -4.646134039e-05f, -5.593204151e-06f, 4.976326636e-06f, 1.353119387e-06f, 1.331796966e-07f), index);
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            -2.816099150e-04f, -4.153573536e-04f, 3.218366473e-04f, 1.413999998e-04f, -4.343064575e-05f, -2.606037560e-05f, -4.277468634e-06f, -3.233096777e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            -1.122641726e-03f, -1.663240371e-03f, -1.474535791e-03f, 2.068749745e-04f, 3.331077169e-04f, 8.613015234e-05f, 9.802260138e-06f, 5.731484407e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            5.563859362e-03f, 9.417227469e-03f, -3.832510556e-04f, -3.006595885e-03f, -1.193016069e-03f, -2.036068181e-04f, -1.788559166e-05f, -8.615916158e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            1.309020724e-02f, 3.348569619e-03f, 2.094198018e-02f, 1.126966719e-02f, 2.715566428e-03f, 3.450480290e-04f, 2.447640873e-05f, 9.962492413e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            -8.383776248e-02f, -1.205495372e-01f, -7.391293347e-02f, -2.308905125e-02f, -4.017539322e-03f, -4.030668642e-04f, -2.371733353e-05f, -8.265174074e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            -9.058286250e-02f, 3.214655221e-01f, 1.182605624e-01f, 2.638749778e-02f, 3.571159439e-03f, 2.931386407e-04f, 1.459451141e-05f, 4.407157235e-07f), index));
        p = Vector256.FusedMultiplyAdd(p, d, Avx2.PermuteVar8x32(Vector256.Create(
            1.105305552e+00f, 7.111556530e-01f, 9.229001403e-01f, 9.866716862e-01f, 9.985373020e-01f, 9.998993874e-01f, 9.999957085e-01f, 9.999998808e-01f), index));
        // interval 0 (k + 1.5·2²³ = 1.5·2²³ exactly) scales by |x|; NaN lands elsewhere and its d is NaN, so p is NaN
        var erf = Vector256.ConditionalSelect(Vector256.Equals(k, magic), ax * p, p);
        // from 3.92 on erf rounds to 1 in float; the sign goes back on last (−0 stays −0)
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(ax, Vector256.Create(3.92f)), Vector256<float>.One, erf) | (x & signBit);
    }

    /// <summary>
    /// <see cref="ErfSingle{TVec}(TVec)"/> at 128 bits on x64 with AVX (within 1.35e-7 relative with or without FMA, the
    /// same special values, other bits than the other widths): 4 intervals by the exponent of |x|, [0, ½), [½, 1), [1, 2),
    /// [2, 4), a degree-9 polynomial each in d = |x|·S − B ∈ [−½, ½) (tools/fit/erf_chebyshev.py --table4), its
    /// coefficients picked per lane from 4-entry tables with vpermilps, which reads the low 2 bits of each index: the
    /// exponent of max(|x|, ¼) shifted down is the index as it stands, the tables ordered [2, 4) first. Interval 0 holds
    /// erf(t)/t, multiplied by |x| (relative accuracy near 0); the others erf itself. Coefficients 3–9 go by Estrin's
    /// scheme and the last three by Horner's: this path has no FMA on x64 (a multiply then an add per step), and one
    /// 10-step chain bounded it as the two chains of 7 and 6 did; the low steps stay Horner, as their large terms'
    /// roundings would otherwise add up (all-Estrin: 2.6e-7). ~46 instructions a register against the chains' ~65: GELU
    /// (erf) forward 1.60 → 1.19 ns per float on one thread (L1-resident microbenchmark, Vector128 switches, Zen 5).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> ErfSingleTable4(Vector128<float> x)
    {
        var signBit = Vector128.Create(-0f);
        var ax = Vector128.AndNot(x, signBit);
        // biased exponent of max(|x|, ¼): 125 for [0, ½) ... 128 for [2, 4), so the low 2 bits give the entries 1, 2, 3, 0;
        // MaxNative gives ¼ for NaN, whose d is NaN all the same (the sign bit is clear in ax, so the shift is the exponent)
        var index = Vector128.ShiftRightLogical(Vector128.MaxNative(ax, Vector128.Create(0.25f)).AsInt32(), 23);
        var d = Vector128.MultiplyAddEstimate(ax, Avx.PermuteVar(Vector128.Create(0.5f, 2f, 2f, 1f), index),
            Avx.PermuteVar(Vector128.Create(-1.5f, -0.5f, -1.5f, -1.5f), index));
        var d2 = d * d;
        var c34 = Vector128.MultiplyAddEstimate(Avx.PermuteVar(Vector128.Create(-1.644658856e-02f, 5.564769264e-03f, 9.417938069e-03f, -4.459946975e-02f), index), d,
            Avx.PermuteVar(Vector128.Create(6.320543122e-03f, 1.309022028e-02f, 3.348599188e-03f, 1.387521029e-01f), index));
        var c56 = Vector128.MultiplyAddEstimate(Avx.PermuteVar(Vector128.Create(-5.012480170e-02f, -2.874287893e-04f, -4.199059331e-04f, 1.933355816e-02f), index), d,
            Avx.PermuteVar(Vector128.Create(3.228065372e-02f, -1.122902380e-03f, -1.663831645e-03f, -1.486926060e-02f), index));
        var c78 = Vector128.MultiplyAddEstimate(Avx.PermuteVar(Vector128.Create(-2.199542895e-02f, 1.163465822e-05f, 9.098444025e-06f, -2.402188256e-03f), index), d,
            Avx.PermuteVar(Vector128.Create(5.280981585e-02f, 6.978862075e-05f, 1.439842599e-04f, -4.709593952e-03f), index));
        var c789 = Vector128.MultiplyAddEstimate(Avx.PermuteVar(Vector128.Create(-6.026620045e-03f, -3.334004532e-06f, -7.562361588e-06f, 1.555390889e-03f), index), d2, c78);
        var p = Vector128.MultiplyAddEstimate(c789, d2 * d2, Vector128.MultiplyAddEstimate(c56, d2, c34));
        p = Vector128.MultiplyAddEstimate(p, d, Avx.PermuteVar(Vector128.Create(-1.679357607e-03f, -8.383780718e-02f, -1.205495745e-01f, -1.783954203e-01f), index));
        p = Vector128.MultiplyAddEstimate(p, d, Avx.PermuteVar(Vector128.Create(2.784674580e-04f, -9.058286250e-02f, 3.214655221e-01f, 1.189302877e-01f), index));
        p = Vector128.MultiplyAddEstimate(p, d, Avx.PermuteVar(Vector128.Create(9.999779463e-01f, 1.105305552e+00f, 7.111556530e-01f, 9.661051631e-01f), index));
        var erf = Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(0.5f)), ax * p, p);
        // from 3.92 on erf rounds to 1 in float (lanes from 4 on took a wrapped entry; the select drops them); the sign last
        return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(ax, Vector128.Create(3.92f)), Vector128<float>.One, erf) | (x & signBit);
    }

    /// <summary>
    /// dst[i] = erf(x[i]) evaluated in single precision: about 8 times faster than <see cref="Erf(ReadOnlySpan{float}, Span{float})"/>
    /// and within 1.5e-7 relative, for GELU, whose result rounds 1 + erf anyway. dst may alias x.
    /// </summary>
    public static void ErfSingle(ReadOnlySpan<float> x, Span<float> dst)
    {
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: ErfSingle<Simd512<float>>(x, dst); break;
            case SimdWidth.Vector256: ErfSingle<Simd256<float>>(x, dst); break;
            default: ErfSingle<Simd128<float>>(x, dst); break;
        }
    }

    /// <summary><see cref="ErfSingle(ReadOnlySpan{float}, Span{float})"/> at the width of <typeparamref name="TVec"/>; the tail goes through partial vectors, so every element rounds alike.</summary>
    public static void ErfSingle<TVec>(ReadOnlySpan<float> x, Span<float> dst) where TVec : struct, ISimd<TVec, float>
    {
        if (dst.Length < x.Length) throw new ArgumentException($"VectorErf.ErfSingle: {x.Length} inputs for {dst.Length} outputs");
        fixed (float* px = x) fixed (float* pd = dst)
        {
            int i = ErfSingleBody<TVec>(px, pd, x.Length);
            if (i < x.Length) ErfSingleTail<TVec>(px, pd, i, x.Length);
        }
    }

    // Two independent vectors per step (the polynomial recurrences are latency-bound); the tail in its own method keeps
    // each within the JIT's inlining budget.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
    static int ErfSingleBody<TVec>(float* x, float* dst, int n) where TVec : struct, ISimd<TVec, float>
    {
        int i = 0;
        for (; i <= n - 2 * TVec.Count; i += 2 * TVec.Count)
        {
            TVec a = ErfSingle(TVec.Load(x + i)), b = ErfSingle(TVec.Load(x + i + TVec.Count));
            a.Store(dst + i);
            b.Store(dst + i + TVec.Count);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void ErfSingleTail<TVec>(float* x, float* dst, int i, int n) where TVec : struct, ISimd<TVec, float>
    {
        for (; i < n; i += TVec.Count)
        {
            int m = Math.Min(TVec.Count, n - i);
            ErfSingle(TVec.LoadPartial(x + i, m)).StorePartial(dst + i, m);
        }
    }

    // x·P(x²) for |x| ≤ 1, sign(x)·(1 − e^(−x²)·R(1/x)) up to the saturation point, ±1 beyond; both pieces are computed
    // and blended per lane. NaN stays NaN, ±∞ gives ±1, −0 gives −0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Piecewise<TVec, T>(TVec x, T[] small, T[] large, T largeScale, T largeShift, T saturation)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var signBit = TVec.Create(T.NegativeZero);
        var ax = TVec.AndNot(x, signBit);
        var one = TVec.One;

        var t = x * x;
        var smallPiece = x * Clenshaw(small, t + t - one);

        var u = one / ax;
        var e = typeof(T) == typeof(float) ? ExpSmallSingle<TVec, T>(-t) : TVec.Exp(-t);
        var erfc = e * Clenshaw(large, u * TVec.Create(largeScale) - TVec.Create(largeShift));
        var largePiece = (one - erfc) | (x & signBit);

        var saturated = one | (x & signBit);
        var result = TVec.ConditionalSelect(TVec.GreaterThanOrEqual(ax, TVec.Create(saturation)), saturated, largePiece);
        return TVec.ConditionalSelect(TVec.LessThanOrEqual(ax, one), smallPiece, result);
    }

    // e^x for float lanes: 0 below −87.3 and at −∞, +∞ above 88.7, NaN stays NaN; made for the erf's and softmax's
    // x ≤ 0 (accurate up to 88). x = n·ln 2 + r with |r| ≤ ½ln 2 (Cody–Waite, ln 2 split so n·ln2Hi is exact), e^r by its
    // degree-7 Taylor polynomial (truncation below 1e-8, plus a few float roundings), 2^n built in the exponent bits.
    // Less than half the cost of Vector.Exp(float), which evaluates in double and is not inlined. The polynomial runs on
    // multiply-adds (fused where the CPU has FMA), so every width gives the same bits on one CPU.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec ExpSmallSingle<TVec, T>(TVec x) where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 1.5·2²³ + 127: adding it rounds x·log₂e to an integer n held in the low mantissa bits, biased by 127
        var magic = TVec.Create(T.CreateTruncating(12583039f));
        var k = x * TVec.Create(T.CreateTruncating(1.44269504f)) + magic;
        var n = k - magic;
        var r = x - n * TVec.Create(T.CreateTruncating(0.693359375f)) - n * TVec.Create(T.CreateTruncating(-2.12194440e-4f));
        var p = TVec.Create(T.CreateTruncating(1f / 5040));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(T.CreateTruncating(1f / 720)));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(T.CreateTruncating(1f / 120)));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(T.CreateTruncating(1f / 24)));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(T.CreateTruncating(1f / 6)));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(T.CreateTruncating(0.5f)));
        p = TVec.MultiplyAddEstimate(p, r, TVec.One);
        p = TVec.MultiplyAddEstimate(p, r, TVec.One);
        // the low bits of k are n + 127 (mod 2⁹); shifted into the exponent field they make 2ⁿ (the 1.5·2²³ part shifts out)
        var e = p * TVec.ShiftLeftBits(k, 23);
        e = TVec.ConditionalSelect(TVec.GreaterThan(x, TVec.Create(T.CreateTruncating(88.7f))), TVec.Create(T.PositiveInfinity), e);
        return TVec.ConditionalSelect(TVec.GreaterThan(TVec.Create(T.CreateTruncating(-87.3f)), x), TVec.Zero, e);
    }

    // e^(σx) for float lanes as p·2ⁿ (σ = −1 when negated, else +1), without blends, for x / (1 + e^(−x)) (SiLU, the
    // tanh GELU; the caller forms 1 + p·2ⁿ in one multiply-add): σx is clamped into [−88, 88.5], so 2ⁿ built in the
    // exponent bits is 0 from about −87.68 down (n = −127; e^(σx) is subnormal there) and +∞ from about 88.38 up (n = 128,
    // where e^(σx) would still be finite up to 88.72): the division then gives x and ±0 there. NaN may come out finite
    // (x86 min/max return the constant), so callers carry NaN through another operand. σx = n·ln 2 + r (Cody–Waite on
    // multiply-adds), e^r by a degree-6 minimax polynomial (relative error 2.6e-9 on |r| ≤ ½ln 2, tools/fit/exp_minimax.py;
    // ExpSmallSingle's Taylor terms need degree 7). Negated, the clamp, the reduction (to −r) and the odd coefficients
    // change sign instead of x: no extra instruction. At 256 and 128 bits each of ExpSmallSingle's two blends cost three
    // instructions (a compare and the JIT's and, andnot, or): SiLU forward went from ~13.8 to ~8.5 cycles a register on
    // AVX2, L2-resident, one thread (docs/bench-logs/2026-12-05-session19-s19-silu-ab.txt).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (TVec P, TVec Scale) ExpClampedSingle<TVec>(TVec x, bool negated) where TVec : struct, ISimd<TVec, float>
    {
        float sign = negated ? -1f : 1f;
        var c = TVec.MinNative(TVec.MaxNative(x, TVec.Create(negated ? -88.5f : -88f)), TVec.Create(negated ? 88f : 88.5f));
        // 1.5·2²³ + 127: adding it rounds σc·log₂e to an integer n held in the low mantissa bits, biased by 127
        var magic = TVec.Create(12583039f);
        var k = TVec.MultiplyAddEstimate(c, TVec.Create(sign * 1.44269504f), magic);
        var n = k - magic;
        // σr = c − σn·ln 2
        var r = TVec.MultiplyAddEstimate(n, TVec.Create(sign * -0.693359375f), c);
        r = TVec.MultiplyAddEstimate(n, TVec.Create(sign * 2.12194440e-4f), r);
        var p = TVec.MultiplyAddEstimate(TVec.Create(1.406134527e-3f), r, TVec.Create(sign * 8.379038787e-3f));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(4.166477500e-2f));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(sign * 1.666636508e-1f));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(5.000000435e-1f));
        p = TVec.MultiplyAddEstimate(p, r, TVec.Create(sign * 1.000000050f));
        p = TVec.MultiplyAddEstimate(p, r, TVec.One);
        // the low bits of k are n + 127 ∈ [0, 255]; shifted into the exponent field they make 2ⁿ (0 at n = −127, +∞ at 128)
        return (p, TVec.ShiftLeftBits(k, 23));
    }

    // Σ c_j T_j(s) for s ∈ [−1, 1] (Clenshaw's recurrence). Fused where the CPU has FMA, so the last bit of a result
    // may differ between CPUs with and without FMA, never between widths on one CPU.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Clenshaw<TVec, T>(T[] c, TVec s) where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var twoS = s + s;
        TVec b1 = TVec.Zero, b2 = TVec.Zero;
        for (int j = c.Length - 1; j >= 1; j--)
        {
            // c_j − b2 is ready a step early, so the recurrence's latency is one multiply-add per term, not three operations
            var b0 = TVec.MultiplyAddEstimate(twoS, b1, TVec.Create(c[j]) - b2);
            b2 = b1;
            b1 = b0;
        }
        return TVec.MultiplyAddEstimate(s, b1, TVec.Create(c[0]) - b2);
    }
}
