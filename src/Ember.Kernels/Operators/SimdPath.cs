using System.Runtime.Intrinsics;

namespace Ember.Kernels.Operators;

/// <summary>
/// The widest hardware-accelerated <see cref="SimdWidth"/>, read once at start-up: a kernel dispatches on
/// <see cref="Width"/> once per call to its <see cref="ISimd{TSelf, T}"/>-generic body, never per element. On a machine
/// without AVX-512 .NET emulates Vector512 in software (several times slower than scalar code), so no kernel may use
/// it there. Vector128 is the floor: .NET accelerates it on every x64 and ARM64 machine.
/// The .NET runtime knobs select the other paths on one machine: <c>DOTNET_EnableAVX512=0</c> gives Vector256
/// (on .NET 10; older runtimes read <c>DOTNET_EnableAVX512F</c>), <c>DOTNET_EnableAVX2=0</c> gives Vector128.
/// </summary>
public static class SimdPath
{
    /// <summary>What the hardware accelerates.</summary>
    public static readonly SimdWidth Detected =
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256 : SimdWidth.Vector128;

    // Tests run every width on one machine (in the kernel-settings collection); null means Detected.
    internal static SimdWidth? Forced;

    /// <summary>The width kernels use now: <see cref="Detected"/> unless a test forced another.</summary>
    public static SimdWidth Width => Forced ?? Detected;

    /// <summary>Whether <paramref name="width"/> runs on hardware instructions here.</summary>
    public static bool IsAccelerated(SimdWidth width) => width switch
    {
        SimdWidth.Vector512 => Vector512.IsHardwareAccelerated,
        SimdWidth.Vector256 => Vector256.IsHardwareAccelerated,
        _ => Vector128.IsHardwareAccelerated,
    };
}
