using Ember.Nn;
using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>Invalid hyper-parameters and parameter lists raise PyTorch's errors, prefixed with the optimizer's name.</summary>
public class OptimizerValidationTests
{
    static Parameter[] Ps() => [new Parameter(Torch.Ones(2)), new Parameter(Torch.Ones(3))];

    static void Throws(Action make, params string[] parts)
    {
        var ex = Assert.Throws<ArgumentException>(make);
        foreach (var part in parts) Assert.Contains(part, ex.Message);
    }

    [Fact]
    public void NegativeLearningRate()
    {
        Throws(() => new Sgd(Ps(), new() { LearningRate = -0.1 }), "SGD", "Invalid learning rate: -0.1");
        Throws(() => new Adam(Ps(), new() { LearningRate = -0.1 }), "Adam", "Invalid learning rate: -0.1");
        Throws(() => new AdamW(Ps(), new() { LearningRate = -1 }), "AdamW", "Invalid learning rate: -1");
        Throws(() => new Adagrad(Ps(), new() { LearningRate = -0.1 }), "Adagrad", "Invalid learning rate");
        Throws(() => new RmsProp(Ps(), new() { LearningRate = -0.1 }), "RMSprop", "Invalid learning rate");
        Throws(() => new NAdam(Ps(), new() { LearningRate = -0.1 }), "NAdam", "Invalid learning rate");
        Throws(() => new Adamax(Ps(), new() { LearningRate = -0.1 }), "Adamax", "Invalid learning rate");
    }

    [Fact]
    public void NegativeEpsMomentumAndWeightDecay()
    {
        Throws(() => new Adam(Ps(), new() { Eps = -1e-8 }), "Adam", "Invalid epsilon value: -1E-08");
        Throws(() => new Sgd(Ps(), new() { Momentum = -0.5 }), "SGD", "Invalid momentum value: -0.5");
        Throws(() => new RmsProp(Ps(), new() { Momentum = -0.5 }), "RMSprop", "Invalid momentum value: -0.5");
        Throws(() => new Sgd(Ps(), new() { WeightDecay = -0.01 }), "SGD", "Invalid weight_decay value: -0.01");
        Throws(() => new AdamW(Ps(), new() { WeightDecay = -0.01 }), "AdamW", "Invalid weight_decay value: -0.01");
        Throws(() => new Adagrad(Ps(), new() { LrDecay = -1 }), "Adagrad", "Invalid lr_decay value: -1");
        Throws(() => new Adagrad(Ps(), new() { InitialAccumulatorValue = -1 }), "Adagrad", "initial_accumulator_value");
        Throws(() => new RmsProp(Ps(), new() { Alpha = -0.9 }), "RMSprop", "Invalid alpha value: -0.9");
        Throws(() => new NAdam(Ps(), new() { MomentumDecay = -1 }), "NAdam", "Invalid momentum_decay value: -1");
    }

    [Theory]
    [InlineData(1.0, 0.999, "beta1", "1")]
    [InlineData(-0.1, 0.999, "beta1", "-0.1")]
    [InlineData(0.9, 1.0, "beta2", "1")]
    [InlineData(0.9, -0.5, "beta2", "-0.5")]
    public void BetasOutsideZeroOne(double b1, double b2, string which, string value)
    {
        Throws(() => new Adam(Ps(), new() { Betas = (b1, b2) }), "Adam", which, value);
        Throws(() => new AdamW(Ps(), new() { Betas = (b1, b2) }), "AdamW", which);
        Throws(() => new NAdam(Ps(), new() { Betas = (b1, b2) }), "NAdam", which);
        Throws(() => new Adamax(Ps(), new() { Betas = (b1, b2) }), "Adamax", which);
    }

    [Fact]
    public void NesterovNeedsMomentumAndNoDampening()
    {
        Throws(() => new Sgd(Ps(), new() { Nesterov = true }), "SGD", "Nesterov momentum requires a momentum and zero dampening", "momentum 0");
        Throws(() => new Sgd(Ps(), new() { Nesterov = true, Momentum = 0.9, Dampening = 0.1 }), "SGD", "zero dampening", "dampening 0.1");
    }

    [Fact]
    public void GroupOverridesAreValidatedToo()
    {
        Throws(() => new Sgd([new ParamGroup<SgdOptions>(Ps(), o => o with { LearningRate = -0.1 })]), "SGD", "Invalid learning rate: -0.1");
    }

    [Fact]
    public void DuplicatedAndEmptyParameterLists()
    {
        var p = new Parameter(Torch.Ones(2, 2));
        Throws(() => new Sgd([new ParamGroup<SgdOptions>([p]), new ParamGroup<SgdOptions>([p])]), "SGD", "more than one parameter group", "[2, 2]");
        Throws(() => new Sgd([p, p]), "SGD", "same parameter twice");
        var opt = new Sgd([p]);
        Throws(() => opt.AddParamGroup(new ParamGroup<SgdOptions>([p])), "SGD", "more than one parameter group");
        Throws(() => new Adam(Array.Empty<Tensor>()), "Adam", "empty parameter list");
        var nonLeaf = Torch.Ones(2).RequiresGradInPlace() * 2;
        Throws(() => new Sgd([nonLeaf]), "SGD", "non-leaf");
    }

    [Fact]
    public void GradientOfTheWrongShapeIsAnError()
    {
        var p = new Parameter(Torch.Ones(2, 3));
        var opt = new Sgd([p]);
        p.Grad = Torch.Ones(3, 2);
        Throws(() => opt.Step(), "SGD.Step", "[3, 2]", "[2, 3]");
    }
}
