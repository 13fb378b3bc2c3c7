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
        Assert.Contains("no Linear or 1×1 Conv2d layer of Sequential was selected by the target filter",
            Assert.Throws<ArgumentException>(() => LoraModel.Apply(Model(), target: _ => false)).Message);
        Assert.Contains("rank must be positive, got 0", Assert.Throws<ArgumentException>(() => LoraModel.Apply(Model(), rank: 0)).Message);
    }

    // 1×1 convolutions (one strided with reflect padding), a 3×3 one that stays unadapted, and a Linear head.
    static Sequential ConvModel() => new(
        new Conv2d(3, 8, 1, generator: new Generator(11)), new ReLU(),
        new Conv2d(8, 6, 1, stride: 2, padding: 1, paddingMode: PaddingMode.Reflect, generator: new Generator(12)),
        new Conv2d(6, 4, 3, generator: new Generator(13)), new Flatten(), new Linear(4 * 3 * 3, 2, generator: new Generator(14)));

    static readonly Tensor Images = Torch.Randn([5, 3, 7, 7], DType.Float32, new Generator(15));

    [Fact]
    public void OneByOneConvolutionsGetAdaptersThatActAsTheWeightDelta()
    {
        var model = ConvModel();
        var before = model.Call(Images).ToDoubleArray();
        var lora = LoraModel.Apply(model, rank: 2, alpha: 6, generator: new Generator(16));
        Assert.Equal(["0", "2", "5"], lora.Adapters.Select(a => a.Path));               // not the 3×3 convolution "3"
        Assert.Equal(2 * (3 + 8) + 2 * (8 + 6) + 2 * (36 + 2), lora.TrainableParameters().Sum(p => p.NumEl));
        Assert.Equal(before, lora.Call(Images).ToDoubleArray());                          // B = 0
        using (Torch.NoGrad())
            foreach (var (_, _, adapter) in lora.Adapters) adapter.B.CopyFrom(Torch.Randn(adapter.B.Shape.ToArray(), DType.Float32, new Generator(17)));

        // the strided, reflect-padded layer's adapted output is the convolution with W + (α/r)·B·A (α/r = 3)
        var conv = (Conv2d)lora.Adapters[1].Layer;
        var adapter1 = lora.Adapters[1].Adapter;
        var hidden = Torch.Randn([5, 8, 7, 7], DType.Float32, new Generator(18));
        var delta = (adapter1.B.MatMul(adapter1.A) * 3).Reshape([6, 8, 1, 1]);
        var expected = F.Conv2d(hidden, conv.Weight + delta, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, 1, conv.PaddingMode);
        TestUtil.Close(expected.ToDoubleArray(), conv.Call(hidden).ToDoubleArray(), rtol: 1e-5, atol: 1e-5);

        var adapted = lora.Call(Images).ToDoubleArray();
        Assert.NotEqual(before, adapted);
        var merged = lora.Merge();
        TestUtil.Close(adapted, merged.Call(Images).ToDoubleArray(), rtol: 1e-5, atol: 1e-5); // merged == unmerged
        Assert.Equal([6L, 8, 1, 1], conv.Weight.Shape.ToArray().Select(d => (long)d));
    }

    [Fact]
    public void TrainingAConvolutionalModelsAdaptersLeavesItsBaseBitForBit()
    {
        var model = ConvModel();
        var baseWeights = model.Parameters().Select(p => p.ToDoubleArray()).ToList();
        var lora = LoraModel.Apply(model, rank: 2, alpha: 4, generator: new Generator(4));
        var target = Torch.Randn([5, 2], DType.Float32, new Generator(5));
        var adam = new Adam(lora.TrainableParameters(), new AdamOptions { LearningRate = 0.01 });
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            adam.ZeroGrad();
            var loss = F.MseLoss(lora.Call(Images), target);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            adam.Step();
        }
        Assert.True(last < 0.8 * first, $"loss {first} → {last}");
        Assert.Equal(baseWeights, model.Parameters().Select(p => p.ToDoubleArray()).ToList());
        // every adapter moved, the convolutions' too
        Assert.All(lora.Adapters, a => Assert.NotEqual(0.0, a.Adapter.B.Abs().Sum().Item()));
    }

    [Fact]
    public void SelectingAConvolutionThatIsNotOneByOneIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => LoraModel.Apply(ConvModel(), target: path => path == "3"));
        Assert.Contains("3 (Conv2d 6→4, kernel 3×3, groups 1) was selected, but adapters apply to Linear and 1×1 Conv2d layers with groups 1 only", e.Message);
    }
}
