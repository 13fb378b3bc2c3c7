namespace Ember.Tuning;

/// <summary>One row of evolve.csv: a trial's generation, fitness, metrics and hyper-parameters.</summary>
/// <param name="Generation">0 for the initial hyper-parameters, then 1, 2, … (one trial per generation, as in YOLOv5).</param>
/// <param name="Fitness">The fitness of <paramref name="Metrics"/> under the evolver's <see cref="Tuning.Fitness"/>.</param>
/// <param name="Metrics">The metrics the trial reported.</param>
/// <param name="Values">The evolved hyper-parameters the trial ran with.</param>
public sealed record EvolveRecord(int Generation, double Fitness, IReadOnlyDictionary<string, double> Metrics, IReadOnlyDictionary<string, double> Values);
