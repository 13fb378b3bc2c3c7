using Ember.Nn;
using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>
/// The four adaptive-moment optimizers share one options base (AdaptiveMomentOptions): each still writes its group's
/// hyper-parameters under PyTorch's names in PyTorch's order (torch.optim's param_groups keys, less the implementation
/// switches foreach/capturable/differentiable/fused), and reads every one of them back.
/// </summary>
public class AdaptiveMomentOptionsTests
{
    static Parameter[] Params() => [new Parameter(Torch.FromArray(new float[] { 1, -2, 3 }, [3]))];

    public static TheoryData<string, string[]> KeyOrders => new()
    {
        { "Adam", ["lr", "betas.0", "betas.1", "eps", "weight_decay", "amsgrad", "maximize"] },
        { "AdamW", ["lr", "betas.0", "betas.1", "eps", "weight_decay", "amsgrad", "maximize"] },
        { "Adamax", ["lr", "betas.0", "betas.1", "eps", "weight_decay", "maximize"] },
        { "NAdam", ["lr", "betas.0", "betas.1", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "maximize"] },
    };

    // Every hyper-parameter away from its default, so a key that is not read back shows.
    static Optimizer Make(string name, Parameter[] ps, bool changed) => name switch
    {
        "Adam" => new Adam(ps, changed ? new() { LearningRate = 0.03, Betas = (0.8, 0.99), Eps = 1e-6, WeightDecay = 0.1, Amsgrad = true, Maximize = true } : new()),
        "AdamW" => new AdamW(ps, changed ? new() { LearningRate = 0.03, Betas = (0.8, 0.99), Eps = 1e-6, WeightDecay = 0.2, Amsgrad = true, Maximize = true } : new()),
        "Adamax" => new Adamax(ps, changed ? new() { LearningRate = 0.03, Betas = (0.8, 0.99), Eps = 1e-6, WeightDecay = 0.1, Maximize = true } : new()),
        "NAdam" => new NAdam(ps, changed ? new() { LearningRate = 0.03, Betas = (0.8, 0.99), Eps = 1e-6, WeightDecay = 0.1, MomentumDecay = 0.01, DecoupledWeightDecay = true, Maximize = true } : new()),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory, MemberData(nameof(KeyOrders))]
    public void Group_keys_keep_PyTorchs_names_and_order(string name, string[] keys)
    {
        var dict = Make(name, Params(), changed: true).StateDict();
        var groupKeys = dict.Scalars.Keys.Where(k => k.StartsWith("param_groups.0.", StringComparison.Ordinal))
            .Select(k => k["param_groups.0.".Length..]).ToArray();
        Assert.Equal(keys, groupKeys);
    }

    [Theory, MemberData(nameof(KeyOrders))]
    public void Every_hyper_parameter_is_read_back(string name, string[] keys)
    {
        var ps = Params();
        var saved = Make(name, ps, changed: true).StateDict();
        var fresh = Make(name, ps, changed: false);
        Assert.NotEqual(saved.Scalars["param_groups.0.lr"], fresh.StateDict().Scalars["param_groups.0.lr"]);
        fresh.LoadStateDict(saved);
        var loaded = fresh.StateDict();
        foreach (var key in keys)
            Assert.Equal(saved.Scalars["param_groups.0." + key], loaded.Scalars["param_groups.0." + key]);
    }

    [Theory]
    [InlineData("Adam", 1e-3), InlineData("AdamW", 1e-3), InlineData("Adamax", 2e-3), InlineData("NAdam", 2e-3)]
    public void Defaults_are_PyTorchs(string name, double lr)
    {
        var s = Make(name, Params(), changed: false).StateDict().Scalars;
        Assert.Equal(lr, s["param_groups.0.lr"]);
        Assert.Equal((0.9, 0.999, 1e-8), (s["param_groups.0.betas.0"], s["param_groups.0.betas.1"], s["param_groups.0.eps"]));
        Assert.Equal(name == "AdamW" ? 0.01 : 0, s["param_groups.0.weight_decay"]);
        Assert.Equal(0, s["param_groups.0.maximize"]);
        if (name == "NAdam") Assert.Equal(4e-3, s["param_groups.0.momentum_decay"]);
    }
}
