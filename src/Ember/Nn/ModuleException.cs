namespace Ember.Nn;

/// <summary>
/// A bad input met inside a module, reported with the module's path in the model and its type:
/// "features.3 (Conv2d): conv2d: expected input with 64 channels, got 32 (input shape [8, 32, 27, 27], …)".
/// The inner exception is the op's own: an <see cref="ArgumentException"/> for a wrong shape or value, a
/// <see cref="NotSupportedException"/> for a dtype the op does not implement ("1.0 (Dropout): dropout: not implemented for torch.bool").
/// </summary>
public sealed class ModuleException : ArgumentException
{
    internal ModuleException(string? name, string moduleType, Exception inner)
        : this(name is null ? [] : [name], moduleType, inner.Message, inner) { }

    ModuleException(IReadOnlyList<string> path, string moduleType, string detail, Exception inner)
        : base($"{(path.Count == 0 ? moduleType : $"{string.Join(".", path)} ({moduleType})")}: {detail}", inner)
    {
        Path = path;
        ModuleType = moduleType;
        Detail = detail;
    }

    /// <summary>Names from the outermost named module down to the failing one.</summary>
    public IReadOnlyList<string> Path { get; }
    /// <summary>Type name of the failing module.</summary>
    public string ModuleType { get; }
    /// <summary>The op's own message.</summary>
    public string Detail { get; }

    /// <summary>Prefixes the parent's name as the error passes up through it.</summary>
    internal ModuleException Within(string? parentName)
        => parentName is null ? this : new ModuleException([parentName, .. Path], ModuleType, Detail, InnerException!);
}
