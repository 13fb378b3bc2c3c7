namespace Ember.Nn.Losses;

/// <summary>
/// Combines several named scalar losses into the one that is back-propagated (the notes' "weighting several losses"),
/// and keeps what each term contributed so a trainer can log it. Every call must give exactly the configured names.
/// </summary>
public abstract class MultiTaskLoss : Module
{
    readonly Dictionary<string, (double Loss, double Weight, double Term)> lastTerms = [];

    /// <summary>The task names, in the order the weights are kept.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Creates the combination for <paramref name="names"/> (distinct, non-empty).</summary>
    protected MultiTaskLoss(IEnumerable<string> names)
    {
        Names = [.. names];
        if (Names.Count == 0) throw new ArgumentException($"{GetType().Name}: no task names");
        foreach (var name in Names)
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{GetType().Name}: a task name is empty");
        if (Names.Distinct(StringComparer.Ordinal).Count() != Names.Count)
            throw new ArgumentException($"{GetType().Name}: task names repeat ({string.Join(", ", Names)})");
    }

    /// <summary>
    /// The last call's value of each task: its loss, the weight it was given and the term it added to the total
    /// (for a learned weighting, the term includes the regularizer).
    /// </summary>
    public IReadOnlyDictionary<string, (double Loss, double Weight, double Term)> LastTerms => lastTerms;

    /// <summary>The combined loss of the named scalar <paramref name="losses"/>.</summary>
    public Tensor Forward(IReadOnlyDictionary<string, Tensor> losses)
    {
        foreach (var name in Names)
            if (!losses.ContainsKey(name))
                throw new ArgumentException($"{GetType().Name}: missing the loss '{name}' (expected {string.Join(", ", Names)}; got {string.Join(", ", losses.Keys)})");
        if (losses.Count != Names.Count)
            throw new ArgumentException($"{GetType().Name}: unexpected losses {string.Join(", ", losses.Keys.Except(Names))} (expected {string.Join(", ", Names)})");
        Tensor? total = null;
        lastTerms.Clear();
        for (int i = 0; i < Names.Count; i++)
        {
            var loss = losses[Names[i]];
            if (loss.NumEl != 1)
                throw new ArgumentException($"{GetType().Name}: the loss '{Names[i]}' has shape {loss.Shape}, expected a scalar");
            var (term, weight) = Term(i, loss);
            lastTerms[Names[i]] = (loss.Item(), weight, term.Item());
            total = total is null ? term : total + term;
        }
        return total!;
    }

    /// <summary>Task <paramref name="index"/>'s contribution to the total and the weight its loss was given.</summary>
    protected abstract (Tensor Term, double Weight) Term(int index, Tensor loss);
}
