namespace Ember;

/// <summary>The named matrix norms of torch.linalg.matrix_norm / torch.linalg.norm (ord='fro' and ord='nuc').</summary>
public enum MatrixNormOrd
{
    /// <summary>Frobenius: √(Σ a_ij²) (ord='fro', the default).</summary>
    Fro,
    /// <summary>Nuclear: the sum of the singular values (ord='nuc').</summary>
    Nuc,
}
