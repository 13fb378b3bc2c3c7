namespace Ember.Tuning;

/// <summary>
/// One panel of evolve.png (YOLOv5's <c>plot_evolve</c>): every trial's value of one hyper-parameter against its
/// fitness, with the best trial's value marked.
/// </summary>
/// <param name="Name">The hyper-parameter.</param>
/// <param name="Values">Its value in each trial (x axis), in generation order.</param>
/// <param name="Fitness">Each trial's fitness (y axis).</param>
/// <param name="BestValue">Its value in the best trial.</param>
/// <param name="BestFitness">The best fitness.</param>
public sealed record EvolvePlotSeries(string Name, double[] Values, double[] Fitness, double BestValue, double BestFitness);
