namespace Ember.Cli.Commands;

/// <summary>What `ember evolve` was asked to do (its options, before the files they name are read).</summary>
public sealed record EvolveRequest
{
    /// <summary>Base train config file (--config); null: the train defaults.</summary>
    public string? ConfigFile { get; init; }
    /// <summary>Search space file (--space); null: <see cref="Configuration.SearchSpaceFile.Default"/>.</summary>
    public string? SpaceFile { get; init; }
    /// <summary>Trials in evolve.csv when done (--generations), counting any rows a resumed file already has; null on
    /// --resume: the run's own target.</summary>
    public int? Generations { get; init; }
    /// <summary>Epochs per trial (--epochs); null: the base config's.</summary>
    public int? Epochs { get; init; }
    /// <summary>Per-trial time budget in seconds (--time-budget); null: none.</summary>
    public double? TimeBudget { get; init; }
    /// <summary>An evolve folder to continue (--resume).</summary>
    public string? Resume { get; init; }
    /// <summary>Seed of the evolution's draws (--seed); the trials train with the base config's seed.</summary>
    public long? Seed { get; init; }
    /// <summary>Fitness as "top1:1.0,val_loss:-0.1" (--fitness); null: top1.</summary>
    public string? Fitness { get; init; }
    /// <summary>single or weighted (--parent).</summary>
    public string? Parent { get; init; }
    /// <summary>Folder under which runs/evolve/expN are created (--project).</summary>
    public string Project { get; init; } = "runs/evolve";
}
