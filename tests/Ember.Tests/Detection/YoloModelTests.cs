using Ember.Detection.Model;
using Ember.Nn;

namespace Ember.Tests.Detection;

public class YoloModelTests
{
    static Tensor Eval(Module model, Tensor x)
    {
        model.Eval();
        using (Torch.NoGrad()) return model.Call(x);
    }

    // Parameter counts: YOLOv5's own model summaries (see YoloV5Tests.Parameter_counts_match_yolov5_at_80_classes).
    [Theory]
    [InlineData("yolov5n", "n", 1_872_157L)]
    [InlineData("yolov5s", "s", 7_235_389L)]
    public void The_shipped_definitions_build_yolov5_with_its_parameter_count_and_state_dict(string cfg, string size, long parameters)
    {
        var fromYaml = YoloModel.FromYaml(cfg);
        var inCode = new YoloV5(80, YoloSize.Parse(size));
        Assert.Equal(parameters, fromYaml.ParameterCount());
        Assert.Equal(80, fromYaml.NumClasses);
        var a = fromYaml.StateDict();
        var b = inCode.StateDict();
        Assert.Equal(b.Keys, a.Keys);
        foreach (var (key, value) in b) Assert.Equal(value.Shape, a[key].Shape);
        Assert.Equal([8.0, 16, 32], fromYaml.Detect.Strides);
        TestUtil.Close(inCode.Detect.Anchors, fromYaml.Detect.Anchors, 0, 0);
    }

    [Theory]
    [InlineData("yolov5n", "n")]
    [InlineData("yolov5s", "s")]
    public void With_the_same_seed_the_yaml_model_computes_what_the_code_model_computes(string cfg, string size)
    {
        Torch.ManualSeed(31);
        var inCode = new YoloV5(3, YoloSize.Parse(size));
        Torch.ManualSeed(31);
        var fromYaml = YoloModel.FromYaml(cfg, numClasses: 3);
        var x = Torch.Rand([2, 3, 64, 96], generator: new Generator(32));
        var raw = fromYaml.ForwardRaw(x);
        var rawCode = inCode.ForwardRaw(x);
        for (int i = 0; i < 3; i++) TestUtil.Close(rawCode[i], raw[i], 0, 0);
        TestUtil.Close(Eval(inCode, x), Eval(fromYaml, x), 0, 0);
    }

    const string FocusYaml = """
        nc: 2
        depth_multiple: 0.33
        width_multiple: 0.25
        anchors:
          - [10,13, 16,30, 33,23]
          - [30,61, 62,45, 59,119]
          - [116,90, 156,198, 373,326]
        backbone:
          [[-1, 1, Focus, [64, 3]],
           [-1, 1, Conv, [128, 3, 2]],
           [-1, 3, C3, [128]],
           [-1, 1, Conv, [256, 3, 2]],
           [-1, 6, C3, [256]],
           [-1, 1, Conv, [512, 3, 2]],
           [-1, 9, C3, [512]],
           [-1, 1, Conv, [1024, 3, 2]],
           [-1, 3, C3, [1024]],
           [-1, 1, SPPF, [1024, 5]],
          ]
        head:
          [[-1, 1, Conv, [512, 1, 1]],
           [-1, 1, nn.Upsample, [None, 2, 'nearest']],
           [[-1, 6], 1, Concat, [1]],
           [-1, 3, C3, [512, False]],
           [-1, 1, Conv, [256, 1, 1]],
           [-1, 1, nn.Upsample, [None, 2, 'nearest']],
           [[-1, 4], 1, Concat, [1]],
           [-1, 3, C3, [256, False]],
           [-1, 1, Conv, [256, 3, 2]],
           [[-1, 14], 1, Concat, [1]],
           [-1, 3, C3, [512, False]],
           [-1, 1, Conv, [512, 3, 2]],
           [[-1, 10], 1, Concat, [1]],
           [-1, 3, C3, [1024, False]],
           [[17, 20, 23], 1, Detect, [nc, anchors]],
          ]
        """;

    [Fact]
    public void A_focus_stem_definition_matches_the_code_model_with_the_focus_stem()
    {
        Torch.ManualSeed(41);
        var inCode = new YoloV5(2, YoloSize.N, YoloStem.Focus);
        Torch.ManualSeed(41);
        var fromYaml = new YoloModel(YoloModelConfig.Parse(FocusYaml, "focus.yaml"));
        Assert.Equal(inCode.ParameterCount(), fromYaml.ParameterCount());
        var x = Torch.Rand([1, 3, 96, 64], generator: new Generator(42));
        TestUtil.Close(Eval(inCode, x), Eval(fromYaml, x), 0, 0);
    }

