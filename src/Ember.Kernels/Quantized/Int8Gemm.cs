using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Quantized;

/// <summary>The instruction sequence for the u8×s8 dot products; tests force each one to cover every path on any machine.</summary>
internal enum Int8DotPath
{
    /// <summary>The best the hardware has.</summary>
    Auto,
    /// <summary>Plain C#: ARM and anything without SSSE3.</summary>
    Scalar,
    /// <summary>SSSE3 pmaddubsw + SSE2 pmaddwd on 128-bit vectors.</summary>
    Sse,
    /// <summary>AVX2 vpmaddubsw + vpmaddwd on 256-bit vectors.</summary>
    Avx2,
    /// <summary>AVX-VNNI vpdpbusd: the dot product of 4 byte pairs added to an int32 lane in one instruction.</summary>
    AvxVnni,
}

/// <summary>
/// The int8 GEMM behind dynamically quantized Linear layers (PyTorch's fbgemm <c>quantized::linear_dynamic</c>):
/// y[i, j] = (Σ_k a[i, k]·W[j, k] − z·Σ_k W[j, k]) · (s·s_w[j]) + bias[j], where a is the uint8 activation with scale
/// s and zero point z, W the int8 weights with per-channel scales s_w. The sums are exact int32 arithmetic; only the
/// epilogue rounds, as fbgemm's: the int32 → float conversion, one multiply by the float32 product s·s_w[j], one add.
/// </summary>
/// <remarks>
/// The pmaddubsw paths add two u8×s8 products into an int16 with saturation; with activations ≤ 128 (what a reduced
/// range, 0..127, plus a rounding tie can give) the pair sum lies in [−32768, 32512] and never saturates, so every path
/// gives the same bits. Activations quantized over the full 0..255 range need the VNNI or scalar path.
/// </remarks>
public static unsafe class Int8Gemm
{
    const int TileRows = 4, TileChannels = 16;

    /// <summary>
    /// Computes y [m, W.Rows] from the quantized activation rows <paramref name="a"/> ([m, W.PaddedColumns], the
    /// padding zero). <paramref name="bias"/> may be empty.
    /// </summary>
    public static void MultiplyDequantize(ReadOnlySpan<byte> a, int m, int aZeroPoint, float aScale, Int8PackedWeights w,
        ReadOnlySpan<float> wScales, ReadOnlySpan<float> bias, Span<float> y)
        => MultiplyDequantize(a, m, aZeroPoint, aScale, w, wScales, bias, y, Int8DotPath.Auto);

