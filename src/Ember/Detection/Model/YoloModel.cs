using System.Globalization;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Detection.Model;

/// <summary>
/// A YOLO detector built from a model definition (<see cref="YoloModelConfig"/>, YOLOv5's yaml format) as YOLOv5's
/// parse_model builds it: each row's number scaled by depth_multiple (C3 takes it as its bottleneck count, other modules
/// repeat in a Sequential), output channels by width_multiple, input channels from the rows named in <c>from</c>.
/// Layers live in <c>model.0</c>, <c>model.1</c>, … and the last one must be Detect, so <c>yolov5n.yaml</c> gives the
/// same state dict as <see cref="YoloV5"/> with <see cref="YoloSize.N"/>. Modules: Conv [c2, k, s, p], C3 [c2, shortcut],
/// Bottleneck [c2, shortcut], SPPF [c2, k], Focus [c2, k, s], nn.Upsample [None, scale, mode], Concat [1],
/// Detect [nc, anchors]. Forward returns what <see cref="YoloV5"/>'s does (raw maps flattened in training, decoded boxes in eval).
/// </summary>
public sealed class YoloModel : YoloDetector
{
    readonly ModuleList model;
    readonly int[][] inputs;
    readonly bool[] keep;
    readonly int maxStride;

    /// <summary>The detection head (the last layer).</summary>
    public override DetectHead Detect { get; }

    /// <inheritdoc/>
    public override string ModelName => Path.GetFileNameWithoutExtension(Config.Source);

    /// <summary>The definition the model was built from.</summary>
    public YoloModelConfig Config { get; }

    /// <summary>The layer count.</summary>
    public int LayerCount => inputs.Length;

    /// <summary>The layers whose outputs layer <paramref name="i"/> takes, as absolute indices (−1 is the model's input).</summary>
    public IReadOnlyList<int> InputsOf(int i) => inputs[i];

