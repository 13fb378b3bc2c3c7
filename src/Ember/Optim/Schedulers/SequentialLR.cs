namespace Ember.Optim.Schedulers;

/// <summary>
/// Runs schedulers one after another, switching at the milestone steps (torch.optim.lr_scheduler.SequentialLR), e.g.
/// a <see cref="LinearLR"/> warm-up then <see cref="CosineAnnealingLR"/>. At a milestone the next scheduler restarts at
/// its epoch 0 (from its closed form when it has one), as PyTorch's <c>step(0)</c>.
/// </summary>
public sealed class SequentialLR : LRScheduler
{
    readonly int[] milestones;
    double[] last;

    /// <summary><paramref name="schedulers"/> (already constructed on <paramref name="optimizer"/>) and one milestone fewer than schedulers.</summary>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedulers, IReadOnlyList<int> milestones, int lastEpoch = -1)
        : base(optimizer, schedulers)
    {
        if (schedulers.Count < 1) throw new ArgumentException("SequentialLR: expects at least one scheduler");
        for (int i = 0; i < schedulers.Count; i++)
            if (!ReferenceEquals(schedulers[i].Optimizer, optimizer))
                throw new ArgumentException($"SequentialLR: expects all schedulers to belong to the same optimizer, but got scheduler {schedulers[i].GetType().Name} at index {i} with a different optimizer");
        if (milestones.Count != schedulers.Count - 1)
            throw new ArgumentException($"SequentialLR: expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers {schedulers.Count} and the number of milestones to be equal to {milestones.Count}");
        this.milestones = milestones.ToArray();
        LastEpoch = lastEpoch + 1;

        // Reset the rates to their initial values and undo the initial steps the schedulers took when they were built.
        foreach (var g in optimizer.ParamGroups)
            g.LearningRate = g.InitialLearningRate ?? g.LearningRate;
        foreach (var s in Children) s.LastEpoch -= 1;
        Children[0].ReplayInitialStep();
        last = Children[0].GetLastLr();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => last;

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        int idx = milestones.Count(m => m <= LastEpoch);
        var scheduler = Children[idx];
        if (idx > 0 && milestones[idx - 1] == LastEpoch) scheduler.StepTo(0);
        else scheduler.Step();
        last = scheduler.GetLastLr();
        RecordLastLr();
    }
}
