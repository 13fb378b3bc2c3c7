namespace Ember;

/// <summary>Where a tensor's storage lives (torch.device). Today only the CPU.</summary>
public readonly record struct Device(string Type, int Index = 0)
{
    /// <summary>The CPU device.</summary>
    public static Device Cpu { get; } = new("cpu");

    /// <inheritdoc/>
    public override string ToString() => Type;
}
