using System.Globalization;

namespace Ember.Optim.Schedulers;

/// <summary>
/// Base of the learning-rate schedulers (torch.optim.lr_scheduler.LRScheduler). It talks to the optimizer only through
/// <see cref="IParamGroup"/>: on construction it records each group's <c>initial_lr</c> (first scheduler wins, as
/// PyTorch's <c>setdefault</c>) and performs the initial step, so the groups already hold the epoch-0 rate.
/// Call <see cref="Step"/> after <c>optimizer.Step()</c>, once per epoch or per batch as the schedule intends.
/// </summary>
public abstract class LRScheduler
{
    double[] lastLr;

    /// <summary>Records the base rates. Subclasses set their fields, then call <see cref="InitialStep"/> at the end of their constructor.</summary>
    protected LRScheduler(Optimizer optimizer, int lastEpoch = -1)
    {
        Optimizer = optimizer;
        var groups = optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++)
        {
            if (lastEpoch == -1) groups[i].InitialLearningRate ??= groups[i].LearningRate;
            else if (groups[i].InitialLearningRate == null)
                throw new ArgumentException($"{GetType().Name}: param 'initial_lr' is not specified in param group {i} when resuming an optimizer (lastEpoch = {lastEpoch})");
        }
        BaseLrs = groups.Select(g => g.InitialLearningRate!.Value).ToArray();
        LastEpoch = lastEpoch;
        lastLr = CurrentLrs();
    }

    /// <summary>
    /// For schedulers that drive others (SequentialLR, ChainedScheduler): no base rates, no initial step; the state dict
    /// holds each driven scheduler's under <c>_schedulers.i.</c>, as PyTorch's.
    /// </summary>
    private protected LRScheduler(Optimizer optimizer, IReadOnlyList<LRScheduler> children)
    {
        Optimizer = optimizer;
        BaseLrs = [];
        Children = children.ToArray();
        lastLr = CurrentLrs();
    }

    /// <summary>The schedulers a composite drives (empty for the others).</summary>
    private protected LRScheduler[] Children { get; } = [];

    /// <summary>The scheduled optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The index of the last step taken (PyTorch's <c>last_epoch</c>; 0 after construction).</summary>
    public int LastEpoch { get; protected internal set; }

    /// <summary>The groups' <c>initial_lr</c> values the schedule is computed from.</summary>
    public IReadOnlyList<double> BaseLrs { get; }

    /// <summary>How many times <see cref="Step"/> ran, the initial step included (PyTorch's <c>_step_count</c>).</summary>
    protected int StepCount { get; private set; }

    /// <summary>The learning rates this scheduler set last, one per group (PyTorch's <c>get_last_lr()</c>).</summary>
    public double[] GetLastLr() => (double[])lastLr.Clone();

    /// <summary>Performs PyTorch's <c>_initial_step</c>: step count 0, then one <see cref="Step"/>.</summary>
    protected void InitialStep()
    {
        StepCount = 0;
        Step();
    }

    internal void ReplayInitialStep() => InitialStep();

    /// <summary>Advances the schedule by one and writes the new rates into the groups.</summary>
    public virtual void Step()
    {
        StepCount++;
        LastEpoch++;
        Apply(GetLr());
    }

    /// <summary>Jumps to <paramref name="epoch"/> using the closed form where there is one (PyTorch's deprecated <c>step(epoch)</c>, used by SequentialLR).</summary>
    internal virtual void StepTo(int epoch)
    {
        StepCount++;
        LastEpoch = epoch;
        Apply(ClosedFormLr() ?? GetLr());
    }

    /// <summary>The rates for <see cref="LastEpoch"/>, usually from the groups' current rates (PyTorch's chainable <c>get_lr()</c>).</summary>
    protected abstract double[] GetLr();

    /// <summary>The rates for <see cref="LastEpoch"/> from the base rates alone, or null when the schedule has no closed form.</summary>
    protected virtual double[]? ClosedFormLr() => null;

    /// <summary>The groups' current learning rates.</summary>
    protected double[] CurrentLrs() => Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>Writes <paramref name="values"/> into the groups and remembers them as the last rates.</summary>
    protected void Apply(double[] values)
    {
        var groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++) groups[i].LearningRate = values[i];
        lastLr = CurrentLrs();
    }

    /// <summary>Sets the last rates from the groups (for subclasses that write the groups themselves).</summary>
    protected void RecordLastLr() => lastLr = CurrentLrs();

    /// <summary>The scheduler's counters as plain scalars (functions such as LambdaLR's lambdas are not saved, as in PyTorch).</summary>
    public virtual Dictionary<string, double> StateDict()
    {
        var d = new Dictionary<string, double> { ["last_epoch"] = LastEpoch, ["_step_count"] = StepCount };
        for (int i = 0; i < BaseLrs.Count; i++) d[$"base_lrs.{i}"] = BaseLrs[i];
        for (int i = 0; i < lastLr.Length; i++) d[$"_last_lr.{i}"] = lastLr[i];
        for (int i = 0; i < Children.Length; i++)
            foreach (var (k, v) in Children[i].StateDict()) d[$"_schedulers.{i}.{k}"] = v;
        return d;
    }

    /// <summary>Restores what <see cref="StateDict"/> saved (the optimizer's rates come from the optimizer's own state dict).</summary>
    public virtual void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        LastEpoch = (int)Get(state, "last_epoch");
        StepCount = (int)Get(state, "_step_count");
        var bases = (double[])BaseLrs;
        for (int i = 0; i < bases.Length; i++) bases[i] = Get(state, $"base_lrs.{i}");
        lastLr = Enumerable.Range(0, lastLr.Length).Select(i => Get(state, $"_last_lr.{i}")).ToArray();
        for (int i = 0; i < Children.Length; i++)
        {
            string prefix = $"_schedulers.{i}.";
            Children[i].LoadStateDict(state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
        }
    }

    /// <summary>Reads a key or throws naming the scheduler and the key.</summary>
    protected double Get(IReadOnlyDictionary<string, double> state, string key)
        => state.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{GetType().Name}.LoadStateDict: missing '{key}'");

    /// <summary>One value per group: a single value repeated, or a list whose length must match the groups.</summary>
    internal static double[] PerGroup(Optimizer optimizer, string scheduler, string name, IReadOnlyList<double> values)
    {
        int n = optimizer.ParamGroups.Count;
        if (values.Count == 1) return Enumerable.Repeat(values[0], n).ToArray();
        if (values.Count != n) throw new ArgumentException($"{scheduler}: expected {n} values for {name}, got {values.Count}");
        return values.ToArray();
    }

    internal static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);
}