    /// <summary>
    /// Builds the model; <paramref name="numClasses"/> overrides the definition's nc (as YOLOv5's --data does);
    /// <paramref name="biasPrior"/> false leaves the head's biases at their plain initialization.
    /// </summary>
    public YoloModel(YoloModelConfig config, int? numClasses = null, int inChannels = 3, bool biasPrior = true)
    {
        Config = config;
        int nc = numClasses ?? config.NumClasses;
        if (nc < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), nc, $"{config.Source}: expected at least one class, got {nc}");
        var size = new YoloSize(Path.GetFileNameWithoutExtension(config.Source), config.DepthMultiple, config.WidthMultiple);
        int count = config.Layers.Count;
        var channels = new int[count];
        var strides = new double[count];
        var factories = new Func<Module>[count];
        inputs = new int[count][];
        keep = new bool[count];
        int detectAt = -1;
        for (int i = 0; i < count; i++)
        {
            var spec = config.Layers[i];
            string where = $"{config.Source}:{spec.Line}: layer {i} ({spec.Module})";
            inputs[i] = [.. spec.From.Select(f => f < 0 ? i + f : f)];
            foreach (int j in inputs[i]) if (j >= 0 && j != i - 1) keep[j] = true;
            int C(int j) => j < 0 ? inChannels : channels[j];
            double S(int j) => j < 0 ? 1 : strides[j];
            int c1 = C(inputs[i][0]);
            double stride = S(inputs[i][0]);
            var a = spec.Args;
            string? Arg(int k) => k < a.Count && a[k] is not ("None" or "null" or "~" or "") ? a[k] : null;
            int IntArg(int k, int fallback) => Arg(k) is string t ? ParseInt(t, where, k) : fallback;
            bool BoolArg(int k, bool fallback) => Arg(k) switch
            {
                null => fallback,
                "True" or "true" => true,
                "False" or "false" => false,
                var t => throw new InvalidDataException($"{where}: argument {k} must be True or False, got '{t}'"),
            };
            void MaxArgs(int n)
            {
                if (a.Count > n) throw new InvalidDataException($"{where}: takes at most {n} arguments, got {a.Count} ([{string.Join(", ", a)}])");
            }
            void SingleInput()
            {
                if (inputs[i].Length != 1) throw new InvalidDataException($"{where}: takes one input, got 'from' [{string.Join(", ", spec.From)}]");
            }
            int c2 = c1, n = size.Repeats(spec.Number);
            Func<Module> make;
            switch (spec.Module)
            {
                case "Conv":
                {
                    SingleInput(); MaxArgs(4);
                    int k = IntArg(1, 1), s = IntArg(2, 1);
                    int? p = Arg(3) is null ? null : IntArg(3, 0);
                    int cin = c1, cout = c2 = size.Channels(IntArg(0, 0));
                    make = () => new ConvBnSiLU(cin, cout, k, s, p);
                    stride *= Math.Pow(s, n);
                    break;
                }
                case "C3":
                {
                    SingleInput(); MaxArgs(2);
                    bool shortcut = BoolArg(1, true);
                    int cin = c1, cout = c2 = size.Channels(IntArg(0, 0)), bottlenecks = n;
                    make = () => new C3(cin, cout, bottlenecks, shortcut);
                    n = 1;
                    break;
                }
                case "Bottleneck":
                {
                    SingleInput(); MaxArgs(2);
                    bool shortcut = BoolArg(1, true);
                    int cin = c1, cout = c2 = size.Channels(IntArg(0, 0));
                    make = () => new CspBottleneck(cin, cout, shortcut);
                    break;
                }
                case "SPPF":
                {
                    SingleInput(); MaxArgs(2);
                    int k = IntArg(1, 5), cin = c1, cout = c2 = size.Channels(IntArg(0, 0));
                    make = () => new Sppf(cin, cout, k);
                    break;
                }
                case "Focus":
                {
                    SingleInput(); MaxArgs(3);
                    int k = IntArg(1, 1), s = IntArg(2, 1), cin = c1, cout = c2 = size.Channels(IntArg(0, 0));
                    make = () => new Focus(cin, cout, k, s);
                    stride *= Math.Pow(2 * s, n);
                    break;
                }
                case "nn.Upsample":
                {
                    SingleInput(); MaxArgs(3);
                    if (Arg(0) is not null) throw new InvalidDataException($"{where}: only a scale factor is supported (size must be None), got size '{a[0]}'");
                    double scale = Arg(1) is string t && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0
                        ? v : throw new InvalidDataException($"{where}: argument 1 must be a positive scale factor, got '{Arg(1)}'");
                    var mode = Arg(2)?.Trim('\'', '"') switch
                    {
                        null or "nearest" => InterpolationMode.Nearest,
                        "bilinear" => InterpolationMode.Bilinear,
                        var m => throw new InvalidDataException($"{where}: mode must be 'nearest' or 'bilinear', got '{m}'"),
                    };
                    make = () => new Upsample(scale, mode);
                    stride /= Math.Pow(scale, n);
                    break;
                }
                case "Concat":
                {
                    MaxArgs(1);
                    if (IntArg(0, 1) != 1) throw new InvalidDataException($"{where}: only dim 1 (channels) is supported, got {a[0]}");
                    c2 = 0;
                    foreach (int j in inputs[i])
                    {
                        c2 += C(j);
                        if (S(j) != stride) throw new InvalidDataException($"{where}: inputs have different strides ({string.Join(", ", inputs[i].Select(S))}); their sizes would not match");
                    }
                    make = () => new Concat(1);
                    break;
                }
                case "Detect":
                {
                    MaxArgs(2);
                    if (i != count - 1) throw new InvalidDataException($"{where}: Detect must be the last layer (layer {count - 1}), it is layer {i}");
                    int detectClasses = Arg(0) is null or "nc" ? nc : IntArg(0, nc);
                    if (Arg(1) is not (null or "anchors")) throw new InvalidDataException($"{where}: argument 1 must be the name anchors (the definition's anchors), got '{a[1]}'");
                    if (config.Anchors.Length != inputs[i].Length)
                        throw new InvalidDataException($"{where}: {inputs[i].Length} input levels but {config.Anchors.Length} anchor rows; they must agree");
                    int[] levelChannels = [.. inputs[i].Select(C)];
                    double[] levelStrides = [.. inputs[i].Select(S)];
                    foreach (double ls in levelStrides)
                        if (ls < 1 || ls != Math.Floor(ls)) throw new InvalidDataException($"{where}: input levels have strides {string.Join(", ", levelStrides)}; each must be a whole number of pixels");
                    make = () => new DetectHead(detectClasses, config.Anchors, levelChannels, levelStrides, biasPrior);
                    detectAt = i;
                    c2 = 0;
                    break;
                }
                default:
                    throw new InvalidDataException($"{where}: unknown module; supported: Conv, C3, Bottleneck, SPPF, Focus, nn.Upsample, Concat, Detect");
            }
            if (n > 1 && spec.Module is "Concat" or "Detect") throw new InvalidDataException($"{where}: number must be 1, got {spec.Number}");
            // parse_model repeats the module with the same arguments, so only a block that keeps its width can repeat
            if (n > 1 && c1 != c2) throw new InvalidDataException($"{where}: number {spec.Number} repeats a block from {c1} to {c2} channels; a repeated block must keep its width");
            var single = make;
            factories[i] = n > 1 ? () => new Sequential([.. Enumerable.Range(0, n).Select(_ => single())]) : single;
            channels[i] = c2;
            strides[i] = stride;
        }
        if (detectAt < 0) throw new InvalidDataException($"{config.Source}: the last layer must be Detect, got {config.Layers[^1].Module}");
        // YoloV5's constructor creates the stem, then the head, then the other layers: the same order here gives the
        // same weights for the same seed.
        var layers = new Module[count];
        layers[0] = factories[0]();
        Detect = (DetectHead)factories[detectAt]();
        for (int i = 1; i < count; i++) layers[i] = i == detectAt ? Detect : factories[i]();
        model = RegisterModule(nameof(model), new ModuleList(layers));
        maxStride = (int)Math.Round(Detect.Strides.Max());
    }

    /// <summary>Builds a shipped definition (yolov5n, yolov5s) or reads a .yaml file.</summary>
    public static YoloModel FromYaml(string nameOrPath, int? numClasses = null, int inChannels = 3, bool biasPrior = true)
        => new(File.Exists(nameOrPath) ? YoloModelConfig.Load(nameOrPath) : YoloModelConfig.Builtin(nameOrPath), numClasses, inChannels, biasPrior);

    /// <summary>The raw per-level maps (N, na, H/s, W/s, 5 + nc), in any mode.</summary>
    public override Tensor[] ForwardRaw(Tensor x)
    {
        if (x.Rank != 4 || x.Size(2) % maxStride != 0 || x.Size(3) % maxStride != 0)
            throw new ArgumentException($"YoloModel ({Config.Source}): expected input [N, C, H, W] with H and W multiples of {maxStride}, got {x.Shape}");
        var outputs = new Tensor?[inputs.Length];
        Tensor current = x;
        Tensor In(int j) => j < 0 ? x : outputs[j] ?? current;
        for (int i = 0; i < inputs.Length - 1; i++)
        {
            var layer = model[i];
            current = layer is Concat cat
                ? cat.Forward([.. inputs[i].Select(In)])
                : layer.Call(In(inputs[i][0]));
            if (keep[i]) outputs[i] = current;
        }
        return Detect.ForwardLevels([.. inputs[^1].Select(In)]);
    }

    static int ParseInt(string text, string where, int k)
        => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new InvalidDataException($"{where}: argument {k} must be an integer, got '{text}'");

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"cfg={Config.Source}, layers={inputs.Length}";
}
