using Ember.Interop;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Nn.Layers.Recurrent;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ember.Tests.Interop;

/// <summary>
/// RNN, LSTM and GRU exported to ONNX's RNN, LSTM and GRU operators (gate blocks reordered, GRU with
/// linear_before_reset = 1) and run by ONNX Runtime: its outputs equal Ember's, at the sample's shape and at another
/// length of the dynamic dim 0 (the time steps, or the batch when batch-first).
/// </summary>
public class OnnxRecurrentExportTests
{
    static InferenceSession Session(byte[] model)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        return new InferenceSession(model, options);
    }

    static float[] Run(InferenceSession session, Tensor x)
    {
        var input = new DenseTensor<float>(x.Contiguous().ToArray<float>(), x.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        return results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
    }

    public static TheoryData<string> Cases => [.. Models.Keys];

    static readonly Dictionary<string, Func<Module>> Models = new()
    {
        ["rnn tanh"] = () => new RNN(4, 6),
        ["rnn relu 2 layers bidirectional"] = () => new RNN(4, 6, numLayers: 2, nonlinearity: RNNNonlinearity.Relu, bidirectional: true),
        ["lstm"] = () => new LSTM(4, 6),
        ["lstm 2 layers bidirectional batch-first"] = () => new LSTM(4, 6, numLayers: 2, batchFirst: true, bidirectional: true, dropout: 0.5),
        ["lstm no bias"] = () => new LSTM(4, 5, bias: false),
        ["gru"] = () => new GRU(4, 6),
        ["gru 3 layers bidirectional"] = () => new GRU(4, 3, numLayers: 3, bidirectional: true),
        ["gru batch-first no bias, then linear"] = () => new Sequential(new GRU(4, 6, batchFirst: true, bias: false), new Linear(6, 2)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_onnx_runtime(string name)
    {
        Torch.ManualSeed(21);
        var model = Models[name]();
        // larger weights than the default init so that the gates leave their linear range and a swapped gate shows
        using (Torch.NoGrad()) foreach (var p in model.Parameters()) p.MulInPlace(3);
        var gen = new Generator(22);
        var sample = Torch.Randn([7, 3, 4], generator: gen);
        var bytes = Onnx.ExportToBytes(model, sample);
        using var session = Session(bytes);
        foreach (var x in new[] { sample, Torch.Randn([11, 3, 4], generator: gen) })
        {
            model.Eval();
            Tensor expected;
            using (Torch.NoGrad()) expected = model.Call(x);
            TestUtil.Close(expected.ToDoubleArray(), [.. Run(session, x).Select(v => (double)v)], 1e-4, 1e-5);
        }
    }

    [Fact]
    public void The_node_is_the_onnx_recurrent_operator_with_the_gate_order_attributes()
    {
        var bytes = Onnx.ExportToBytes(new GRU(2, 3), Torch.Randn(4, 1, 2));
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.Contains("GRU", text);
        Assert.Contains("linear_before_reset", text);
        Assert.Contains("onnx_W_l0", text);
    }

    [Fact]
    public void A_projected_lstm_or_an_unbatched_sample_is_refused_naming_the_module()
    {
        var e = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(new Sequential(new LSTM(4, 6, projSize: 2)), Torch.Randn(5, 2, 4)));
        Assert.Contains("module '0' (LSTM): proj_size 2: ONNX's LSTM operator has no projection", e.Message);
        e = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(new GRU(4, 6), Torch.Randn(5, 4)));
        Assert.Contains("needs a batched sample input (3 dimensions), got shape [5, 4]", e.Message);
    }
}
