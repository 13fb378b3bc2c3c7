using System.Text.RegularExpressions;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Nn.Layers.Recurrent;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn;

/// <summary>
/// The second inputs users get wrong: every two-input loss of <c>Ember.Nn.Losses</c> given a target with one sample too
/// many, an extra or a missing dim, the other kind of dtype (class indices for probabilities and back) and an empty
/// batch; and the masks and states of the sequence modules with wrong shapes. A refusal must be an
/// <see cref="ArgumentException"/> (or, for a class index, an <see cref="IndexOutOfRangeException"/>) that names the
/// op and what came (the target's shape or dtype); an accepted call must reduce to a 0-D loss, as PyTorch's mean does.
/// </summary>
public class SecondInputSweepTests
{
    /// <summary>A loss, its input and a valid target (indices when <see cref="Indices"/>, else floats in (0, 1)).</summary>
    public sealed record LossSpec(Func<Loss> Create, int[] Input, int[] Target, bool Indices = false);

    public static readonly IReadOnlyDictionary<string, LossSpec> Losses = new Dictionary<string, LossSpec>
    {
        ["BCELoss"] = new(() => new BCELoss(), [4, 3], [4, 3]),
        ["BCEWithLogitsLoss"] = new(() => new BCEWithLogitsLoss(), [4, 3], [4, 3]),
        ["CrossEntropyLoss (indices)"] = new(() => new CrossEntropyLoss(), [4, 3], [4], Indices: true),
        ["CrossEntropyLoss (probabilities)"] = new(() => new CrossEntropyLoss(), [4, 3], [4, 3]),
        ["FocalLoss"] = new(() => new FocalLoss(), [4, 3], [4, 3]),
        ["HuberLoss"] = new(() => new HuberLoss(), [4, 3], [4, 3]),
        ["IoULoss"] = new(() => new IoULoss(), [4, 4], [4, 4]),
        ["KLDivLoss"] = new(() => new KLDivLoss(), [4, 3], [4, 3]),
        ["L1Loss"] = new(() => new L1Loss(), [4, 3], [4, 3]),
        ["MAPELoss"] = new(() => new MAPELoss(), [4, 3], [4, 3]),
        ["MSELoss"] = new(() => new MSELoss(), [4, 3], [4, 3]),
        ["MultiLabelSoftMarginLoss"] = new(() => new MultiLabelSoftMarginLoss(), [4, 3], [4, 3]),
        ["NLLLoss"] = new(() => new NLLLoss(), [4, 3], [4], Indices: true),
        ["PoissonNLLLoss"] = new(() => new PoissonNLLLoss(), [4, 3], [4, 3]),
        ["SMAPELoss"] = new(() => new SMAPELoss(), [4, 3], [4, 3]),
        ["SigmoidFocalLoss"] = new(() => new SigmoidFocalLoss(reduction: Reduction.Mean), [4, 3], [4, 3]),
        ["SmoothL1Loss"] = new(() => new SmoothL1Loss(), [4, 3], [4, 3]),
        ["SoftMarginLoss"] = new(() => new SoftMarginLoss(), [4, 3], [4, 3]),
        ["WeightedLoss"] = new(() => new WeightedLoss().Add("mse", new MSELoss()).Add("l1", new L1Loss(), 0.5), [4, 3], [4, 3]),
    };

    static Tensor Floats(int[] shape) => Torch.Rand(shape, generator: new Generator(2)) * 0.8 + 0.1;

    static Tensor Target(int[] shape, bool indices) => indices ? Torch.Zeros(shape, DType.Int64) + 1 : Floats(shape);

    // "mse_loss: …", "CrossEntropyLoss: …", "F.cross_entropy: …"
    static readonly Regex OpLabel = new(@"^[A-Za-z_][\w.]*( \([\w.]+\))?: ", RegexOptions.CultureInvariant);

    public static TheoryData<string> LossNames => [.. Losses.Keys];

