using Ember.Nn;
using Ember.Optim;

namespace Ember.Detection.Optim;

/// <summary>
/// YOLOv5's three optimizer parameter groups (train.py, v6.0 order): 0 the normalization layers' weights (no weight
/// decay), 1 every other weight (with weight decay), 2 the biases (no weight decay; the group <see cref="YoloWarmup"/>
/// starts at warmup_bias_lr). A normalization layer is one whose type name contains "Norm", YOLOv5's own rule.
/// </summary>
public sealed record YoloParameterGroups(IReadOnlyList<Tensor> NormWeights, IReadOnlyList<Tensor> Weights, IReadOnlyList<Tensor> Biases)
{
    /// <summary>The index of the bias group in the optimizers built here.</summary>
    public const int BiasGroup = 2;

    /// <summary>Splits <paramref name="model"/>'s trainable parameters into the three groups (each parameter once).</summary>
    public static YoloParameterGroups Of(Module model)
    {
        List<Tensor> norm = [], weights = [], biases = [];
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var module in model.Modules())
        {
            bool isNorm = module.GetType().Name.Contains("Norm", StringComparison.Ordinal);
            foreach (var (name, p) in module.NamedParameters(recurse: false))
            {
                if (!p.RequiresGrad || !seen.Add(p)) continue;
                if (name == "bias") biases.Add(p);
                else if (isNorm && name == "weight") norm.Add(p);
                else weights.Add(p);
            }
        }
        return new YoloParameterGroups(norm, weights, biases);
    }

    /// <summary>SGD with Nesterov momentum (when momentum &gt; 0) and weight decay on group 1 only, as train.py builds it.</summary>
    public Sgd Sgd(double lr, double momentum, double weightDecay) => new(
        [new ParamGroup<SgdOptions>(NormWeights), new ParamGroup<SgdOptions>(Weights, o => o with { WeightDecay = weightDecay }), new ParamGroup<SgdOptions>(Biases)],
        new SgdOptions { LearningRate = lr, Momentum = momentum, Nesterov = momentum > 0 });

    /// <summary>Adam (PyTorch's betas) with L2 weight decay on group 1 only.</summary>
    public Adam Adam(double lr, double weightDecay) => new(
        [new ParamGroup<AdamOptions>(NormWeights), new ParamGroup<AdamOptions>(Weights, o => o with { WeightDecay = weightDecay }), new ParamGroup<AdamOptions>(Biases)],
        new AdamOptions { LearningRate = lr });

    /// <summary>AdamW with decoupled weight decay on group 1 only.</summary>
    public AdamW AdamW(double lr, double weightDecay) => new(
        [new ParamGroup<AdamWOptions>(NormWeights), new ParamGroup<AdamWOptions>(Weights, o => o with { WeightDecay = weightDecay }), new ParamGroup<AdamWOptions>(Biases)],
        new AdamWOptions { LearningRate = lr, WeightDecay = 0 });
}
