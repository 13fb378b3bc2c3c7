namespace Ember.Tests.Kernels;

/// <summary>
/// The exhaustive inputs of the float16 and bfloat16 ↔ float32 conversion tests: every 16-bit pattern, the float32
/// patterns at the rounding edges of every step of the narrow format, a value at every position of a short span, and
/// every length 0–257 at a few misalignments (so each SIMD width's main loop and the scalar tail are reached).
/// </summary>
internal static class SixteenBitFloatPatterns
{
    /// <summary>All 65536 16-bit patterns, in order, as <typeparamref name="T"/>.</summary>
    public static T[] Every<T>(Func<ushort, T> fromBits)
    {
        var values = new T[65536];
        for (int i = 0; i < values.Length; i++) values[i] = fromBits((ushort)i);
        return values;
    }

    /// <summary>
    /// For every sign, exponent and kept mantissa of a format that drops the low <paramref name="droppedBits"/> of a
    /// float32 (16 for bfloat16; 13 for float16's normal range): the dropped bits at zero, just below, at and just above
    /// the halfway point (ties of both parities, as the kept bit varies), and all ones.
    /// </summary>
    public static List<uint> RoundingEdges(int droppedBits)
    {
        uint half = 1u << (droppedBits - 1), ones = (1u << droppedBits) - 1;
        var bits = new List<uint>((1 << (32 - droppedBits)) * 5);
        for (uint top = 0; top < 1u << (32 - droppedBits); top++)
        {
            uint b = top << droppedBits;
            bits.Add(b);
            bits.Add(b | (half - 1));
            bits.Add(b | half);
            bits.Add(b | (half + 1));
            bits.Add(b | ones);
        }
        return bits;
    }

    /// <summary>The float32 values of <paramref name="bits"/>.</summary>
    public static float[] Floats(List<uint> bits)
    {
        var values = new float[bits.Count];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.UInt32BitsToSingle(bits[i]);
        return values;
    }

    /// <summary>
    /// Calls <paramref name="check"/>(span, at) with <paramref name="floatBits"/> at every position of a 40-element span
    /// of 1.0, so the value meets the 512-, 256- and 128-bit loops and the tail.
    /// </summary>
    public static void AtEveryPosition(uint floatBits, Action<float[], int> check)
    {
        for (int at = 0; at < 40; at++)
        {
            var src = new float[40];
            Array.Fill(src, 1f);
            src[at] = BitConverter.UInt32BitsToSingle(floatBits);
            check(src, at);
        }
    }

    /// <summary>
    /// Calls <paramref name="check"/>(pool, length, offset) for every length 0–257 at offsets 0, 1 and 3 (the source is
    /// pool[offset..offset + length], misaligned in place) into a pool of 600 values drawn (with <paramref name="seed"/>)
    /// from <paramref name="edges"/>.
    /// </summary>
    public static void EveryLengthAndOffset(List<uint> edges, int seed, Action<float[], int, int> check)
    {
        var rng = new Random(seed);
        var pool = new float[600];
        for (int i = 0; i < pool.Length; i++) pool[i] = BitConverter.UInt32BitsToSingle(edges[rng.Next(edges.Count)]);
        for (int length = 0; length <= 257; length++)
            foreach (int offset in new[] { 0, 1, 3 })
                check(pool, length, offset);
    }
}
