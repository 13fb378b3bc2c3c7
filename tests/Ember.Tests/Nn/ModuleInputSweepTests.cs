using Ember.Nn.Layers.Recurrent;
using System.Text.RegularExpressions;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>
/// Every public module of <c>Ember.Nn.Layers</c> fed the inputs users get wrong: every rank from 0-D to 5-D, one
/// channel or feature too many, an int64 or bool tensor, an empty batch; in training and in eval mode, alone and inside
/// a model. A call PyTorch refuses must fail with an <see cref="ArgumentException"/> that names the module path and
/// type, the op, and what came (the input's shape or dtype); a call that succeeds must give PyTorch's output shape.
/// Never a NullReferenceException, InvalidCastException, a kernel's IndexOutOfRangeException or a kernel's own
/// ArgumentException without the op's name. (The functional ops are reached through the modules, each a call into F.)
/// </summary>
public class ModuleInputSweepTests
{
    /// <summary>
    /// A module and the inputs PyTorch accepts: <see cref="Valid"/> (its output defines the others'), the accepted
    /// <see cref="Ranks"/> (an input of another rank is <see cref="Valid"/> with leading dims of 2 added or removed,
    /// as is an accepted one unless <see cref="Inputs"/> gives it), and the output shape of an accepted input
    /// (<see cref="Expect"/>, default: the valid output with the same leading dims added or removed).
    /// <see cref="Channel"/> is the dim whose size the module checks (null: none); <see cref="Lenient"/> modules
    /// (PyTorch warns rather than refuses) may also accept other ranks and channel counts, keeping the input's shape.
    /// </summary>
    public sealed record Spec(Func<Module> Create, int[] Valid, int[] Ranks, int? Channel = null)
    {
        public Func<int, int[]?>? Inputs { get; init; }
        public Func<int[], int[]>? Expect { get; init; }
        public bool Lenient { get; init; }
        public DType InputDType { get; init; } = DType.Float32;
        /// <summary>
        /// A dtype the module refuses must be refused in the name of the module's own op (its functional form:
        /// <c>dropout</c>, <c>log_sigmoid</c>), not of an op it is built from (<c>mul</c>, <c>neg</c>, <c>abs</c>).
        /// </summary>
        public bool NamesItsOp { get; init; }
    }

    static readonly int[] AnyRank = [0, 1, 2, 3, 4, 5];
    static Spec Elementwise(Func<Module> create) => new(create, [2, 3, 4], AnyRank) { Expect = s => s, NamesItsOp = true };

