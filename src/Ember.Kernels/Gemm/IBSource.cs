namespace Ember.Kernels.Gemm;

/// <summary>
/// Where a tile loop finds step p's NR values of B, as a type, so that each source is its own compiled loop:
/// b + p·bStride (<see cref="StridedB"/>: a packed panel or a row-major B read in place) or b + offsets[p]
/// (<see cref="IndexedB"/>: a row of the im2col matrix inside a padded image, <c>ShiftedGemmConv</c>).
/// </summary>
internal interface IBSource
{
    /// <summary>Whether step p's row is at b + offsets[p] rather than at b + p·bStride.</summary>
    static abstract bool Indexed { get; }
}

/// <summary>Step p's row of B at b + p·bStride.</summary>
internal readonly struct StridedB : IBSource { public static bool Indexed => false; }

/// <summary>Step p's row of B at b + offsets[p].</summary>
internal readonly struct IndexedB : IBSource { public static bool Indexed => true; }
