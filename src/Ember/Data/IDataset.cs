namespace Ember.Data;

/// <summary>
/// A map-style data set (torch.utils.data.Dataset): a fixed number of items, each reachable by its index.
/// </summary>
/// <remarks>
/// Items that involve randomness (augmentation) take it from the <see cref="Generator"/> handed to
/// <see cref="Get(int, Generator)"/>; the <see cref="DataLoader{T}"/> hands each sample a generator derived from
/// (seed, epoch, position in the epoch), so augmentation is reproducible whatever the number of workers.
/// </remarks>
public interface IDataset<out T>
{
    /// <summary>The number of items (__len__).</summary>
    int Count { get; }

    /// <summary>The item at <paramref name="index"/> (__getitem__), without any randomness of its own.</summary>
    T this[int index] { get; }

    /// <summary>
    /// The item at <paramref name="index"/>, drawing any randomness (random transforms) from <paramref name="generator"/>.
    /// Data sets without randomness need not override it.
    /// </summary>
    T Get(int index, Generator generator) => this[index];
}
