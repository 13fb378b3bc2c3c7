using Ember.Data;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Detection.Optim;
using Ember.Nn.Functional;
using Ember.Training;

namespace Ember.Tests.Detection.Model;

/// <summary>
/// <see cref="YoloClassifier"/> (YOLOv5's ClassificationModel), <see cref="WeightTransfer"/> (train.py --weights) and the
/// rendered Fashion-MNIST items `ember detect pretrain` trains on.
/// </summary>
public class YoloClassifierTests
{
    /// <summary>docs/runs/…/yolov5n375.yaml, the model of the detection runs in docs/results.md, found walking up from the test's folder.</summary>
    internal static string N375Yaml()
    {
        const string relative = "docs/runs/detect-d2000-w0375-i256-v320-e42/yolov5n375.yaml";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException(relative);
    }

    static YoloDetector Detector(string model, int classes = 10) => model == "yaml"
        ? new YoloModel(YoloModelConfig.Parse(File.ReadAllText(N375Yaml()), "yolov5n375.yaml"), classes)
        : new YoloV5(classes, YoloSize.Parse(model));

    static bool Backbone(string key) => int.Parse(key.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture) < 9;

    [Theory]
    [InlineData("n")]
    [InlineData("s")]
    [InlineData("yaml")]
    public void ItsLayersZeroToEightHaveTheDetectorsNamesAndShapesAndClassifyIsLayerNine(string model)
    {
        var detector = Detector(model).StateDict();
        var classifier = new YoloClassifier(Detector(model), 10);
        var own = classifier.StateDict();
        var expected = detector.Where(kv => Backbone(kv.Key)).Select(kv => (kv.Key, kv.Value.Shape.ToString())).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, own.Where(kv => Backbone(kv.Key)).Select(kv => (kv.Key, kv.Value.Shape.ToString())).ToList());
        // the rest is YOLOv5's Classify: a 1×1 Conv to 1280 channels, BN, and a Linear layer to the classes
        var head = own.Keys.Where(k => !Backbone(k)).ToList();
        Assert.All(head, k => Assert.StartsWith("model.9.", k));
        Assert.Contains("model.9.conv.conv.weight", head);
        Assert.Contains("model.9.conv.bn.running_var", head);
        Assert.Equal([10, 1280], own["model.9.linear.weight"].Shape.ToArray());
        // and none of its names is the detector's layer 9 (SPPF): nothing of it is transferred
        Assert.DoesNotContain(head, detector.ContainsKey);
        Assert.Equal(1280, own["model.9.conv.conv.weight"].Size(0));
        Assert.Equal(detector.Where(kv => kv.Key.StartsWith("model.9.cv1.conv.weight", StringComparison.Ordinal)).Single().Value.Size(1),
            own["model.9.conv.conv.weight"].Size(1));

