using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
}
