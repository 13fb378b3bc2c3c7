namespace Ember.Training;

/// <summary>
/// One call to make a run repeatable (the notes' seed trap): seeds the default generator, from which model
/// initialization and dropout draw. Data loaders and random transforms take their randomness from their own seed
/// (derived per epoch and sample), so evaluating between epochs cannot shift the training stream.
/// </summary>
public static class Reproducibility
{
    /// <summary>Seeds the global generator and returns a generator for a loader or transform that should follow the same seed.</summary>
    public static Generator SeedEverything(long seed)
    {
        Torch.ManualSeed(seed);
        return new Generator(seed);
    }
}
