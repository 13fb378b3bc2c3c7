namespace Ember.Analysis;

/// <summary>
/// One arm of <see cref="LoraTransferExperiment"/>: its trainable and total parameters, the accuracy on the new task
/// (NaN for the pretrained model) and on the old one after adaptation, the merged LoRA model's accuracy on the new task
/// (NaN for the other arms), and the training seconds.
/// </summary>
public sealed record LoraTransferRow(string Method, long Seed, long TrainableParameters, long TotalParameters, double NewTaskTop1, double OldTaskTop1,
    double MergedNewTaskTop1, double Seconds);
