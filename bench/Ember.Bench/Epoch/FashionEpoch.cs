namespace Ember.Bench.Epoch;

/// <summary>
/// The Fashion-MNIST epoch both sides run: the 60,000 training images of data/fashion-mnist, batch 128, shuffled each
/// epoch, normalized with the statistics `ember train` uses, no augmentation; the default CNN trained with Adam.
/// </summary>
public static class FashionEpoch
{
    /// <summary>Images per batch.</summary>
    public const int BatchSize = 128;

    /// <summary>Adam's learning rate (its default; betas 0.9/0.999, eps 1e-8, no weight decay).</summary>
    public const double LearningRate = 1e-3;

    /// <summary>Seed of the weights and the shuffling.</summary>
    public const int Seed = 42;

    /// <summary>Fashion-MNIST's training-set mean and standard deviation, as in src/Ember.Cli/Commands/TrainJob.cs.</summary>
    public const double Mean = 0.2860, Std = 0.3530;
}
