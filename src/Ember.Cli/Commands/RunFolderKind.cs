namespace Ember.Cli.Commands;

/// <summary>What a path given to a command as a run folder holds, told from its files by <see cref="RunFolderCheck.Identify"/>.</summary>
public enum RunFolderKind
{
    /// <summary>Nothing is there.</summary>
    Missing,
    /// <summary>A file (or device), not a folder.</summary>
    File,
    /// <summary>A folder with nothing in it.</summary>
    Empty,
    /// <summary>A folder no ember command made, or whose args.yaml cannot be read (the command's own reader then says why).</summary>
    Unrecognized,
    /// <summary>An `ember train` run: args.yaml with the train keys, best/ and last/.</summary>
    Classification,
    /// <summary>An `ember detect train` run.</summary>
    Detection,
    /// <summary>An `ember detect pretrain` run (a detector's backbone trained as a classifier).</summary>
    DetectionPretrain,
    /// <summary>An `ember forecast train` run.</summary>
    Forecast,
    /// <summary>An `ember evolve` folder: base.yaml, space.yaml, evolve.csv, trials/.</summary>
    Evolve,
    /// <summary>An `ember ablate` study folder: study.yaml, runs.csv, trials/.</summary>
    Ablation,
    /// <summary>An `ember gradient-flow` run folder (no --resume).</summary>
    GradientFlow,
    /// <summary>An `ember variance-shift` run folder (no --resume).</summary>
    VarianceShift,
    /// <summary>An `ember lora-transfer` run folder (no --resume).</summary>
    LoraTransfer,
    /// <summary>A YOLO-format data set (data.yaml), as `ember detect make-data` writes one.</summary>
    DetectionDataSet,
    /// <summary>A checkpoint folder (checkpoint.json): best/ or last/ inside a run.</summary>
    Checkpoint,
}