    /// <summary>Every public concrete module type in Ember.Nn.Layers (and .Recurrent) must have a spec here.</summary>
    public static readonly IReadOnlyDictionary<Type, Spec> Specs = new Dictionary<Type, Spec>
    {
        // elementwise: any rank, the input's shape
        [typeof(CELU)] = Elementwise(() => new CELU()),
        [typeof(ELU)] = Elementwise(() => new ELU()),
        [typeof(GELU)] = Elementwise(() => new GELU()),
        [typeof(Hardsigmoid)] = Elementwise(() => new Hardsigmoid()),
        [typeof(Hardswish)] = Elementwise(() => new Hardswish()),
        [typeof(Hardtanh)] = Elementwise(() => new Hardtanh()),
        [typeof(Identity)] = Elementwise(() => new Identity()),
        [typeof(LeakyReLU)] = Elementwise(() => new LeakyReLU()),
        [typeof(LogSigmoid)] = Elementwise(() => new LogSigmoid()),
        [typeof(Mish)] = Elementwise(() => new Mish()),
        [typeof(ReLU)] = Elementwise(() => new ReLU()),
        [typeof(ReLU6)] = Elementwise(() => new ReLU6()),
        [typeof(SELU)] = Elementwise(() => new SELU()),
        [typeof(SiLU)] = Elementwise(() => new SiLU()),
        [typeof(Sigmoid)] = Elementwise(() => new Sigmoid()),
        [typeof(Softplus)] = Elementwise(() => new Softplus()),
        [typeof(Softsign)] = Elementwise(() => new Softsign()),
        [typeof(Tanh)] = Elementwise(() => new Tanh()),
        [typeof(RReLU)] = Elementwise(() => new RReLU()),
        [typeof(PReLU)] = Elementwise(() => new PReLU()),
        [typeof(Dropout)] = Elementwise(() => new Dropout(0.5)),
        [typeof(AlphaDropout)] = Elementwise(() => new AlphaDropout(0.5)),
        [typeof(GaussianDropout)] = Elementwise(() => new GaussianDropout(0.5)),
        [typeof(UniformDropout)] = Elementwise(() => new UniformDropout(0.1)),
        // timm's drop_path draws one value per sample: a batch dim is needed (Ember takes a 0-D input as one sample)
        [typeof(DropPath)] = new(() => new DropPath(0.5), [2, 3, 4], [1, 2, 3, 4, 5]) { Expect = s => s, Lenient = true, NamesItsOp = true },

        // along one dim: softmax's dim 1 must exist
        [typeof(Softmax)] = new(() => new Softmax(1), [2, 3, 4], [2, 3, 4, 5]) { Expect = s => s, NamesItsOp = true },
        [typeof(LogSoftmax)] = new(() => new LogSoftmax(1), [2, 3, 4], [2, 3, 4, 5]) { Expect = s => s, NamesItsOp = true },
        [typeof(Softmin)] = new(() => new Softmin(1), [2, 3, 4], [2, 3, 4, 5]) { Expect = s => s, NamesItsOp = true },

        // the last dim is the features; any leading dims
        [typeof(Linear)] = new(() => new Linear(4, 3), [2, 4], [1, 2, 3, 4, 5], Channel: 1),
        [typeof(LayerNorm)] = new(() => new LayerNorm(4), [2, 4], [1, 2, 3, 4, 5], Channel: 1),

        // (N, C, spatial…) or unbatched (C, spatial…)
        [typeof(Conv1d)] = new(() => new Conv1d(4, 3, 3), [2, 4, 8], [2, 3], Channel: 1),
        [typeof(Conv2d)] = new(() => new Conv2d(4, 3, 3), [2, 4, 8, 8], [3, 4], Channel: 1),
        [typeof(Conv3d)] = new(() => new Conv3d(4, 3, 3), [2, 4, 5, 5, 5], [4, 5], Channel: 1),
        [typeof(ConvTranspose2d)] = new(() => new ConvTranspose2d(4, 3, 3), [2, 4, 5, 5], [3, 4], Channel: 1),
        [typeof(ConvTranspose3d)] = new(() => new ConvTranspose3d(4, 3, 3), [2, 4, 4, 4, 4], [4, 5], Channel: 1),
        [typeof(MaxPool1d)] = new(() => new MaxPool1d(2), [2, 4, 8], [2, 3]),
        [typeof(MaxPool2d)] = new(() => new MaxPool2d(2), [2, 4, 8, 8], [3, 4]),
        [typeof(MaxPool3d)] = new(() => new MaxPool3d(2), [2, 4, 4, 4, 4], [4, 5]),
        [typeof(AvgPool1d)] = new(() => new AvgPool1d(2), [2, 4, 8], [2, 3]),
        [typeof(AvgPool2d)] = new(() => new AvgPool2d(2), [2, 4, 8, 8], [3, 4]),
        [typeof(AvgPool3d)] = new(() => new AvgPool3d(2), [2, 4, 4, 4, 4], [4, 5]),
        [typeof(AdaptiveAvgPool2d)] = new(() => new AdaptiveAvgPool2d(2), [2, 4, 8, 8], [3, 4]),
        [typeof(AdaptiveMaxPool2d)] = new(() => new AdaptiveMaxPool2d(2), [2, 4, 8, 8], [3, 4]),
        [typeof(Unfold)] = new(() => new Unfold(2), [2, 2, 4, 4], [3, 4]),
        [typeof(Fold)] = new(() => new Fold((4, 4), (2, 2)), [2, 8, 9], [2, 3], Channel: 1),
        [typeof(InstanceNorm1d)] = new(() => new InstanceNorm1d(4), [2, 4, 5], [2, 3], Channel: 1) { Lenient = true },
        [typeof(InstanceNorm2d)] = new(() => new InstanceNorm2d(4), [2, 4, 5, 5], [3, 4], Channel: 1) { Lenient = true },

        // batch norms: (N, C) or (N, C, L) for 1d, (N, C, H, W) for 2d; (N, C, *) for SyncBatchNorm and GroupNorm
        [typeof(BatchNorm1d)] = new(() => new BatchNorm1d(4), [2, 4, 5], [2, 3], Channel: 1) { Inputs = r => r == 2 ? [2, 4] : null, Expect = s => s },
        [typeof(BatchNorm2d)] = new(() => new BatchNorm2d(4), [2, 4, 5, 5], [4], Channel: 1),
        [typeof(CrossMiniBatchNorm2d)] = new(() => new CrossMiniBatchNorm2d(4, 2), [2, 4, 5, 5], [4], Channel: 1),
        [typeof(SyncBatchNorm)] = new(() => new SyncBatchNorm(4), [2, 4, 5, 5], [2, 3, 4, 5], Channel: 1)
        { Inputs = r => r switch { 2 => [2, 4], 3 => [2, 4, 5], 5 => [2, 4, 3, 3, 3], _ => null }, Expect = s => s },
        [typeof(GroupNorm)] = new(() => new GroupNorm(2, 4), [2, 4, 5, 5], [2, 3, 4, 5], Channel: 1)
        { Inputs = r => r switch { 2 => [2, 4], 3 => [2, 4, 5], 5 => [2, 4, 3, 3, 3], _ => null }, Expect = s => s },

        // channel-wise noise: PyTorch warns for other ranks and goes on
        [typeof(Dropout2d)] = new(() => new Dropout2d(0.5), [2, 4, 5, 5], [3, 4]) { Expect = s => s, Lenient = true, NamesItsOp = true },
        [typeof(DropBlock2d)] = new(() => new DropBlock2d(0.5, 3), [2, 4, 8, 8], [4]) { Expect = s => s, NamesItsOp = true },

        // reshaping
        [typeof(Flatten)] = new(() => new Flatten(), [2, 3, 4], [2, 3, 4, 5]) { Expect = s => [s[0], s[1..].Aggregate(1, (a, b) => a * b)] },
        [typeof(Unflatten)] = new(() => new Unflatten(1, 2, 2), [2, 4], [2, 3, 4, 5])
        { Inputs = r => r >= 2 ? [2, 4, .. Enumerable.Repeat(3, r - 2)] : null, Expect = s => [s[0], 2, 2, .. s[2..]] },
        [typeof(PixelShuffle)] = new(() => new PixelShuffle(2), [2, 8, 3, 3], [3, 4, 5], Channel: 1),
        [typeof(PixelUnshuffle)] = new(() => new PixelUnshuffle(2), [2, 2, 6, 6], [3, 4, 5]),
        // interpolation over the dims after (N, C): 1-D for 3-D input, 2-D for 4-D, 3-D for 5-D
        [typeof(Upsample)] = new(() => new Upsample(2.0), [2, 4, 5, 5], [3, 4, 5]) { Expect = s => [s[0], s[1], .. s[2..].Select(x => 2 * x)] },

        // sequences: (L, N, E) or unbatched (L, E); cells (N, E) or (E)
        [typeof(Embedding)] = new(() => new Embedding(10, 3), [2, 5], AnyRank) { InputDType = DType.Int64, Expect = s => [.. s, 3] },
        [typeof(RNN)] = new(() => new RNN(4, 3), [5, 2, 4], [2, 3], Channel: 2),
        [typeof(LSTM)] = new(() => new LSTM(4, 3), [5, 2, 4], [2, 3], Channel: 2),
        [typeof(GRU)] = new(() => new GRU(4, 3), [5, 2, 4], [2, 3], Channel: 2),
        [typeof(RNNCell)] = new(() => new RNNCell(4, 3), [2, 4], [1, 2], Channel: 1),
        [typeof(LSTMCell)] = new(() => new LSTMCell(4, 3), [2, 4], [1, 2], Channel: 1),
        [typeof(GRUCell)] = new(() => new GRUCell(4, 3), [2, 4], [1, 2], Channel: 1),
        [typeof(MultiheadAttention)] = new(() => new MultiheadAttention(4, 2), [5, 2, 4], [2, 3], Channel: 2),
        [typeof(TransformerEncoderLayer)] = new(() => new TransformerEncoderLayer(4, 2, dimFeedforward: 8, dropout: 0), [5, 2, 4], [2, 3], Channel: 2),
        [typeof(TransformerEncoder)] = new(() => new TransformerEncoder(new TransformerEncoderLayer(4, 2, dimFeedforward: 8, dropout: 0), 1), [5, 2, 4], [2, 3], Channel: 2),
        // Ember's own (no PyTorch module): the last dim is the model width
        [typeof(PositionalEncoding)] = new(() => new PositionalEncoding(4, dropout: 0, maxLen: 16), [5, 2, 4], [3], Channel: 2) { Expect = s => s, Lenient = true },
        [typeof(LearnedPositionalEmbedding)] = new(() => new LearnedPositionalEmbedding(16, 4), [2, 5, 4], [3], Channel: 2) { Expect = s => s, Lenient = true },
    };

