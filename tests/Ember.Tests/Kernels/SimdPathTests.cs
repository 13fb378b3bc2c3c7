using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Operators;

namespace Ember.Tests.Kernels;

public class SimdPathTests
{
    static bool Off(string knob) => Environment.GetEnvironmentVariable(knob) == "0";

    [Fact]
    public void Detected_width_is_the_widest_accelerated_one_and_obeys_the_runtime_knobs()
    {
        var expected = Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256 : SimdWidth.Vector128;
        Assert.Equal(expected, SimdPath.Detected);
        Assert.True(SimdPath.IsAccelerated(SimdPath.Detected));
        // .ci/run reruns the kernel tests with these knobs; if the runtime ignored one (as .NET 10 ignores
        // DOTNET_EnableAVX512F), those runs would test the wide path again and prove nothing.
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        if (Off("DOTNET_EnableAVX512F") || Off("DOTNET_EnableAVX512"))
            Assert.True(SimdPath.Detected != SimdWidth.Vector512,
                "DOTNET_EnableAVX512(F)=0 is set but Vector512 is still accelerated: this runtime reads another knob (.NET 10: DOTNET_EnableAVX512)");
        if (Off("DOTNET_EnableAVX2") || Off("DOTNET_EnableAVX"))
            Assert.True(SimdPath.Detected == SimdWidth.Vector128,
                $"DOTNET_EnableAVX2=0 is set but the detected width is {SimdPath.Detected}");
    }

    [Fact]
    public void On_arm64_the_kernels_take_the_128_bit_NEON_path()
    {
        // tests/Ember.TestRunner/run-arm64.sh runs the kernel tests as ARM64 code under qemu; this says they ran on the
        // path they are there to prove (NEON Vector128 with its zip/uzp Winograd shuffles), not a scalar fallback.
        if (RuntimeInformation.ProcessArchitecture != Architecture.Arm64) return;
        Assert.True(AdvSimd.Arm64.IsSupported, "ARM64 process without AdvSimd.Arm64");
        Assert.True(Vector128.IsHardwareAccelerated, "ARM64 process where Vector128 is not accelerated");
        Assert.Equal(SimdWidth.Vector128, SimdPath.Detected);
        Assert.Equal(GemmIsa.Vector128, GemmDriver.SelectedIsa);
        Assert.True(WinogradLanes128.IsSupported);
    }
}
