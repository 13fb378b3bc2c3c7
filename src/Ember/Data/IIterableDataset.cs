namespace Ember.Data;

/// <summary>
/// An iterable-style data set (torch.utils.data.IterableDataset): a stream of items with no random access, such as
/// lines read from a large file. The loader batches items in the order the stream yields them.
/// </summary>
public interface IIterableDataset<out T>
{
    /// <summary>
    /// One pass over the stream. Any randomness (shuffling a buffer, augmentation) comes from <paramref name="generator"/>,
    /// which the loader derives from (seed, epoch), so that each epoch is reproducible.
    /// </summary>
    IEnumerable<T> Iterate(Generator generator);
}
