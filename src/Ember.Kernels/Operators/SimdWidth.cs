namespace Ember.Kernels.Operators;

/// <summary>The register width the elementwise, normalization and optimizer kernels run at.</summary>
public enum SimdWidth
{
    /// <summary>Vector128: SSE on x86, NEON on ARM64.</summary>
    Vector128 = 128,

    /// <summary>Vector256: AVX2 + FMA.</summary>
    Vector256 = 256,

    /// <summary>Vector512: AVX-512.</summary>
    Vector512 = 512,
}
