using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Gemm;

/// <summary>
/// What the core's vector units do with 512-bit instructions, for the few rules that were measured on one kind of core:
/// AMD's Zen 4 (family 19h with AVX-512) runs each 512-bit FMA as two 256-bit halves, so 256-bit tiles reach the same
/// FMA peak there, while Intel's AVX-512 cores and Zen 5 servers do twice the work per 512-bit instruction.
/// </summary>
internal static class VectorUnits
{
    /// <summary>True on a Zen 4 class core (read from CPUID once); settable so tests reach the rules on any AVX-512 machine.</summary>
    internal static bool SplitsVector512 = IsZen4Class();

    static bool IsZen4Class()
    {
        if (!X86Base.IsSupported || !Avx512F.IsSupported) return false;
        var (_, vendor0, vendor2, vendor1) = X86Base.CpuId(0, 0);
        bool amd = vendor0 == 0x68747541 && vendor1 == 0x69746E65 && vendor2 == 0x444D4163; // "Auth" "enti" "cAMD"
        if (!amd) return false;
        int signature = X86Base.CpuId(1, 0).Eax;
        int family = (signature >> 8) & 0xF;
        if (family == 0xF) family += (signature >> 20) & 0xFF;
        return family == 0x19;
    }
}
