namespace Ember;

/// <summary>Element types (torch.dtype). Float32 is the default for floating-point data. New members go last so the existing numbers stay.</summary>
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
    /// <summary>torch.float16 (System.Half): IEEE half precision; computed in float32 and rounded back.</summary>
    Float16,
    /// <summary>torch.bfloat16 (<see cref="Ember.Kernels.Numerics.BFloat16"/>): float32's range with 8 bits of precision.</summary>
    BFloat16,
    /// <summary>torch.int32.</summary>
    Int32,
    /// <summary>torch.int8 (sbyte).</summary>
    Int8,
    /// <summary>torch.uint8 (byte): images and quantized data.</summary>
    UInt8,
}
