namespace Ember.Analysis;

/// <summary>The full Hessian at a point and what its spectrum says (see <see cref="Hessian.Analyze"/>).</summary>
/// <param name="GradientNorm">‖∇f‖₂ at the point: the classification describes a critical point only when this is ≈ 0.</param>
/// <param name="Matrix">The Hessian, n×n over the flattened parameters.</param>
/// <param name="Eigenvalues">Ascending.</param>
/// <param name="Eigenvectors">Unit eigenvectors as columns.</param>
/// <param name="Kind">Minimum, maximum, saddle or degenerate from the eigenvalue signs.</param>
/// <param name="ConditionNumber">max|λ| / min|λ|: large values mean gradient descent zig-zags along steep directions and crawls along flat ones (notes 002).</param>
public sealed record HessianAnalysis(double GradientNorm, double[,] Matrix, double[] Eigenvalues, double[,] Eigenvectors, CriticalPointKind Kind, double ConditionNumber);
