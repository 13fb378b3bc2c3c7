namespace Ember.Tests.Tensors;

/// <summary>
/// Tests that count what the process-wide storage pool does (its buffers, its collection threshold, which adapts to the
/// last collection) or switch it off run in this collection, alone, so other tests' allocations do not change what
/// they observe.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StoragePoolCollection
{
    public const string Name = "Storage pool";
}
