using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>
/// The mistakes users make most, through the functional API and inside models: wrong rank, mismatched shapes, an
/// integer tensor given to a float op, an index out of range. Each must be an <see cref="ArgumentException"/> (or an
/// <see cref="IndexOutOfRangeException"/> for an index, as PyTorch's IndexError) whose message names the op or the
/// module path, what was expected and what came; never a bare kernel exception or a NullReferenceException.
/// </summary>
public class UserErrorMessageTests
{
    static Tensor Long(params long[] values) => Torch.Tensor(values);

    /// <summary>A case: the call, and the pieces its message must hold (the op or module path first).</summary>
    public sealed record Case(Action Call, params string[] Fragments);

    public static readonly IReadOnlyDictionary<string, Case> Cases = new Dictionary<string, Case>
    {
        // linear and matmul
        ["linear in_features"] = new(() => F.Linear(Torch.Zeros(2, 3), Torch.Zeros(4, 5)), "linear", "3", "5"),
        ["linear module in a model"] = new(() => new Sequential(new Linear(3, 4), new Linear(5, 2)).Call(Torch.Zeros(2, 3)), "1 (Linear)", "5", "4"),
        ["linear on an int tensor"] = new(() => F.Linear(Torch.Zeros([2, 3], DType.Int64), Torch.Zeros(4, 3)), "linear", "torch.float32", "torch.int64"),
        ["linear 0-d input"] = new(() => F.Linear(Torch.Scalar(1f), Torch.Zeros(4, 3)), "linear", "[]"),

        // convolution
        ["conv2d channels"] = new(() => F.Conv2d(Torch.Zeros(1, 3, 8, 8), Torch.Zeros(4, 2, 3, 3)), "conv2d", "3", "2"),
        ["conv2d rank 2 input"] = new(() => F.Conv2d(Torch.Zeros(8, 8), Torch.Zeros(4, 1, 3, 3)), "conv2d", "[8, 8]"),
        ["conv2d kernel larger than input"] = new(() => F.Conv2d(Torch.Zeros(1, 1, 2, 2), Torch.Zeros(1, 1, 3, 3)), "Conv2d", "kernel 3×3", "[1, 1, 2, 2]"),
        ["conv2d groups"] = new(() => F.Conv2d(Torch.Zeros(1, 4, 5, 5), Torch.Zeros(4, 2, 3, 3), groups: 3), "conv2d", "groups"),
        ["conv2d on an int tensor"] = new(() => F.Conv2d(Torch.Zeros([1, 1, 4, 4], DType.Int64), Torch.Zeros(1, 1, 3, 3)), "conv2d", "torch.int64"),
        ["conv2d module in a model"] = new(() => new Sequential(new Conv2d(3, 8, 3)).Call(Torch.Zeros(1, 1, 8, 8)), "0 (Conv2d)", "3", "1"),

        // normalization
        ["batchnorm channels"] = new(() => new Sequential(new Conv2d(3, 8, 3), new BatchNorm2d(4)).Call(Torch.Zeros(2, 3, 8, 8)), "1 (BatchNorm2d)", "4", "8"),
        ["batchnorm2d on 2-D input"] = new(() => new BatchNorm2d(4).Call(Torch.Zeros(2, 4)), "BatchNorm2d", "4D", "[2, 4]"),
        ["layer_norm shape"] = new(() => F.LayerNorm(Torch.Zeros(2, 3), [4]), "layer_norm", "[4]", "[2, 3]"),

        // embedding
        ["embedding index too large"] = new(() => new Embedding(10, 3).Call(Long(3, 10)), "embedding", "10"),
        ["embedding negative index"] = new(() => new Embedding(10, 3).Call(Long(-1)), "embedding", "-1"),
        ["embedding float indices"] = new(() => new Embedding(10, 3).Call(Torch.Zeros(2)), "embedding", "torch.float32"),
        ["embedding index in a model"] = new(() => new Sequential(new Embedding(10, 3)).Call(Long(12)), "embedding", "12"),

        // losses: target shapes, dtypes and class indices
        ["cross_entropy class out of range"] = new(() => F.CrossEntropy(Torch.Zeros(4, 3), Long(0, 1, 2, 3)), "3", "classes"),
        ["cross_entropy negative class"] = new(() => F.CrossEntropy(Torch.Zeros(2, 3), Long(0, -2)), "-2"),
        ["cross_entropy batch mismatch"] = new(() => F.CrossEntropy(Torch.Zeros(4, 3), Long(0, 1, 2, 0, 1)), "cross_entropy", "4", "5"),
        ["cross_entropy float target of the wrong shape"] = new(() => F.CrossEntropy(Torch.Zeros(4, 3), Torch.Zeros(4)), "cross_entropy", "[4]", "[4, 3]"),
        ["cross_entropy int input"] = new(() => F.CrossEntropy(Torch.Zeros([4, 3], DType.Int64), Long(0, 1, 2, 0)), "torch.int64"),
        ["nll_loss target rank"] = new(() => F.NllLoss(Torch.Zeros(4, 3), Torch.Zeros([4, 1], DType.Int64)), "nll_loss", "[4, 1]"),
        ["mse_loss shapes"] = new(() => F.MseLoss(Torch.Zeros(4, 3), Torch.Zeros(3, 4)), "mse_loss", "[4, 3]", "[3, 4]"),
        ["l1_loss shapes"] = new(() => F.L1Loss(Torch.Zeros(4), Torch.Zeros(5)), "l1_loss", "[4]", "[5]"),
        ["binary_cross_entropy shapes"] = new(() => F.BinaryCrossEntropy(Torch.Zeros(4), Torch.Zeros(5)), "binary_cross_entropy", "[4]", "[5]"),
        ["binary_cross_entropy_with_logits shapes"] = new(() => F.BinaryCrossEntropyWithLogits(Torch.Zeros(4), Torch.Zeros(4, 1)), "binary_cross_entropy_with_logits", "[4]", "[4, 1]"),

        // sizes whose weight cannot be a tensor: refused before allocating (4 × 2³¹ once wrapped to a negative dimension)
        ["lstm hidden size too large"] = new(() => new Ember.Nn.Layers.Recurrent.LSTM(4, 100000), "LSTM", "400000×100000", "more than a CPU tensor can hold"),
        ["lstm cell hidden size near int.MaxValue"] = new(() => new Ember.Nn.Layers.Recurrent.LSTMCell(4, int.MaxValue), "LSTMCell", "8589934588×2147483647"),

        // pooling, joining, indexing
        ["max_pool2d on 1-D input"] = new(() => F.MaxPool2d(Torch.Zeros(5), 2), "max_pool2d", "[5]"),
        ["cat of nothing"] = new(() => Torch.Cat([]), "cat"),
        ["stack of nothing"] = new(() => Torch.Stack([]), "stack"),
        ["index_select with a 2-D index"] = new(() => Torch.Zeros(3, 2).IndexSelect(0, Torch.Zeros([1, 1], DType.Int64)), "index_select", "[1, 1]"),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void A_user_mistake_names_the_op_what_was_expected_and_what_came(string name)
    {
        var c = Cases[name];
        Exception? error = null;
        try { c.Call(); }
        catch (Exception e) { error = e; }
        Assert.True(error is not null, $"{name}: no error");
        Assert.True(error is ArgumentException or IndexOutOfRangeException,
            $"{name}: {error!.GetType().Name} (expected an ArgumentException or IndexOutOfRangeException): {error.Message}\n{error.StackTrace}");
        foreach (var fragment in c.Fragments)
            Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' not in: {error.Message}");
    }
}
