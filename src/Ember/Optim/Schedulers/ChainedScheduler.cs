namespace Ember.Optim.Schedulers;

/// <summary>Steps several schedulers together each step, so their effects multiply (torch.optim.lr_scheduler.ChainedScheduler).</summary>
public sealed class ChainedScheduler : LRScheduler
{
    /// <summary>Chains <paramref name="schedulers"/>, which must all drive the same optimizer.</summary>
    public ChainedScheduler(IReadOnlyList<LRScheduler> schedulers)
        : base(schedulers.Count > 0 ? schedulers[0].Optimizer : throw new ArgumentException("ChainedScheduler: expects at least one scheduler"), schedulers)
    {
        for (int i = 1; i < schedulers.Count; i++)
            if (!ReferenceEquals(schedulers[i].Optimizer, Optimizer))
                throw new ArgumentException($"ChainedScheduler: expects all schedulers to belong to the same optimizer, but got scheduler {schedulers[i].GetType().Name} at index {i} with a different optimizer");
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => CurrentLrs();

    /// <inheritdoc/>
    public override void Step()
    {
        foreach (var s in Children) s.Step();
        RecordLastLr();
    }
}
