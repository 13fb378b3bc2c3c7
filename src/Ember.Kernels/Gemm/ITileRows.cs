namespace Ember.Kernels.Gemm;

/// <summary>The rows of a register tile (<see cref="RegisterTile{T, TRows}"/>, <see cref="MicroKernel256{T}"/>) as a type, so that each tile height is its own compiled kernel.</summary>
internal interface ITileRows
{
    /// <summary>4, 6, 8 or 12.</summary>
    static abstract int Value { get; }
}

/// <summary>Four rows: the tail tiles after the 6-row AVX2 kernel (<see cref="MicroKernel256Rows4{T}"/>).</summary>
internal readonly struct Rows4 : ITileRows { public static int Value => 4; }

/// <summary>Six rows: 12 accumulators, for 16-register files (AVX2, SSE, NEON's 32 also fit).</summary>
internal readonly struct Rows6 : ITileRows { public static int Value => 6; }

/// <summary>Eight rows: for products whose row count is a multiple of 8 but not of 12 (32 or 64 output channels).</summary>
internal readonly struct Rows8 : ITileRows { public static int Value => 8; }

/// <summary>Twelve rows: 24 accumulators, for the 32 zmm registers of AVX-512.</summary>
internal readonly struct Rows12 : ITileRows { public static int Value => 12; }
