using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Ember.Bench.Peers;

/// <summary>
/// Loads TorchSharp (libtorch, CPU) as the benchmark peer from the patched private copy that
/// bench/setup-torchsharp.sh makes, switches oneDNN on (libtorch's fast path) and sets its thread count.
/// </summary>
/// <remarks>
/// The package's own native files are excluded from the build output (they do not load on Debian 12), so the
/// patched libLibTorchSharp.so is loaded by path first; its rpath ($ORIGIN) pulls libtorch from the same folder,
/// and TorchSharp's later load-by-name calls then resolve to these already-loaded libraries.
/// </remarks>
public static class TorchPeer
{
    /// <summary>The message printed when the set-up script has not been run.</summary>
    public const string NotSetUp = "TorchSharp: not set up (run bench/setup-torchsharp.sh)";

    /// <summary>Why the peer is unavailable, or null once <see cref="TryInitialize"/> succeeded.</summary>
    public static string? Problem { get; private set; } = "TorchSharp: not initialized";

    /// <summary>Whether the peer is loaded and ready.</summary>
    public static bool Available => Problem is null;

    /// <summary>Description of the peer for the report, e.g. "TorchSharp 0.107.0, libtorch 2.10.0, oneDNN on".</summary>
    public static string Description { get; private set; } = "";

    /// <summary>Finds the patched libraries, loads them and configures libtorch; false (with <see cref="Problem"/>) if not set up.</summary>
    public static bool TryInitialize(int threads)
    {
        string? folder = FindNativeFolder();
        if (folder is null) { Problem = NotSetUp; return false; }
        try
        {
            NativeLibrary.Load(Path.Combine(folder, "libLibTorchSharp.so"));
            Configure(threads);
            SetOneDnn(folder, true);
            string versions = File.ReadAllText(Path.Combine(folder, ".done")).Trim();
            string[] v = versions.Split(' ');
            Description = $"TorchSharp {v[0]}, libtorch {(v.Length > 1 ? v[1] : "?")}, oneDNN {(OneDnnEnabled(folder) ? "on" : "OFF")}, {torch.get_num_threads()} threads";
            Problem = null;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException or InvalidOperationException)
        {
            Problem = $"TorchSharp: failed to load from {folder}: {e.GetBaseException().Message}";
            return false;
        }
    }

    // Kept out of TryInitialize so that a missing set-up never reaches TorchSharp's static constructor.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Configure(int threads)
    {
        torch.set_num_threads(threads);
        using var probe = torch.ones(4).sum();
        if (probe.item<float>() != 4f) throw new InvalidOperationException("TorchSharp self-check: ones(4).sum() != 4");
    }

    // at::globalContext().setUserEnabledMkldnn(bool): TorchSharp 0.107 has no binding for torch.backends.mkldnn.enabled.
    static unsafe void SetOneDnn(string folder, bool enabled)
    {
        IntPtr lib = NativeLibrary.Load(Path.Combine(folder, "libtorch_cpu.so"));
        var context = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "_ZN2at13globalContextEv");
        var set = (delegate* unmanaged<IntPtr, byte, void>)NativeLibrary.GetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb");
        set(context(), enabled ? (byte)1 : (byte)0);
    }

    static unsafe bool OneDnnEnabled(string folder)
    {
        IntPtr lib = NativeLibrary.Load(Path.Combine(folder, "libtorch_cpu.so"));
        var context = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "_ZN2at13globalContextEv");
        var get = (delegate* unmanaged<IntPtr, byte>)NativeLibrary.GetExport(lib, "_ZNK2at7Context17userEnabledMkldnnEv");
        return get(context()) != 0;
    }

    // EMBER_TORCHSHARP_NATIVE overrides; otherwise bench/.torchsharp/native above the executable (the repo checkout).
    static string? FindNativeFolder()
    {
        string? overridden = Environment.GetEnvironmentVariable("EMBER_TORCHSHARP_NATIVE");
        if (!string.IsNullOrEmpty(overridden)) return File.Exists(Path.Combine(overridden, ".done")) ? overridden : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", ".torchsharp", "native");
            if (File.Exists(Path.Combine(candidate, ".done"))) return candidate;
        }
        return null;
    }
}
