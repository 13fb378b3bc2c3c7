namespace Ember.Optim;

/// <summary>Options of <see cref="Lbfgs"/>, with torch.optim.LBFGS's defaults.</summary>
public sealed record LbfgsOptions : OptimizerOptions
{
    /// <summary>Learning rate 1, as PyTorch.</summary>
    public LbfgsOptions() => LearningRate = 1;

    /// <summary>Maximal number of iterations per <see cref="Lbfgs.Step(Func{Tensor})"/> (max_iter, 20).</summary>
    public int MaxIter { get; set; } = 20;

    /// <summary>Maximal number of function evaluations per step (max_eval); null means MaxIter·5/4, as PyTorch.</summary>
    public int? MaxEval { get; set; }

    /// <summary>Stop when the largest gradient element is at most this (tolerance_grad, 1e-7).</summary>
    public double ToleranceGrad { get; set; } = 1e-7;

    /// <summary>Stop when the step or the change of the loss is below this (tolerance_change, 1e-9).</summary>
    public double ToleranceChange { get; set; } = 1e-9;

    /// <summary>Number of curvature pairs kept (history_size, 100).</summary>
    public int HistorySize { get; set; } = 100;

    /// <summary>The line search (line_search_fn; None by default, as PyTorch).</summary>
    public LbfgsLineSearch LineSearch { get; set; }

    internal int EffectiveMaxEval => MaxEval ?? MaxIter * 5 / 4;

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        if (MaxIter < 1) throw new ArgumentException($"{optimizer}: max_iter must be at least 1, got {MaxIter}");
        if (MaxEval is < 1) throw new ArgumentException($"{optimizer}: max_eval must be at least 1, got {MaxEval}");
        if (HistorySize < 1) throw new ArgumentException($"{optimizer}: history_size must be at least 1, got {HistorySize}");
        NonNegative(optimizer, ToleranceGrad, "tolerance_grad");
        NonNegative(optimizer, ToleranceChange, "tolerance_change");
        if (!Enum.IsDefined(LineSearch)) throw new ArgumentException($"{optimizer}: unknown line search {(int)LineSearch} (expected None or StrongWolfe)");
    }

    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("max_iter", MaxIter), ("max_eval", EffectiveMaxEval), ("tolerance_grad", ToleranceGrad),
        ("tolerance_change", ToleranceChange), ("history_size", HistorySize), ("line_search_strong_wolfe", LineSearch == LbfgsLineSearch.StrongWolfe ? 1 : 0)]);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        MaxIter = (int)scalar("max_iter"); MaxEval = (int)scalar("max_eval"); ToleranceGrad = scalar("tolerance_grad");
        ToleranceChange = scalar("tolerance_change"); HistorySize = (int)scalar("history_size");
        LineSearch = scalar("line_search_strong_wolfe") != 0 ? LbfgsLineSearch.StrongWolfe : LbfgsLineSearch.None;
    }
}
