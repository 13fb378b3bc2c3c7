namespace Ember.Kernels.Gemm;

/// <summary>The SIMD width of the GEMM micro-kernel; tests force each one to cover the fallbacks on any machine.</summary>
internal enum GemmIsa
{
    /// <summary>The widest width the hardware accelerates.</summary>
    Auto,

    /// <summary>Vector128 (SSE/NEON, or software on other hardware).</summary>
    Vector128,

    /// <summary>Vector256 (AVX2 + FMA).</summary>
    Vector256,

    /// <summary>Vector512 (AVX-512F).</summary>
    Vector512,
}