        var output = classifier.Call(Torch.Rand([2, 3, 64, 64], generator: new Generator(1)));
        Assert.Equal([2, 10], output.Shape.ToArray());
    }

    [Fact]
    public void ABackboneThatIsNotAChainIsRefusedNamingTheLayer()
    {
        var text = File.ReadAllText(N375Yaml()).Replace("[-1, 1, Conv, [256, 3, 2]],     # 3", "[1, 1, Conv, [256, 3, 2]],     # 3");
        var e = Assert.Throws<ArgumentException>(() => new YoloClassifier(new YoloModel(YoloModelConfig.Parse(text, "odd.yaml"), 10), 10));
        Assert.Contains("odd.yaml: layer 3 takes [1], not the previous layer", e.Message);
    }

    [Fact]
    public void TransferCopiesTheMatchingTensorsBitExactlyAndLeavesTheRestAsInitialized()
    {
        Torch.ManualSeed(11);
        var pretrained = new YoloClassifier(Detector("yaml"), 10);
        // trained a little in spirit: every weight and statistic moved away from any initialization
        using (Torch.NoGrad())
            foreach (var (_, t) in pretrained.StateDict())
                if (t.DType.IsFloatingPoint()) t.AddInPlace(Torch.Rand(t.Shape.ToArray(), generator: new Generator(t.NumEl)));
        var weights = pretrained.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());

        Torch.ManualSeed(12);
        var detector = Detector("yaml");
        Torch.ManualSeed(12);
        var fresh = Detector("yaml").StateDict();
        var copied = WeightTransfer.Intersect(detector, weights);

        var after = detector.StateDict();
        var backbone = after.Keys.Where(Backbone).ToList();
        Assert.Equal(backbone, copied);
        Assert.True(copied.Count > 100, $"{copied.Count} tensors copied");
        foreach (var (key, tensor) in after)
        {
            var expected = Backbone(key) ? weights[key] : fresh[key];
            Assert.True(expected.DType == tensor.DType && expected.To(DType.Float64).ToArray<double>().AsSpan().SequenceEqual(tensor.To(DType.Float64).ToArray<double>()),
                $"{key}: {(Backbone(key) ? "not the pre-trained tensor" : "changed though the classifier has no such tensor")}");
        }
        // a tensor of the same name but another shape is left alone: the classifier's head of 3 classes into a detector's of 10
        var other = new YoloClassifier(Detector("yaml"), 3).StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var classifier = new YoloClassifier(Detector("yaml"), 10);
        var before = classifier.StateDict()["model.9.linear.weight"].ToArray<float>();
        var names = WeightTransfer.Intersect(classifier, other);
        Assert.DoesNotContain("model.9.linear.weight", names);
        Assert.Contains("model.9.conv.conv.weight", names);
        Assert.Equal(before, classifier.StateDict()["model.9.linear.weight"].ToArray<float>());
    }

    [Fact]
    public void RenderedItemsAreDeterministicSquareAndShowTheItem()
    {
        var source = new FashionMnist(train: true);
        var render = new FashionMnistItemRender(64);
        var (item, _) = source[0];
        var a = render.Apply(item, new Generator(5));
        Assert.Equal([3, 64, 64], a.Shape.ToArray());
        Assert.Equal(a.ToArray<float>(), render.Apply(item, new Generator(5)).ToArray<float>());
        Assert.NotEqual(a.ToArray<float>(), render.Apply(item, new Generator(6)).ToArray<float>());
        // without clutter and noise, the pixels that differ from the corner's background cover the item's scaled area
        var plain = FashionMnistDetectionSet.RenderItem(item, 64, FashionMnistItemRender.OptionsFor(64) with { Clutter = 0, Noise = 0, Gradient = 0 }, new Generator(5));
        var px = plain.ToArray<float>();
        int changed = 0;
        for (int i = 0; i < 64 * 64; i++) if (px[i] != px[0] || px[4096 + i] != px[4096] || px[8192 + i] != px[8192]) changed++;
        Assert.InRange(changed, 0.1 * 64 * 64, 0.8 * 64 * 64);
        Assert.Throws<ArgumentException>(() => FashionMnistDetectionSet.RenderItem(item, 64, new SyntheticDetectionOptions(), new Generator(1)));
    }

    [Fact]
    public void ClassifierLearnsTwoRenderedClassesWithTheTrainer()
    {
        // trousers (1) against bags (8), relabelled 0 and 1, rendered at 32 px: the loss of the last steps must be well
        // under that of the first and under chance (ln 2 = 0.69): 0.77 → 0.33 with AVX-512, → 0.42 on the AVX2 path
        var source = new FashionMnist(train: true, transform: new FashionMnistItemRender(32));
        var picked = Enumerable.Range(0, 2000).Where(i => source.Labels[i] is 1 or 8).Take(320).ToArray();
        var set = new TransformDataset<(Tensor Image, long Label), (Tensor, long)>(new Subset<(Tensor Image, long Label)>(source, picked), (x, _) => (x.Image, x.Label == 8 ? 1L : 0L));
        Torch.ManualSeed(3);
        var model = new YoloClassifier(new YoloV5(2, YoloSize.N), 2);
        var loader = new DataLoader<(Tensor, long)>(set, 16, shuffle: true, seed: 3);
        var losses = new List<double>();
        var trainer = new Trainer(model, YoloParameterGroups.Of(model).Adam(0.001, 0), (o, t) => F.CrossEntropy(o, t), new TrainerOptions { Epochs = 4 });
        trainer.Add(new Ember.Training.Callbacks.LambdaCallback { BatchEnd = s => losses.Add(s.BatchLoss) });
        trainer.Fit(e => loader.Iterate(e - 1).Select(b => (b[0], b[1])));
        double first = losses.Take(6).Average(), last = losses.TakeLast(6).Average();
        Assert.True(last < 0.7 * first && last < 0.55, $"loss {first:F3} over the first six steps, {last:F3} over the last six");
    }
}
