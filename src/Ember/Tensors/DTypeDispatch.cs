using Ember.Kernels.Numerics;

namespace Ember;

/// <summary>A piece of code generic over the element type, run by <see cref="DTypeDispatch.Run"/> for a dtype's type.</summary>
internal interface IElementAction
{
    void Invoke<T>() where T : unmanaged;
}

/// <summary>
/// The one switch from a <see cref="DType"/> to its .NET element type: code that works for every dtype (copies, fills,
/// gathers) is written once as an <see cref="IElementAction"/> instead of repeating a switch per call site.
/// </summary>
internal static class DTypeDispatch
{
    public static void Run<TAction>(DType dtype, ref TAction action) where TAction : struct, IElementAction
    {
        switch (dtype)
        {
            case DType.Float32: action.Invoke<float>(); break;
            case DType.Float64: action.Invoke<double>(); break;
            case DType.Int64: action.Invoke<long>(); break;
            case DType.Bool: action.Invoke<bool>(); break;
            case DType.Float16: action.Invoke<Half>(); break;
            case DType.BFloat16: action.Invoke<BFloat16>(); break;
            case DType.Int32: action.Invoke<int>(); break;
            case DType.Int8: action.Invoke<sbyte>(); break;
            case DType.UInt8: action.Invoke<byte>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype");
        }
    }
}
