namespace Ember;

/// <summary>What torch.linalg.qr returns (its mode argument).</summary>
public enum QrMode
{
    /// <summary>Q [..., m, k] and R [..., k, n], k = min(m, n) (mode='reduced', the default).</summary>
    Reduced,
    /// <summary>Q [..., m, m] and R [..., m, n] (mode='complete'); not differentiable when m &gt; n, as PyTorch.</summary>
    Complete,
    /// <summary>R [..., k, n] only, Q an empty tensor (mode='r'); not differentiable, as PyTorch (use Reduced).</summary>
    R,
}
