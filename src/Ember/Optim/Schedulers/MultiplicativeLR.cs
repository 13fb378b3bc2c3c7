namespace Ember.Optim.Schedulers;

/// <summary>lr ← lr · λ(epoch) at every step after the first (torch.optim.lr_scheduler.MultiplicativeLR).</summary>
public sealed class MultiplicativeLR : LRScheduler
{
    readonly Func<int, double>[] lambdas;

    /// <summary>The same <paramref name="lrLambda"/> for every group.</summary>
    public MultiplicativeLR(Optimizer optimizer, Func<int, double> lrLambda, int lastEpoch = -1) : this(optimizer, [lrLambda], lastEpoch) { }

    /// <summary>One function per group.</summary>
    public MultiplicativeLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        int n = optimizer.ParamGroups.Count;
        if (lrLambdas.Count != 1 && lrLambdas.Count != n) throw new ArgumentException($"MultiplicativeLR: expected {n} lr_lambdas, but got {lrLambdas.Count}");
        lambdas = lrLambdas.Count == 1 ? Enumerable.Repeat(lrLambdas[0], n).ToArray() : lrLambdas.ToArray();
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => LastEpoch > 0
        ? CurrentLrs().Select((lr, i) => lr * lambdas[i](LastEpoch)).ToArray()
        : CurrentLrs();
}
