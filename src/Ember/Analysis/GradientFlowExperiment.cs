using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Analysis;

/// <summary>
/// The notes' (003) vanishing-gradient experiment: a deep MLP of <see cref="Depth"/> linear layers (depth − 1 hidden
/// ones plus the classifier) trained for a few SGD steps on a fixed random batch, with the per-layer gradient norms
/// recorded by a <see cref="GradientMonitor"/>. Comparing <see cref="Architectures"/> shows sigmoid layers starving
/// the input side while ReLU + BatchNorm or residual connections keep every layer's gradient comparable.
/// </summary>
public static class GradientFlowExperiment
{
    /// <summary>Linear layers in the network (hidden + classifier).</summary>
    public const int Depth = 10;
    /// <summary>Hidden width, input size.</summary>
    public const int Width = 32;
    /// <summary>Classes of the random labels.</summary>
    public const int Classes = 10;
    /// <summary>Batch size of the fixed random batch.</summary>
    public const int Batch = 64;
    /// <summary>SGD steps recorded.</summary>
    public const int Steps = 20;

    /// <summary>The hidden-layer variants: "sigmoid", "relu", "relu+bn" and "residual" (x + ReLU(Wx)).</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["sigmoid", "relu", "relu+bn", "residual"];

    /// <summary>Builds the network for one of <see cref="Architectures"/> with PyTorch's default initialization.</summary>
    public static Module Build(string architecture)
    {
        var layers = new Sequential();
        for (int i = 0; i < Depth - 1; i++)
        {
            switch (architecture)
            {
                case "sigmoid": layers.Append(new Linear(Width, Width)); layers.Append(new Sigmoid()); break;
                case "relu": layers.Append(new Linear(Width, Width)); layers.Append(new ReLU()); break;
                case "relu+bn": layers.Append(new Linear(Width, Width)); layers.Append(new BatchNorm1d(Width)); layers.Append(new ReLU()); break;
                case "residual": layers.Append(new ResidualLinear(Width)); break;
                default:
                    throw new ArgumentException($"GradientFlowExperiment: unknown architecture '{architecture}'; valid choices: {string.Join(", ", Architectures)}", nameof(architecture));
            }
        }
        layers.Append(new Linear(Width, Classes));
        return layers;
    }

    /// <summary>
    /// Trains <see cref="Build"/>(<paramref name="architecture"/>) for <see cref="Steps"/> SGD steps (lr 0.1) on a fixed
    /// random batch and returns the gradient report (input-side layer first). Seeded: the same seed gives the same report.
    /// </summary>
    public static GradientReport Run(string architecture, int seed = 0)
    {
        Torch.ManualSeed(seed);
        var model = Build(architecture);
        var g = new Generator(seed + 100);
        var x = Torch.Randn([Batch, Width], generator: g);
        var y = Torch.Randint(0, Classes, [Batch], generator: g);
        var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1 });
        var monitor = new GradientMonitor(model);
        for (int step = 0; step < Steps; step++)
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            monitor.Record();
            optimizer.Step();
        }
        return monitor.Report();
    }

    // x + ReLU(Wx + b): the identity path carries the gradient past every layer.
    sealed class ResidualLinear : Module
    {
        readonly Linear fc;
        public ResidualLinear(int width) => fc = RegisterModule("fc", new Linear(width, width));
        public override Tensor Forward(Tensor x) => x + F.Relu(fc.Call(x));
    }
}
