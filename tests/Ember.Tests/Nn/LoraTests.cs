using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Nn.Lora;
using Ember.Optim;

namespace Ember.Tests.Nn;

public class LoraTests
{
    static Sequential Model() => new(new Linear(6, 12, generator: new Generator(1)), new ReLU(), new Linear(12, 3, generator: new Generator(2)));

    static readonly Tensor X = Torch.Randn([16, 6], DType.Float32, new Generator(3));

    [Fact]
    public void StartsEqualToTheBaseAndTrainsOnlyTheAdapters()
    {
        var model = Model();
        var before = model.Call(X).ToDoubleArray();
        var lora = LoraModel.Apply(model, rank: 2, alpha: 4, generator: new Generator(4));
        Assert.Equal(before, lora.Call(X).ToDoubleArray());    // B = 0
        Assert.Equal(2 * (6 + 12) + 2 * (12 + 3), lora.TrainableParameters().Sum(p => p.NumEl));
        Assert.All(model.Parameters(), p => Assert.False(p.RequiresGrad));
        Assert.Equal(["lora_0.lora_A", "lora_0.lora_B", "lora_2.lora_A", "lora_2.lora_B"], lora.AdapterStateDict().Keys);
    }

    [Fact]
    public void TrainingChangesTheOutputNotTheBaseAndMergingKeepsWhatWasLearned()
    {
        var model = Model();
        var baseWeights = model.Parameters().Select(p => p.ToDoubleArray()).ToList();
        var lora = LoraModel.Apply(model, rank: 2, alpha: 4, generator: new Generator(4));
        var target = Torch.Randn([16, 3], DType.Float32, new Generator(5));
        var sgd = new Sgd(lora.TrainableParameters(), new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            sgd.ZeroGrad();
            var loss = F.MseLoss(lora.Call(X), target);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            sgd.Step();
        }
        Assert.True(last < 0.8 * first, $"loss {first} → {last}");
        Assert.Equal(baseWeights, model.Parameters().Select(p => p.ToDoubleArray()).ToList());   // frozen, bit for bit
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));

        var adapted = lora.Call(X).ToDoubleArray();
        var merged = lora.Merge();
        Assert.Same(model, merged);
        TestUtil.Close(adapted, merged.Call(X).ToDoubleArray(), rtol: 1e-5, atol: 1e-6);   // the hooks are gone, the weights carry it
        Assert.All(model.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Throws<InvalidOperationException>(() => lora.Call(X));
    }

    [Fact]
    public void TargetSelectsLayersAndRemoveRestoresTheBase()
    {
        var model = Model();
        var before = model.Call(X).ToDoubleArray();
        var lora = LoraModel.Apply(model, rank: 1, target: path => path == "2");
        Assert.Equal(["2"], lora.Adapters.Select(a => a.Path));
        using (Torch.NoGrad()) lora.Adapters[0].Adapter.B.FillInPlace(0.5);
        Assert.NotEqual(before, lora.Call(X).ToDoubleArray());
        lora.Remove();
        Assert.Equal(before, model.Call(X).ToDoubleArray());
    }

    [Fact]
    public void NothingToAdaptOrABadRankIsAnError()
    {
        Assert.Contains("no Linear layer of Sequential was selected by the target filter",
            Assert.Throws<ArgumentException>(() => LoraModel.Apply(Model(), target: _ => false)).Message);
        Assert.Contains("rank must be positive, got 0", Assert.Throws<ArgumentException>(() => LoraModel.Apply(Model(), rank: 0)).Message);
    }
}