    [Fact]
    public void Repeats_of_plain_modules_become_a_sequential_and_strides_follow_the_layers()
    {
        const string yaml = """
            nc: 1
            depth_multiple: 1.0
            width_multiple: 1.0
            anchors: [[8,8, 16,16], [32,32, 64,64]]
            backbone:
              [[-1, 1, Conv, [8, 3, 2]],
               [-1, 2, Conv, [8, 3, 2]],
               [-1, 2, Bottleneck, [8]],
               [-1, 1, Conv, [16, 3, 2]],
              ]
            head:
              [[-1, 1, nn.Upsample, [None, 2, 'nearest']],
               [[-1, 2], 1, Concat, [1]],
               [[5, 3], 1, Detect, [nc, anchors]],
              ]
            """;
        var model = new YoloModel(YoloModelConfig.Parse(yaml, "tiny.yaml"));
        var keys = model.StateDict().Keys.ToList();
        Assert.Contains("model.1.0.conv.weight", keys);
        Assert.Contains("model.1.1.conv.weight", keys);
        Assert.Contains("model.2.1.cv2.conv.weight", keys);
        // strides: 2, then two stride-2 convs (8), then 16; the upsampled 16 joins layer 2 at 8
        Assert.Equal([8.0, 16], model.Detect.Strides);
        Assert.Equal(2, model.Detect.NumAnchors);
        // layer 5 concatenates 16 + 8 channels at stride 8
        Assert.Equal(24, model.Detect.Conv(0).Weight.Size(1));
        Assert.Equal(16, model.Detect.Conv(1).Weight.Size(1));
        var raw = model.ForwardRaw(Torch.Rand(1, 3, 64, 96));
        Assert.Equal(new Shape(1, 2, 8, 12, 6), raw[0].Shape);
        Assert.Equal(new Shape(1, 2, 4, 6, 6), raw[1].Shape);
        var ex = Assert.Throws<ArgumentException>(() => model.ForwardRaw(Torch.Rand(1, 3, 64, 88)));
        Assert.Contains("multiples of 16", ex.Message);
        var wide = yaml.Replace("[-1, 2, Bottleneck, [8]]", "[-1, 2, Bottleneck, [16]]");
        var ex2 = Assert.Throws<InvalidDataException>(() => new YoloModel(YoloModelConfig.Parse(wide, "tiny.yaml")));
        Assert.Contains("tiny.yaml:8: layer 2 (Bottleneck): number 2 repeats a block from 8 to 16 channels; a repeated block must keep its width", ex2.Message);
    }

    [Theory]
    [InlineData("[-1, 1, Conv2d, [16, 3, 2]]", "tiny.yaml:7: layer 1 (Conv2d): unknown module; supported: Conv, C3")]
    [InlineData("[5, 1, Conv, [16, 3, 2]]", "tiny.yaml:7: layer 1: 'from' 5 names no earlier layer (layers so far: 0 to 0; -1 is the previous one)")]
    [InlineData("[-1, 1, Conv, [16, 3, 2, 1, 1]]", "tiny.yaml:7: layer 1 (Conv): takes at most 4 arguments, got 5")]
    [InlineData("[-1, 1, C3, [16, Maybe]]", "tiny.yaml:7: layer 1 (C3): argument 1 must be True or False, got 'Maybe'")]
    [InlineData("[-1, 1, Conv, [16, 3, 2]],\n   [0, 1, Detect, [nc, anchors]]", "tiny.yaml:8: layer 2 (Detect): Detect must be the last layer (layer 3), it is layer 2")]
    public void Definition_errors_name_the_file_line_layer_and_problem(string row, string expected)
    {
        var yaml = "nc: 1\ndepth_multiple: 1.0\nwidth_multiple: 1.0\nanchors: [[8,8]]\nbackbone:\n  [[-1, 1, Conv, [8, 3, 2]],\n   " + row + ",\n  ]\nhead:\n  [[-1, 1, Detect, [nc, anchors]]]\n";
        var ex = Assert.Throws<InvalidDataException>(() => new YoloModel(YoloModelConfig.Parse(yaml, "tiny.yaml")));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Missing_keys_and_unknown_builtins_are_named()
    {
        var ex = Assert.Throws<InvalidDataException>(() => YoloModelConfig.Parse("nc: 1\ndepth_multiple: 1\nwidth_multiple: 1\nbackbone: []\nhead: []\n", "m.yaml"));
        Assert.Contains("m.yaml: missing key 'anchors'", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => YoloModelConfig.Builtin("yolov5x"));
        Assert.Contains("no built-in 'yolov5x'; built-in: yolov5n, yolov5s", ex2.Message);
    }
}
