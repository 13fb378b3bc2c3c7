using Ember.Detection.Model;
using Ember.Models;
using Ember.Nn.Functional;

namespace Ember.Tests.Detection;

public class YoloV5Tests
{
    // Provenance: YOLOv5's own model summaries at nc = 80 (models/yolo.py Model.info, v6.x yaml with the 6×6 stem and
    // SPPF): "YOLOv5n summary: ... 1872157 parameters" and "YOLOv5s summary: ... 7235389 parameters". The s total also
    // equals the sum of the per-layer "params" column of YOLOv5's parse_model printout for yolov5s.yaml, checked
    // layer by layer in Yolov5s_per_layer_parameter_counts.
    [Theory]
    [InlineData("n", 1_872_157L)]
    [InlineData("s", 7_235_389L)]
    public void Parameter_counts_match_yolov5_at_80_classes(string size, long expected)
        => Assert.Equal(expected, new YoloV5(80, YoloSize.Parse(size)).ParameterCount());

    [Fact]
    public void Yolov5s_per_layer_parameter_counts()
    {
        // parse_model's printout for yolov5s.yaml (nc = 80), layers 0–24
        long[] expected = [3520, 18560, 18816, 73984, 115712, 295424, 625152, 1180672, 1182720, 656896, 131584, 0, 0, 361984,
            33024, 0, 0, 90880, 147712, 0, 296448, 590336, 0, 1182720, 229245];
        var perLayer = new long[25];
        foreach (var (name, p) in new YoloV5(80, YoloSize.S).NamedParameters())
            perLayer[int.Parse(name.Split('.')[1])] += p.NumEl;
        Assert.Equal(expected, perLayer);
    }

    [Fact]
    public void Size_multipliers_round_as_parse_model()
    {
        Assert.Equal([1, 2, 3], new[] { YoloSize.S.Repeats(3), YoloSize.S.Repeats(6), YoloSize.S.Repeats(9) });
        Assert.Equal(1, YoloSize.S.Repeats(1));
        Assert.Equal(16, YoloSize.N.Channels(64));
        Assert.Equal(256, YoloSize.N.Channels(1024));
        Assert.Equal(48, YoloSize.M.Channels(64));
        Assert.Throws<ArgumentException>(() => YoloSize.Parse("q"));
    }

    [Fact]
    public void State_dict_keys_follow_yolov5()
    {
        var keys = new YoloV5(3, YoloSize.N).StateDict().Keys.ToList();
        Assert.Equal("model.0.conv.weight", keys[0]);
        Assert.Contains("model.2.m.0.cv1.conv.weight", keys);
        Assert.Contains("model.9.cv2.bn.running_mean", keys);
        Assert.Contains("model.24.m.2.bias", keys);
        Assert.Contains("model.24.anchors", keys);
    }

    [Fact]
    public void Training_output_is_raw_maps_per_level_and_eval_output_is_decoded()
    {
        var model = new YoloV5(4, YoloSize.N);
        var x = Torch.Rand([2, 3, 64, 96], DType.Float32, new Generator(1));
        var raw = model.ForwardRaw(x);
        Assert.Equal(new Shape(2, 3, 8, 12, 9), raw[0].Shape);
        Assert.Equal(new Shape(2, 3, 4, 6, 9), raw[1].Shape);
        Assert.Equal(new Shape(2, 3, 2, 3, 9), raw[2].Shape);
        Assert.Equal([(8, 12), (4, 6), (2, 3)], model.Detect.LastShapes);
        var flat = model.Call(x);
        Assert.Equal(new Shape(2, 3 * (96 + 24 + 6), 9), flat.Shape);
        var split = model.Detect.Split(flat, model.Detect.LastShapes);
        TestUtil.Close(raw[1], split[1], 0, 0);
        model.Eval();
        Assert.Equal(new Shape(2, 3 * (96 + 24 + 6), 9), model.Call(x).Shape);
        var ex = Assert.Throws<ArgumentException>(() => model.Call(Torch.Rand(1, 3, 64, 80)));
        Assert.Contains("multiples of 32", ex.Message);
    }

