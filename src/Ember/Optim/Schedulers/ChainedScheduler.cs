namespace Ember.Optim.Schedulers;

/// <summary>Steps several schedulers together each step, so their effects multiply (torch.optim.lr_scheduler.ChainedScheduler).</summary>
public sealed class ChainedScheduler : LRScheduler
{
    readonly LRScheduler[] schedulers;

    /// <summary>Chains <paramref name="schedulers"/>, which must all drive the same optimizer.</summary>
    public ChainedScheduler(IReadOnlyList<LRScheduler> schedulers)
        : base(schedulers.Count > 0 ? schedulers[0].Optimizer : throw new ArgumentException("ChainedScheduler: expects at least one scheduler"), composite: true)
    {
        for (int i = 1; i < schedulers.Count; i++)
            if (!ReferenceEquals(schedulers[i].Optimizer, Optimizer))
                throw new ArgumentException($"ChainedScheduler: expects all schedulers to belong to the same optimizer, but got scheduler {schedulers[i].GetType().Name} at index {i} with a different optimizer");
        this.schedulers = schedulers.ToArray();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => CurrentLrs();

    /// <inheritdoc/>
    public override void Step()
    {
        foreach (var s in schedulers) s.Step();
        RecordLastLr();
    }

    /// <inheritdoc/>
    public override Dictionary<string, double> StateDict()
    {
        var d = base.StateDict();
        for (int i = 0; i < schedulers.Length; i++)
            foreach (var (k, v) in schedulers[i].StateDict()) d[$"_schedulers.{i}.{k}"] = v;
        return d;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        base.LoadStateDict(state);
        for (int i = 0; i < schedulers.Length; i++)
        {
            string prefix = $"_schedulers.{i}.";
            schedulers[i].LoadStateDict(state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
        }
    }
}
