namespace Ember.Kernels.Gemm;

/// <summary>
/// The element type a float32 GEMM operand is stored in. Half operands are widened to float32 while they are packed
/// (<see cref="HalfPacking"/>), so the micro-kernels only ever see float32 panels and no float32 copy of the operand exists.
/// </summary>
internal enum PanelSource : byte
{
    /// <summary>float32: packed by copying, or read in place.</summary>
    Float,
    /// <summary>IEEE float16 (<see cref="System.Half"/>).</summary>
    Half,
    /// <summary>bfloat16 (<see cref="Numerics.BFloat16"/>).</summary>
    BFloat16,
}
