namespace Ember.Analysis;

/// <summary>Element formats a model may be stored and trained in, for memory estimates.</summary>
public enum StoragePrecision
{
    /// <summary>IEEE single precision, 4 bytes (torch.float32).</summary>
    Float32,
    /// <summary>IEEE half precision, 2 bytes (torch.float16).</summary>
    Float16,
    /// <summary>Brain floating point, 2 bytes (torch.bfloat16).</summary>
    BFloat16,
    /// <summary>IEEE double precision, 8 bytes (torch.float64).</summary>
    Float64,
}
