namespace Ember.Cli.Commands;

/// <summary>
/// How a <see cref="TrainJob"/> ended, for the commands that run many jobs (evolve, ablate): its run folder and the
/// final weights' metrics on the test set (the EMA weights when EMA is on): those of the last epoch when every epoch ran
/// (top-1 and top-5 then equal the last row of metrics.csv), or of the weights reached when a time budget stopped it.
/// </summary>
/// <param name="RunFolder">The runs/…/expN folder the job wrote.</param>
/// <param name="ExitCode">0, or 130 when interrupted (Ctrl-C).</param>
/// <param name="EpochsCompleted">Epochs that ran to the end.</param>
/// <param name="StopReason">Why training stopped early ("time budget reached", "interrupted …", early stopping), or null.</param>
/// <param name="Top1">Top-1 accuracy of the final weights on the test set.</param>
/// <param name="Top5">Top-5 accuracy of the final weights on the test set.</param>
/// <param name="ValLoss">Mean cross-entropy of the final weights on the test set, without label smoothing.</param>
/// <param name="MacroF1">The unweighted mean over classes of the final weights' F1 on the test set.</param>
public sealed record TrainOutcome(string RunFolder, int ExitCode, int EpochsCompleted, string? StopReason, double Top1, double Top5, double ValLoss, double MacroF1);