    [Fact]
    public void One_image_at_inference_writes_the_concatenations_in_place_with_the_same_maps()
    {
        Torch.ManualSeed(5);
        var model = new YoloV5(3, YoloSize.N);
        var gen = new Generator(6);
        using (Torch.NoGrad())
            foreach (var norm in model.Modules().OfType<Ember.Nn.Layers.BatchNorm2d>())
            {
                norm.RunningMean!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.3);
                norm.RunningVar!.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
            }
        model.Eval();
        var x = Torch.Rand([1, 3, 64, 96], DType.Float32, new Generator(7));
        Tensor[] inPlace;
        using (Torch.NoGrad()) inPlace = model.ForwardRaw(x);
        // With gradients the modules run one by one and the cats are real.
        var reference = model.ForwardRaw(x.Detach().RequiresGradInPlace());
        Assert.NotNull(reference[0].GradFn);
        for (int level = 0; level < 3; level++) TestUtil.Close(reference[level].Detach(), inPlace[level], 1e-4, 1e-4);
    }

    [Fact]
    public void Decode_follows_yolov5_formulas_on_a_chosen_cell()
    {
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var g = new Generator(5);
        Tensor[] feats = [Torch.Randn([1, 4, 4, 6], DType.Float32, g), Torch.Randn([1, 4, 2, 3], DType.Float32, g), Torch.Randn([1, 4, 1, 2], DType.Float32, g)];
        var raw = head.ForwardLevels(feats);
        var dec = head.Decode(raw).ToArray<float>();
        static double Sig(double v) => 1 / (1 + Math.Exp(-v));
        // level 1 (stride 16), anchor 2 = (59, 119), cell y = 1, x = 2; rows of the flat output: level 0 first (3·4·6 = 72)
        int row = 72 + 2 * (2 * 3) + 1 * 3 + 2;
        var r = raw[1].ToDoubleArray();
        int baseIdx = ((2 * 2 + 1) * 3 + 2) * 7; // [0, a=2, y=1, x=2, :]
        double[] expected =
        [
            (2 * Sig(r[baseIdx]) - 0.5 + 2) * 16, (2 * Sig(r[baseIdx + 1]) - 0.5 + 1) * 16,
            Math.Pow(2 * Sig(r[baseIdx + 2]), 2) * 59, Math.Pow(2 * Sig(r[baseIdx + 3]), 2) * 119,
            Sig(r[baseIdx + 4]), Sig(r[baseIdx + 5]), Sig(r[baseIdx + 6]),
        ];
        TestUtil.Close(expected, dec.Skip(row * 7).Take(7).Select(v => (double)v).ToArray(), rtol: 1e-5, atol: 1e-4);
    }

    // The one-pass decode op against the composed ops (its oracle), in float32 and float64, on maps large enough for
    // several chunks whose runs cross image boundaries; and the same bits on one thread and on two.
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Fused_decode_matches_the_composed_ops_on_any_thread_count(DType dtype)
    {
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var g = new Generator(7);
        Tensor[] raw = [Torch.Randn([3, 3, 40, 36, 7], dtype, g) * 3, Torch.Randn([3, 3, 20, 18, 7], dtype, g) * 3, Torch.Randn([3, 3, 10, 9, 7], dtype, g) * 3];
        var composed = head.DecodeComposed(raw).ToDoubleArray();
        int saved = Torch.NumThreads;
        try
        {
            double[][] fused = new double[2][];
            foreach (int threads in new[] { 1, 2 })
            {
                Torch.NumThreads = threads;
                using (Torch.NoGrad())
                {
                    var y = head.Decode(raw);
                    Assert.Equal([3, 3 * (40 * 36 + 20 * 18 + 10 * 9), 7], y.Shape.ToArray());
                    Assert.Same(raw[1], head.RawOf(y)![1]);
                    fused[threads - 1] = y.ToDoubleArray();
                }
            }
            Assert.Equal(fused[0], fused[1]);
            double tol = dtype == DType.Float32 ? 1e-6 : 1e-14;
            for (int i = 0; i < composed.Length; i++)
                Assert.True(Math.Abs(fused[1][i] - composed[i]) <= tol * Math.Max(1, Math.Abs(composed[i])), $"element {i}: fused {fused[1][i]}, composed {composed[i]}");
        }
        finally { Torch.NumThreads = saved; }
    }

    [Fact]
    public void Biases_start_from_yolov5_priors()
    {
        var head = new DetectHead(3, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var before = head.Conv(2).Bias!.ToDoubleArray();
        head.InitializeBiases(); // adds the priors once more: the difference is exactly the prior
        var after = head.Conv(2).Bias!.ToDoubleArray();
        double obj = Math.Log(8 / Math.Pow(640 / 32.0, 2)), cls = Math.Log(0.6 / (3 - 0.99));
        for (int a = 0; a < 3; a++)
        {
            Assert.Equal(0, after[a * 8] - before[a * 8], 5);
            Assert.Equal(obj, after[a * 8 + 4] - before[a * 8 + 4], 5);
            for (int c = 0; c < 3; c++) Assert.Equal(cls, after[a * 8 + 5 + c] - before[a * 8 + 5 + c], 5);
        }
        // the constructor applied them once: PyTorch's default bias init is within ±1/√fan_in = ±0.5 of them
        var fresh = new DetectHead(3, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]).Conv(0).Bias!.ToDoubleArray();
        Assert.InRange(fresh[4], Math.Log(8 / 6400.0) - 0.5, Math.Log(8 / 6400.0) + 0.5);
        var withFreq = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var b0 = withFreq.Conv(0).Bias!.ToDoubleArray();
        withFreq.InitializeBiases([1, 3]);
        var b1 = withFreq.Conv(0).Bias!.ToDoubleArray();
        Assert.Equal(Math.Log(0.25), b1[5] - b0[5], 5);
        Assert.Equal(Math.Log(0.75), b1[6] - b0[6], 5);
    }

    [Fact]
    public void Focus_three_by_three_equals_the_six_by_six_stride_two_conv_with_rearranged_weights()
    {
        // the notes' claim (YOLOv5 v6.0 replaced Focus(k=3) by Conv(k=6, s=2, p=2)): same outputs, weights rearranged
        var x = Torch.Randn([2, 3, 16, 12], DType.Float64, new Generator(2));
        var w3 = Torch.Randn([5, 12, 3, 3], DType.Float64, new Generator(3));
        var viaFocus = F.Conv2d(Focus.SpaceToDepth(x), w3, padding: 1);
        var viaConv = F.Conv2d(x, Focus.EquivalentConvolution(w3, 3), stride: (2, 2), padding: 2);
        Assert.Equal(new Shape(2, 5, 8, 6), viaConv.Shape);
        TestUtil.Close(viaFocus, viaConv, rtol: 1e-12, atol: 1e-12);

        // the whole stems, BN and SiLU included, in eval mode
        var focus = new Focus(3, 8, kernelSize: 3);
        var conv = new ConvBnSiLU(3, 8, 6, stride: 2, padding: 2);
        var sd = focus.StateDict();
        var target = new Dictionary<string, Tensor>();
        foreach (var (k, v) in sd) target[k["conv.".Length..]] = v;
        target["conv.weight"] = Focus.EquivalentConvolution(sd["conv.conv.weight"], 3);
        using (Torch.NoGrad()) sd["conv.bn.running_mean"].CopyFrom(Torch.Randn([8], DType.Float32, new Generator(4)));
        target["bn.running_mean"] = sd["conv.bn.running_mean"];
        Assert.Empty(conv.LoadStateDict(target).MissingKeys);
        focus.Eval(); conv.Eval();
        var xf = Torch.Rand([1, 3, 32, 32], DType.Float32, new Generator(6));
        TestUtil.Close(focus.Call(xf), conv.Call(xf), rtol: 1e-4, atol: 1e-5);
        Assert.Equal(new YoloV5(80, YoloSize.S).ParameterCount(), new YoloV5(80, YoloSize.S, YoloStem.Focus).ParameterCount());
    }

    [Fact]
    public void The_bias_prior_switch_changes_only_the_head_biases_and_by_exactly_the_prior()
    {
        const int nc = 4;
        Torch.ManualSeed(12);
        var with = new YoloV5(nc, YoloSize.N);
        Torch.ManualSeed(12);
        var without = new YoloV5(nc, YoloSize.N, biasPrior: false);
        Torch.ManualSeed(12);
        var fromYaml = YoloModel.FromYaml("yolov5n", nc, biasPrior: false);
        var a = with.StateDict();
        var b = without.StateDict();
        var c = fromYaml.StateDict();
        foreach (var (key, value) in a)
        {
            TestUtil.Close(b[key], c[key], 0, 0); // the yaml model draws the same weights and honours the switch alike
            if (!key.StartsWith("model.24.m.", StringComparison.Ordinal) || !key.EndsWith(".bias", StringComparison.Ordinal))
            {
                TestUtil.Close(value, b[key], 0, 0);
                continue;
            }
            double stride = 8 << (key[11] - '0');
            double obj = Math.Log(8 / Math.Pow(640 / stride, 2)), cls = Math.Log(0.6 / (nc - 0.99));
            var on = value.ToDoubleArray();
            var off = b[key].ToDoubleArray();
            for (int i = 0; i < on.Length; i++)
            {
                int k = i % (5 + nc);
                double prior = k == 4 ? obj : k >= 5 ? cls : 0;
                Assert.True(Math.Abs(on[i] - off[i] - prior) < 1e-5, $"{key}[{i}]: with {on[i]}, without {off[i]}, prior {prior}");
            }
        }
    }
}
