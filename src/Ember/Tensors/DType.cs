namespace Ember;

/// <summary>Element types (torch.dtype). Float32 is the default for floating-point data.</summary>
public enum DType
{
    /// <summary>torch.float32</summary>
    Float32,
    /// <summary>torch.float64</summary>
    Float64,
    /// <summary>torch.int64: indices and labels.</summary>
    Int64,
    /// <summary>torch.bool: masks.</summary>
    Bool,
}
