using System.Collections;

namespace Ember.Data;

/// <summary>
/// A collated batch: one tensor per field of the items (for (image, label) items: images [N, C, H, W] and labels [N]).
/// Deconstructs, so <c>foreach (var (x, y) in loader)</c> works.
/// </summary>
public sealed class Batch : IReadOnlyList<Tensor>
{
    readonly Tensor[] fields;

    /// <summary>A batch over the given field tensors.</summary>
    public Batch(params Tensor[] fields) => this.fields = fields;

    /// <summary>The field tensors in item order.</summary>
    public IReadOnlyList<Tensor> Fields => fields;

    /// <summary>The number of fields.</summary>
    public int Count => fields.Length;

    /// <summary>The batch size: the leading dim of the first field.</summary>
    public int Size => fields.Length == 0 || fields[0].Rank == 0 ? 0 : fields[0].Size(0);

    /// <summary>Field <paramref name="index"/>.</summary>
    public Tensor this[int index] => fields[index];

    /// <summary>(inputs, targets).</summary>
    public void Deconstruct(out Tensor first, out Tensor second)
    {
        Expect(2);
        (first, second) = (fields[0], fields[1]);
    }

    /// <summary>Three fields.</summary>
    public void Deconstruct(out Tensor first, out Tensor second, out Tensor third)
    {
        Expect(3);
        (first, second, third) = (fields[0], fields[1], fields[2]);
    }

    void Expect(int n)
    {
        if (fields.Length != n)
            throw new InvalidOperationException($"Batch: cannot deconstruct a batch of {fields.Length} fields into {n} variables");
    }

    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)fields).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The field shapes, e.g. "Batch([128, 1, 28, 28], [128])".</summary>
    public override string ToString() => $"Batch({string.Join(", ", fields.Select(f => f.Shape.ToString()))})";
}
