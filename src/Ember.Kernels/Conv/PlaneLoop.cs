using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>The work on one N·C plane of a pooling or resampling kernel; planes are independent, so any partition is deterministic.</summary>
internal interface IPlaneKernel
{
    void Run(int plane);
}

/// <summary>The loop skeleton shared by pooling and resampling: planes in parallel, each plane's work done by a struct kernel the JIT specialises.</summary>
internal static class PlaneLoop
{
    /// <summary>Runs <paramref name="kernel"/> on planes [0, planes); <paramref name="workPerPlane"/> (roughly, element visits) sets the chunk size.</summary>
    public static void For<TKernel>(int planes, long workPerPlane, TKernel kernel) where TKernel : struct, IPlaneKernel
        => ParallelRange.For(planes, (int)Math.Clamp(32768 / Math.Max(1, workPerPlane), 1, int.MaxValue), new Action<TKernel>(kernel));

    /// <summary>Throws when a span is too short; the geometry is only formatted on failure, so checks allocate nothing.</summary>
    internal static void Require<TGeometry>(string kernel, in TGeometry geometry, int actual, int needed, string name) where TGeometry : struct
    {
        if (actual < needed)
            throw new ArgumentException($"{kernel}: {name} has {actual} elements but {needed} are needed for {geometry}", name);
    }

    readonly struct Action<TKernel>(TKernel kernel) : IRangeAction where TKernel : struct, IPlaneKernel
    {
        public void Invoke(int start, int end)
        {
            for (int p = start; p < end; p++) kernel.Run(p);
        }
    }
}