    /// <summary>One input to try: what it is, its shape and dtype, and whether PyTorch accepts it.</summary>
    public sealed record Probe(string What, int[] Shape, DType DType, bool Accepted, int[]? Expected);

    static int[] Leading(int[] shape, int rank) => rank <= shape.Length ? shape[(shape.Length - rank)..] : [.. Enumerable.Repeat(2, rank - shape.Length), .. shape];

    static int[] ExpectedFor(Spec spec, int[] input, int[] validOutput)
        => spec.Expect?.Invoke(input) ?? Leading(validOutput, validOutput.Length + input.Length - spec.Valid.Length);

    /// <summary>The wrong (and the right but unusual) inputs for one module.</summary>
    public static IEnumerable<Probe> Probes(Spec spec, int[] validOutput)
    {
        foreach (int rank in AnyRank)
        {
            bool accepted = spec.Ranks.Contains(rank);
            var shape = (accepted ? spec.Inputs?.Invoke(rank) : null) ?? Leading(spec.Valid, rank);
            if (rank != spec.Valid.Length || !shape.SequenceEqual(spec.Valid))
                yield return new($"{rank}-D", shape, spec.InputDType, accepted, accepted ? ExpectedFor(spec, shape, validOutput) : null);
        }
        if (spec.Channel is int c)
        {
            var shape = (int[])spec.Valid.Clone();
            shape[c]++;
            yield return new("one channel too many", shape, spec.InputDType, false, null);
        }
        var other = spec.InputDType == DType.Float32 ? new[] { DType.Int64, DType.Bool } : [DType.Float32];
        foreach (var dtype in other) yield return new(dtype.TorchName(), spec.Valid, dtype, false, null);
        if (spec.Valid.Length > 1)
        {
            var empty = (int[])spec.Valid.Clone();
            empty[0] = 0;
            int[] expected = spec.Expect?.Invoke(empty) ?? [0, .. validOutput[1..]];
            yield return new("empty", empty, spec.InputDType, true, expected);
        }
    }

