namespace Ember.Nn.Losses;

/// <summary>
/// Learned homoscedastic-uncertainty weighting (Kendall, Gal and Cipolla, 2018). Each task has a learned
/// sᵢ = log σᵢ² (parameter "log_vars", initialized to 0) and adds 0.5·exp(−sᵢ)·Lᵢ + 0.5·sᵢ for a regression loss
/// (their eq. 7, Lᵢ a squared error) or exp(−sᵢ)·Lᵢ + 0.5·sᵢ for a classification loss (eq. 10, Lᵢ a cross-entropy).
/// For a fixed Lᵢ the term is smallest at sᵢ = log Lᵢ (regression) or log 2Lᵢ (classification), so a noisier task,
/// whose loss cannot fall as far, is given less weight. Put <see cref="LogVars"/> into the optimizer with the model.
/// </summary>
public sealed class UncertaintyLossWeights : MultiTaskLoss
{
    readonly TaskKind[] kinds;

    /// <summary>Creates the weighting for the named tasks and their kinds.</summary>
    public UncertaintyLossWeights(IReadOnlyDictionary<string, TaskKind> tasks) : base(tasks.Keys)
    {
        kinds = [.. Names.Select(n => tasks[n])];
        foreach (var (name, kind) in Names.Zip(kinds))
            if (!Enum.IsDefined(kind)) throw new ArgumentException($"UncertaintyLossWeights: unknown task kind {(int)kind} for '{name}'");
        LogVars = RegisterParameter("log_vars", Torch.Zeros([Names.Count]));
    }

    /// <summary>sᵢ = log σᵢ², one per task in <see cref="MultiTaskLoss.Names"/> order.</summary>
    public Parameter LogVars { get; }

    /// <summary>The kind of each task, in <see cref="MultiTaskLoss.Names"/> order.</summary>
    public IReadOnlyList<TaskKind> Kinds => kinds;

    /// <inheritdoc/>
    protected override (Tensor Term, double Weight) Term(int index, Tensor loss)
    {
        var s = LogVars.Select(0, index);
        var precision = (-s).Exp();
        double scale = kinds[index] == TaskKind.Regression ? 0.5 : 1.0;
        return (precision * loss.Reshape([]) * scale + s * 0.5, scale * precision.Item());
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Join(", ", Names.Zip(kinds, (n, k) => $"{n}={k}"));
}
