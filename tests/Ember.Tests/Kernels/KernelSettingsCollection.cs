namespace Ember.Tests.Kernels;

/// <summary>
/// Tests that change process-wide kernel settings (ParallelRange.MaxThreads, the forced GEMM width) run in this
/// collection, one at a time, so they never observe each other's settings.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelSettingsCollection
{
    public const string Name = "Kernel settings";
}
