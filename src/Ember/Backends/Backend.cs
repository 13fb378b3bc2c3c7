namespace Ember.Backends;

/// <summary>Finds the backend that owns a tensor's storage.</summary>
internal static class Backend
{
    public static IBackend Of(Tensor t) => Cpu.CpuBackend.Instance;
    public static IBackend Of(Device device) => device.Type == "cpu" ? Cpu.CpuBackend.Instance
        : throw new NotSupportedException($"device '{device}' is not available; Ember has a CPU backend only");
}
