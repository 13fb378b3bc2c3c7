using System.Numerics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// One GEMM call's operands as raw pointers; valid only while the caller's spans are pinned. With
/// <see cref="TransposedC"/> the driver computes Cᵀ = op(B)ᵀ·op(A)ᵀ: A and B hold the swapped operands and C is
/// written column by column (see <see cref="Swapped"/>). A float32 GEMM's A or B may be stored as float16 or bfloat16
/// (<see cref="ASource"/>, <see cref="BSource"/>): the pointer then addresses 2-byte values, which are widened as they are
/// packed, and such an operand is never read in place. Its C may be stored as a half type too (<see cref="CTarget"/>,
/// <see cref="HalfC"/>, beta 0): each tile is rounded into it as the last k-slice stores it (<see cref="HalfStore"/>).
/// </summary>
internal readonly unsafe struct GemmArgs<T>(
    bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc,
    bool transposedC = false, PanelSource aSource = PanelSource.Float, PanelSource bSource = PanelSource.Float,
    PanelSource cTarget = PanelSource.Float, ushort* halfC = null, T* bias = null)
    where T : unmanaged, INumber<T>
{
    /// <summary>
    /// When set (n values, beta 0, float C, never swapped): C = alpha·op(A)·op(B) + bias[j] on every row, the bias
    /// written into each tile just before its first k-slice adds onto it with beta 1 (torch.addmm's order: the bias is
    /// the starting value), so no pass of its own reads or writes C.
    /// </summary>
    public readonly T* Bias = bias;

    public readonly bool TransposedC = transposedC;
    public readonly PanelSource ASource = aSource, BSource = bSource;

    /// <summary>
    /// The type C is stored as. For a half type the result goes to <see cref="HalfC"/> (leading dim <see cref="Ldc"/>),
    /// and <see cref="C"/> is a float32 buffer of the same layout for the partial sums between k-slices (null where one
    /// slice covers K).
    /// </summary>
    public readonly PanelSource CTarget = cTarget;
    public readonly ushort* HalfC = halfC;

    public readonly bool TransA = transA, TransB = transB;
    public readonly int M = m, N = n, K = k;
    public readonly T Alpha = alpha, Beta = beta;
    public readonly T* A = a, B = b, C = c;
    public readonly nint Lda = lda, Ldb = ldb, Ldc = ldc;

    /// <summary>
    /// The same product as Cᵀ = op(B)ᵀ·op(A)ᵀ: op(B)ᵀ is B read with the opposite transpose flag, likewise A. Used when
    /// n is much narrower than a micro-tile (a classifier head's n = 10), so the narrow side fills the MR rows instead.
    /// </summary>
    public GemmArgs<T> Swapped() =>
        new(!TransB, !TransA, N, M, K, Alpha, B, (int)Ldb, A, (int)Lda, Beta, C, (int)Ldc, !TransposedC, BSource, ASource, CTarget, HalfC);

    /// <summary>These arguments with <paramref name="partials"/> as the float32 C that holds a half C's partial sums.</summary>
    public GemmArgs<T> WithPartials(T* partials) =>
        new(TransA, TransB, M, N, K, Alpha, A, (int)Lda, B, (int)Ldb, Beta, partials, (int)Ldc, TransposedC, ASource, BSource, CTarget, HalfC);
}
