namespace Ember.Optim.Schedulers;

/// <summary>lr = initial_lr · λ(epoch), one λ per group or one for all (torch.optim.lr_scheduler.LambdaLR).</summary>
public sealed class LambdaLR : LRScheduler
{
    readonly Func<int, double>[] lambdas;

    /// <summary>The same <paramref name="lrLambda"/> for every group.</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda, int lastEpoch = -1) : this(optimizer, [lrLambda], lastEpoch) { }

    /// <summary>One function per group.</summary>
    public LambdaLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lrLambdas, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        int n = optimizer.ParamGroups.Count;
        if (lrLambdas.Count != 1 && lrLambdas.Count != n) throw new ArgumentException($"LambdaLR: expected {n} lr_lambdas, but got {lrLambdas.Count}");
        lambdas = lrLambdas.Count == 1 ? Enumerable.Repeat(lrLambdas[0], n).ToArray() : lrLambdas.ToArray();
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => BaseLrs.Select((b, i) => b * lambdas[i](LastEpoch)).ToArray();
}