    internal static void MultiplyDequantize(ReadOnlySpan<byte> a, int m, int aZeroPoint, float aScale, Int8PackedWeights w,
        ReadOnlySpan<float> wScales, ReadOnlySpan<float> bias, Span<float> y, Int8DotPath path)
    {
        int n = w.Rows, kp = w.PaddedColumns;
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "Int8Gemm: row count must be non-negative");
        if (a.Length < (long)m * kp) throw new ArgumentException($"Int8Gemm: activations need {(long)m * kp} bytes ([{m}, {kp}]), got {a.Length}", nameof(a));
        if (wScales.Length != n) throw new ArgumentException($"Int8Gemm: expected {n} weight scales, got {wScales.Length}", nameof(wScales));
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"Int8Gemm: expected {n} bias values or none, got {bias.Length}", nameof(bias));
        if (y.Length < (long)m * n) throw new ArgumentException($"Int8Gemm: output needs {(long)m * n} values ([{m}, {n}]), got {y.Length}", nameof(y));
        if (m == 0 || n == 0) return;
        if (path == Int8DotPath.Auto) path = BestPath;

        // The epilogue's per-channel constants, padded to whole tiles so the vector epilogue reads no bounds.
        int paddedChannels = (n + TileChannels - 1) / TileChannels * TileChannels;
        var constants = ArrayPool<float>.Shared.Rent(2 * paddedChannels);
        var corrections = ArrayPool<int>.Shared.Rent(paddedChannels);
        // Whole row tiles: the last one reads rows past m, so it is copied into zeroed scratch.
        int fullTiles = m / TileRows, tail = m - fullTiles * TileRows;
        var tailRows = tail > 0 ? ArrayPool<byte>.Shared.Rent(TileRows * kp) : null;
        try
        {
            for (int j = 0; j < paddedChannels; j++)
            {
                bool real = j < n;
                constants[j] = real ? aScale * wScales[j] : 0f; // float32 product, as fbgemm's act_times_w_scale
                constants[paddedChannels + j] = real && bias.Length > 0 ? bias[j] : 0f;
                corrections[j] = real ? aZeroPoint * w.RowSums[j] : 0;
            }
            if (tailRows is not null)
            {
                Array.Clear(tailRows, 0, TileRows * kp);
                a.Slice(fullTiles * TileRows * kp, tail * kp).CopyTo(tailRows);
            }
            fixed (byte* pa = a)
            fixed (byte* pt = tailRows)
            fixed (sbyte* pw = w.Data)
            fixed (float* pc = constants)
            fixed (int* pz = corrections)
            fixed (float* py = y)
            {
                var job = new TileJob
                {
                    A = pa, Tail = pt, W = pw, Multipliers = pc, Biases = pc + paddedChannels, Corrections = pz, Y = py,
                    M = m, N = n, Kp = kp, FullRowTiles = fullTiles, ChannelTiles = paddedChannels / TileChannels, Path = path,
                };
                int tiles = (fullTiles + (tail > 0 ? 1 : 0)) * job.ChannelTiles;
                // about 256k multiply-adds per chunk: enough to outweigh a hand-off between threads
                int grain = Math.Max(1, 262144 / (TileRows * TileChannels * Math.Max(kp, 4)));
                ParallelRange.For(tiles, grain, job);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(constants);
            ArrayPool<int>.Shared.Return(corrections);
            if (tailRows is not null) ArrayPool<byte>.Shared.Return(tailRows);
        }
    }

    /// <summary>The path <see cref="Int8DotPath.Auto"/> picks on this machine.</summary>
    internal static Int8DotPath BestPath =>
        AvxVnni.IsSupported ? Int8DotPath.AvxVnni
        : Avx2.IsSupported ? Int8DotPath.Avx2
        : Ssse3.IsSupported ? Int8DotPath.Sse
        : Int8DotPath.Scalar;

    struct TileJob : IRangeAction
    {
        public byte* A, Tail;
        public sbyte* W;
        public float* Multipliers, Biases, Y;
        public int* Corrections;
        public int M, N, Kp, FullRowTiles, ChannelTiles;
        public Int8DotPath Path;

        public readonly void Invoke(int start, int end)
        {
            int* acc = stackalloc int[TileRows * TileChannels];
            for (int t = start; t < end; t++)
            {
                int rowTile = t / ChannelTiles, channelTile = t % ChannelTiles;
                byte* rows = rowTile < FullRowTiles ? A + (long)rowTile * TileRows * Kp : Tail;
                // Two blocks of 8 channels, each Kp/4 groups of 32 bytes.
                sbyte* block = W + (long)channelTile * 2 * Kp * 8;
                switch (Path)
                {
                    case Int8DotPath.AvxVnni: TileVnni(rows, block, Kp, acc); break;
                    case Int8DotPath.Avx2: TileAvx2(rows, block, Kp, acc); break;
                    case Int8DotPath.Sse: TileSse(rows, block, Kp, acc); break;
                    default: TileScalar(rows, block, Kp, acc); break;
                }
                int row0 = rowTile * TileRows, channel0 = channelTile * TileChannels;
                Dequantize(acc, row0, Math.Min(TileRows, M - row0), channel0, Math.Min(TileChannels, N - channel0));
            }
        }

        readonly void Dequantize(int* acc, int row0, int rows, int channel0, int channels)
        {
            for (int r = 0; r < rows; r++)
            {
                float* y = Y + (long)(row0 + r) * N + channel0;
                int* sums = acc + r * TileChannels;
                for (int c = 0; c < channels; c++)
                {
                    int j = channel0 + c;
                    // two roundings, as fbgemm's ReQuantizeForFloat: raw × (s·s_w[j]), then + bias[j]
                    float scaled = (float)(sums[c] - Corrections[j]) * Multipliers[j];
                    y[c] = scaled + Biases[j];
                }
            }
        }
    }

    // Each tile: 4 activation rows × 16 channels (two 8-channel blocks); acc receives [4][16] int32 sums.

    /// <summary>acc + Σ of 4 adjacent u8×s8 products per int32 lane: one instruction set's way to do it.</summary>
    interface IDot256
    {
        static abstract Vector256<int> Add(Vector256<int> acc, Vector256<byte> a, Vector256<sbyte> w);
    }

    readonly struct VnniDot : IDot256
    {
        public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> a, Vector256<sbyte> w) => AvxVnni.MultiplyWideningAndAdd(acc, a, w);
    }

    readonly struct MaddDot : IDot256
    {
        // pmaddubsw (pairs into int16, exact for a ≤ 128) then pmaddwd against ones (pairs of pairs into int32)
        public static Vector256<int> Add(Vector256<int> acc, Vector256<byte> a, Vector256<sbyte> w)
            => Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, w), Vector256.Create((short)1)));
    }

    static void TileVnni(byte* rows, sbyte* block, int kp, int* acc) => Tile256<VnniDot>(rows, block, kp, acc);

    static void TileAvx2(byte* rows, sbyte* block, int kp, int* acc) => Tile256<MaddDot>(rows, block, kp, acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile256<TDot>(byte* rows, sbyte* block, int kp, int* acc) where TDot : struct, IDot256
    {
        Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        sbyte* w0 = block, w1 = block + kp * 8;
        for (int k = 0; k < kp; k += 4)
        {
            var b0 = Avx.LoadVector256(w0 + k * 8);
            var b1 = Avx.LoadVector256(w1 + k * 8);
            var x0 = Vector256.Create(*(int*)(rows + k)).AsByte();
            var x1 = Vector256.Create(*(int*)(rows + kp + k)).AsByte();
            var x2 = Vector256.Create(*(int*)(rows + 2 * kp + k)).AsByte();
            var x3 = Vector256.Create(*(int*)(rows + 3 * kp + k)).AsByte();
            a00 = TDot.Add(a00, x0, b0); a01 = TDot.Add(a01, x0, b1);
            a10 = TDot.Add(a10, x1, b0); a11 = TDot.Add(a11, x1, b1);
            a20 = TDot.Add(a20, x2, b0); a21 = TDot.Add(a21, x2, b1);
            a30 = TDot.Add(a30, x3, b0); a31 = TDot.Add(a31, x3, b1);
        }
        Store8(acc, a00, a01, a10, a11, a20, a21, a30, a31);
    }

    static void Store8(int* acc, Vector256<int> a00, Vector256<int> a01, Vector256<int> a10, Vector256<int> a11,
        Vector256<int> a20, Vector256<int> a21, Vector256<int> a30, Vector256<int> a31)
    {
        a00.Store(acc); a01.Store(acc + 8);
        a10.Store(acc + 16); a11.Store(acc + 24);
        a20.Store(acc + 32); a21.Store(acc + 40);
        a30.Store(acc + 48); a31.Store(acc + 56);
    }

    // 128-bit: each 32-byte group of a block is channels 0-3 (low half) and 4-7 (high half); one row at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TileSse(byte* rows, sbyte* block, int kp, int* acc)
    {
        var ones = Vector128.Create((short)1);
        sbyte* w0 = block, w1 = block + kp * 8;
        for (int r = 0; r < TileRows; r++)
        {
            byte* row = rows + r * kp;
            Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int k = 0; k < kp; k += 4)
            {
                var x = Vector128.Create(*(int*)(row + k)).AsByte();
                s0 = Sse2.Add(s0, Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Sse2.LoadVector128(w0 + k * 8)), ones));
                s1 = Sse2.Add(s1, Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Sse2.LoadVector128(w0 + k * 8 + 16)), ones));
                s2 = Sse2.Add(s2, Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Sse2.LoadVector128(w1 + k * 8)), ones));
                s3 = Sse2.Add(s3, Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(x, Sse2.LoadVector128(w1 + k * 8 + 16)), ones));
            }
            int* o = acc + r * TileChannels;
            s0.Store(o); s1.Store(o + 4); s2.Store(o + 8); s3.Store(o + 12);
        }
    }

    static void TileScalar(byte* rows, sbyte* block, int kp, int* acc)
    {
        for (int r = 0; r < TileRows; r++)
            for (int c = 0; c < TileChannels; c++)
            {
                sbyte* w = block + (c / 8) * kp * 8 + (c % 8) * 4;
                byte* row = rows + r * kp;
                int sum = 0;
                for (int k = 0; k < kp; k += 4)
                    sum += row[k] * w[k * 8] + row[k + 1] * w[k * 8 + 1] + row[k + 2] * w[k * 8 + 2] + row[k + 3] * w[k * 8 + 3];
                acc[r * TileChannels + c] = sum;
            }
    }
}
