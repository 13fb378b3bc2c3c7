using System.Runtime.CompilerServices;

namespace Ember.Data;

/// <summary>
/// Collate functions (torch.utils.data.default_collate): turn a list of items into a <see cref="Batch"/>.
/// </summary>
public static class Collate
{
    /// <summary>
    /// Stacks items field by field: a <see cref="Tensor"/> item stacks into one tensor with a new leading batch dim; a
    /// tuple or <c>Tensor[]</c> item gives one stacked tensor per field; integer labels become an int64 tensor [N],
    /// floats a float32 tensor [N] and doubles a float64 tensor [N]. Items whose tensors differ in shape are an error
    /// that names both shapes (pass a custom collate for variable-size items such as boxes).
    /// </summary>
    public static Batch Default<T>(IReadOnlyList<T> items)
    {
        if (items.Count == 0) throw new ArgumentException("default_collate: cannot collate an empty list of items");
        object first = items[0]!;
        switch (first)
        {
            case Tensor:
                return new Batch(StackField(items, static (item, _) => item!, 0, -1));
            case Tensor[] arr:
                return new Batch(Enumerable.Range(0, arr.Length).Select(f => StackField(items, static (item, k) => ((Tensor[])(object)item!)[k], f, arr.Length)).ToArray());
            case ITuple tuple:
                return new Batch(Enumerable.Range(0, tuple.Length).Select(f => StackField(items, static (item, k) => ((ITuple)item!)[k], f, tuple.Length)).ToArray());
            default:
                return new Batch(StackField(items, static (item, _) => item!, 0, -1));
        }
    }

    /// <summary>Stacks field <paramref name="field"/> of every item (fields == −1: the item itself).</summary>
    static Tensor StackField<T>(IReadOnlyList<T> items, Func<T, int, object?> get, int field, int fields)
    {
        int n = items.Count;
        object? first = get(items[0], field);
        string where = fields < 0 ? "" : $" (field {field})";
        switch (first)
        {
            case Tensor t0:
            {
                var tensors = new Tensor[n];
                for (int i = 0; i < n; i++)
                {
                    if (fields >= 0 && ((items[i] is ITuple tp && tp.Length != fields) || (items[i] is Tensor[] ta && ta.Length != fields)))
                        throw new ArgumentException($"default_collate: item 0 has {fields} fields but item {i} has a different number; pass a custom collate to the DataLoader");
                    if (get(items[i], field) is not Tensor ti)
                        throw new ArgumentException($"default_collate: item 0{where} is a Tensor but item {i} is {get(items[i], field)?.GetType().Name ?? "null"}");
                    if (ti.Shape != t0.Shape || ti.DType != t0.DType)
                        throw new ArgumentException(
                            $"default_collate: cannot stack items of different shapes{where}: item 0 has shape {t0.Shape} ({t0.DType.TorchName()}) " +
                            $"but item {i} has shape {ti.Shape} ({ti.DType.TorchName()}); pass a custom collate to the DataLoader " +
                            "(for example one that keeps a list, pads, or concatenates boxes with an image index)");
                    tensors[i] = ti;
                }
                return Stack(tensors);
            }
            case int or long or short or byte or sbyte or ushort or uint:
            {
                var data = new long[n];
                for (int i = 0; i < n; i++) data[i] = Convert.ToInt64(get(items[i], field));
                return DataTensors.Wrap(data, n);
            }
            case float:
            {
                var data = new float[n];
                for (int i = 0; i < n; i++) data[i] = Convert.ToSingle(get(items[i], field));
                return DataTensors.Wrap(data, n);
            }
            case double:
            {
                var data = new double[n];
                for (int i = 0; i < n; i++) data[i] = Convert.ToDouble(get(items[i], field));
                return Torch.FromArray(data, [n]);
            }
            case bool:
            {
                var data = new bool[n];
                for (int i = 0; i < n; i++) data[i] = (bool)get(items[i], field)!;
                return Torch.FromArray(data, [n]);
            }
            default:
                throw new ArgumentException(
                    $"default_collate: items{where} of type {first?.GetType().Name ?? "null"} cannot be collated; it handles tensors, " +
                    "numbers and tuples or arrays of them. Pass a custom collate to the DataLoader");
        }
    }

    /// <summary>
    /// Stacks same-shape tensors along a new leading dim by copying their contiguous data once
    /// (the general <see cref="Torch.Stack"/> goes through views and Cat; this runs per batch).
    /// </summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0) throw new ArgumentException("stack: expects a non-empty list of tensors");
        var t0 = tensors[0];
        int per = t0.NumEl;
        var shape = new int[t0.Rank + 1];
        shape[0] = tensors.Count;
        for (int d = 0; d < t0.Rank; d++) shape[d + 1] = t0.Size(d);
        var result = Torch.Empty(shape, t0.DType);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i].Contiguous();
            if (t.Shape != t0.Shape || t.DType != t0.DType)
                throw new ArgumentException($"stack: expects each tensor to be equal size, but got {t0.Shape} at entry 0 and {t.Shape} at entry {i}");
            switch (t0.DType)
            {
                case DType.Float32: t.Span<float>().CopyTo(result.Span<float>().Slice(i * per, per)); break;
                case DType.Float64: t.Span<double>().CopyTo(result.Span<double>().Slice(i * per, per)); break;
                case DType.Int64: t.Span<long>().CopyTo(result.Span<long>().Slice(i * per, per)); break;
                case DType.Bool: t.Span<bool>().CopyTo(result.Span<bool>().Slice(i * per, per)); break;
                default: throw new NotSupportedException($"stack: dtype {t0.DType} is not supported");
            }
        }
        return result;
    }
}