    [Fact]
    public void Every_two_input_loss_has_a_spec()
    {
        var losses = typeof(Loss).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && typeof(Loss).IsAssignableFrom(t) && t.GetConstructors().Any(c => c.GetParameters().All(p => p.IsOptional)))
            .Select(t => t.Name);
        Assert.Empty(losses.Except(Losses.Keys.Select(k => k.Split(' ')[0])));
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void A_wrong_target_is_refused_by_name_and_an_accepted_one_gives_a_0D_loss(string name)
    {
        var spec = Losses[name];
        var t = spec.Target;
        var probes = new List<(string What, int[] Input, int[] Target, bool Indices)>
        {
            ("one sample too many", spec.Input, [t[0] + 1, .. t[1..]], spec.Indices),
            ("an extra trailing dim", spec.Input, [.. t, 2], spec.Indices),
            ("a 0-D target", spec.Input, [], spec.Indices),
            ("the other dtype", spec.Input, spec.Indices ? spec.Input : t, !spec.Indices),
            ("an empty batch", [0, .. spec.Input[1..]], [0, .. t[1..]], spec.Indices),
        };
        if (t.Length > 1) probes.Add(("a missing dim", spec.Input, t[..^1], spec.Indices));
        var problems = new List<string>();
        foreach (var (what, inputShape, targetShape, indices) in probes)
        {
            var input = Floats(inputShape);
            var target = Target(targetShape, indices);
            var where = $"{name}: {what} (input {new Shape(inputShape)}, target {target.Shape} {target.DType.TorchName()})";
            try
            {
                var loss = spec.Create().Forward(input, target);
                if (loss.Rank != 0) problems.Add($"{where}: accepted, but the loss has shape {loss.Shape}, not a 0-D mean");
            }
            catch (Exception e)
            {
                bool dtypeProbe = what == "the other dtype";
                string came = dtypeProbe ? target.DType.TorchName() : target.Shape.ToString();
                if (e is not (ArgumentException or IndexOutOfRangeException) && !(dtypeProbe && e is NotSupportedException))
                    problems.Add($"{where}: {e.GetType().Name} (expected an ArgumentException): {e.Message}\n{e.StackTrace}");
                else if (!OpLabel.IsMatch(e.Message))
                    problems.Add($"{where}: the message does not name the op first: {e.Message}");
                else if (!e.Message.Contains(came, StringComparison.Ordinal) && !(dtypeProbe && e.Message.Contains(input.DType.TorchName(), StringComparison.Ordinal)))
                    problems.Add($"{where}: the message does not say what came ({came}): {e.Message}");
            }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problem(s):\n" + string.Join("\n", problems));
    }

    /// <summary>The second inputs of the sequence modules: states and masks of the wrong shape.</summary>
    public static readonly IReadOnlyDictionary<string, (Action Call, string Came)> States = new Dictionary<string, (Action, string)>
    {
        ["LSTM h0 of the wrong hidden size"] = (() => new LSTM(4, 3).Forward(Torch.Zeros(5, 2, 4), (Torch.Zeros(1, 2, 4), Torch.Zeros(1, 2, 3))), "[1, 2, 4]"),
        ["LSTM c0 of the wrong batch"] = (() => new LSTM(4, 3).Forward(Torch.Zeros(5, 2, 4), (Torch.Zeros(1, 2, 3), Torch.Zeros(1, 3, 3))), "[1, 3, 3]"),
        ["GRU h0 of the wrong layers"] = (() => new GRU(4, 3).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(2, 2, 3)), "[2, 2, 3]"),
        ["RNN h0 2-D for a batched input"] = (() => new RNN(4, 3).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(2, 3)), "[2, 3]"),
        ["LSTMCell hx of the wrong batch"] = (() => new LSTMCell(4, 3).Forward(Torch.Zeros(2, 4), (Torch.Zeros(3, 3), Torch.Zeros(3, 3))), "[3, 3]"),
        ["GRUCell hx of the wrong size"] = (() => new GRUCell(4, 3).Forward(Torch.Zeros(2, 4), Torch.Zeros(2, 4)), "[2, 4]"),
        ["attention key of another width"] = (() => new MultiheadAttention(4, 2).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(6, 2, 3), Torch.Zeros(6, 2, 3)), "[6, 2, 3]"),
        ["attention key and value of different lengths"] = (() => new MultiheadAttention(4, 2).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(6, 2, 4), Torch.Zeros(7, 2, 4)), "[7, 2, 4]"),
        ["attention key padding mask of the wrong length"] = (() => new MultiheadAttention(4, 2).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(6, 2, 4), Torch.Zeros(6, 2, 4), keyPaddingMask: Torch.Zeros([2, 5], DType.Bool)), "[2, 5]"),
        ["encoder layer mask of the wrong size"] = (() => new TransformerEncoderLayer(4, 2, dimFeedforward: 8, dropout: 0).Forward(Torch.Zeros(5, 2, 4), Torch.Zeros(4, 4), null), "[4, 4]"),
        ["encoder padding mask of the wrong batch"] = (() => new TransformerEncoderLayer(4, 2, dimFeedforward: 8, dropout: 0).Forward(Torch.Zeros(5, 2, 4), null, Torch.Zeros([3, 5], DType.Bool)), "[3, 5]"),
    };

    public static TheoryData<string> StateNames => [.. States.Keys];

    [Theory]
    [MemberData(nameof(StateNames))]
    public void A_state_or_mask_of_the_wrong_shape_is_refused_by_name(string name)
    {
        var (call, came) = States[name];
        var e = Record.Exception(call);
        Assert.True(e is ArgumentException, $"{name}: {(e is null ? "accepted" : $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}")}");
        Assert.True(OpLabel.IsMatch(e!.Message), $"{name}: the message does not name the op first: {e.Message}");
        Assert.True(e.Message.Contains(came, StringComparison.Ordinal), $"{name}: the message does not say what came ({came}): {e.Message}");
    }
}