    static Tensor Input(int[] shape, DType dtype) => dtype switch
    {
        DType.Float32 => Torch.Randn(shape, generator: new Generator(1)),
        DType.Int64 => Torch.Zeros(shape, DType.Int64) + 1,
        _ => Torch.Zeros(shape, dtype),
    };

    // "conv2d: expected …", "Conv2d: …", "layer_norm: …", "RNN: …", "F.embedding: …"
    static readonly Regex OpLabel = new(@"^[A-Za-z_][\w.]*( \([\w.]+\))?: ", RegexOptions.CultureInvariant);

    public static TheoryData<string> ModuleNames => [.. Specs.Keys.Select(t => t.Name).Distinct().OrderBy(n => n, StringComparer.Ordinal)];

    [Fact]
    public void Every_public_module_has_a_spec()
    {
        var modules = typeof(Linear).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && typeof(Module).IsAssignableFrom(t) && t.Namespace is string ns && ns.StartsWith("Ember.Nn.Layers", StringComparison.Ordinal))
            .Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Empty(modules.Except(Specs.Keys.Select(t => t.Name)));
    }

    [Theory]
    [MemberData(nameof(ModuleNames))]
    public void A_wrong_input_is_refused_by_name_and_a_right_one_has_PyTorchs_shape(string name)
    {
        var spec = Specs.First(kv => kv.Key.Name == name).Value;
        var problems = new List<string>();
        foreach (bool training in new[] { true, false })
        {
            var probe = spec.Create();
            if (!training) probe.Eval();
            int[] validOutput;
            using (Torch.NoGrad()) validOutput = [.. probe.Call(Input(spec.Valid, spec.InputDType)).Shape];
            foreach (var p in Probes(spec, validOutput))
            {
                var mode = training ? "train" : "eval";
                // alone (the op's own message) and inside a model (the path and type in front)
                foreach (bool nested in new[] { false, true })
                {
                    var module = spec.Create();
                    if (!training) module.Eval();
                    Module caller = nested ? new Sequential(module) : module;
                    if (!training) caller.Eval();
                    var input = Input(p.Shape, p.DType);
                    var where = $"{name} ({mode}{(nested ? ", in a Sequential" : "")}) {p.What} {new Shape(p.Shape)}";
                    try
                    {
                        Tensor output;
                        using (Torch.NoGrad()) output = caller.Call(input);
                        bool shapeAllowed = p.Accepted || spec.Lenient || p.DType != spec.InputDType;
                        var expected = p.Expected ?? (spec.Lenient || p.DType != spec.InputDType ? ExpectedFor(spec, p.Shape, validOutput) : null);
                        if (!shapeAllowed) problems.Add($"{where}: accepted (PyTorch refuses it), output {output.Shape}");
                        else if (expected is not null && !output.Shape.SequenceEqual(expected))
                            problems.Add($"{where}: output {output.Shape}, PyTorch's would be {new Shape(expected)}");
                    }
                    catch (Exception e)
                    {
                        if (Problem(e, spec, name, nested, p, input) is string problem) problems.Add($"{where}: {problem}");
                    }
                }
            }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problem(s):\n" + string.Join("\n", problems));
    }

    /// <summary>What is wrong with <paramref name="e"/> as the error for this probe (null: nothing).</summary>
    static string? Problem(Exception e, Spec spec, string name, bool nested, Probe p, Tensor input)
    {
        bool dtypeProbe = p.What.StartsWith("torch.", StringComparison.Ordinal);
        // a dtype an op does not implement may be Ember's NotSupportedException (PyTorch's "not implemented for 'Bool'");
        // inside a model it arrives, like a shape error, as a ModuleException with the path in front
        if (e is not ArgumentException && !(dtypeProbe && e is NotSupportedException))
            return $"{e.GetType().Name} (expected an ArgumentException{(dtypeProbe ? " or NotSupportedException" : "")}): {e.Message}\n{e.StackTrace}";
        string detail = e.Message;
        if (nested)
        {
            var prefix = $"0 ({name}): ";
            if (e is not ModuleException m || !e.Message.StartsWith(prefix, StringComparison.Ordinal))
                return $"the message does not start with the module path '{prefix}': {e.Message}";
            detail = m.Detail;
        }
        if (!OpLabel.IsMatch(detail)) return $"the message does not name the op or module first: {detail}\n{e.StackTrace}";
        if (dtypeProbe && spec.NamesItsOp && !NamesOp(detail, name))
            return $"the message names another op than the module's own ({name}): {detail}";
        // a dtype mistake names the dtype; any other the input's shape
        string came = dtypeProbe ? input.DType.TorchName() : input.Shape.ToString();
        return detail.Contains(came, StringComparison.Ordinal) ? null : $"the message does not say what came ({came}): {detail}";
    }

    /// <summary>Whether the message's label is the module's op: "log_sigmoid: …" for LogSigmoid, "dropout: …" for Dropout.</summary>
    static bool NamesOp(string message, string moduleType)
    {
        static string Plain(string s) => s.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        string label = message[..message.IndexOf(": ", StringComparison.Ordinal)];
        if (label.StartsWith("F.", StringComparison.Ordinal)) label = label[2..];
        return Plain(label) == Plain(moduleType);
    }

    /// <summary>The elementwise modules whose op has no bool kernel, named by the first session that found them wrong.</summary>
    static readonly string[] RefuseBool = ["Dropout", "LogSigmoid", "Softmin", "Softsign"];

    public static TheoryData<string> OwnOpModules => [.. Specs.Where(kv => kv.Value.NamesItsOp).Select(kv => kv.Key.Name).OrderBy(n => n, StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(OwnOpModules))]
    public void A_bool_tensor_deep_in_a_model_is_refused_with_the_modules_path_and_op(string name)
    {
        var spec = Specs.First(kv => kv.Key.Name == name).Value;
        var input = Torch.Zeros(spec.Valid, DType.Bool);
        Exception? alone;
        try { using (Torch.NoGrad()) spec.Create().Call(input); alone = null; }
        catch (Exception e) { alone = e; }
        if (alone is null)
        {
            Assert.DoesNotContain(name, RefuseBool);
            return;
        }
        Assert.True(NamesOp(alone.Message, name), alone.Message);
        Assert.EndsWith(": not implemented for torch.bool", alone.Message.Split(';')[0], StringComparison.Ordinal);
        // a model whose second part is a model: the path of the module that refused it, then its type, then the op's words
        var model = new Sequential(new Identity(), new Sequential(new Identity(), spec.Create()));
        var error = Assert.IsType<ModuleException>(Record.Exception(() => { using (Torch.NoGrad()) model.Call(input); }), exactMatch: true);
        Assert.Equal($"1.1 ({name}): {alone.Message}", error.Message);
        Assert.Equal(["1", "1"], error.Path);
        Assert.Equal(name, error.ModuleType);
        Assert.Same(alone.GetType(), error.InnerException!.GetType());
    }
}
