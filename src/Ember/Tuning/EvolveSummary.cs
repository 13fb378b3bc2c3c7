namespace Ember.Tuning;

/// <summary>What <see cref="Evolver.Run(int, Func{Dictionary{string, double}, TrialResult}, CancellationToken)"/> did.</summary>
/// <param name="Completed">Trials run (and appended to evolve.csv) by this call.</param>
/// <param name="Cancelled">Whether the token stopped the run early (the rows written so far stay valid for a resume).</param>
/// <param name="Best">The best trial in the whole file so far, or null when there is none.</param>
public sealed record EvolveSummary(int Completed, bool Cancelled, EvolveRecord? Best);
