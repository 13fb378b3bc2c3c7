using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Layers.Recurrent;
using Ember.Nn.Utils;

namespace Ember.Tests.Nn.Recurrent;

/// <summary>
/// Float64 finite-difference checks of the recurrent layers' backward: input, initial states and every parameter, through
/// two bidirectional layers over an unsorted packed batch (so the shrinking and growing batch of the time loop is covered).
/// </summary>
public class RecurrentGradCheckTests
{
    const int Hin = 2, H = 3;
    static readonly long[] Lengths = [2, 4, 1];

    /// <summary>Replaces every parameter by a float64 copy that gradcheck can perturb, and returns them.</summary>
    static Parameter[] ToFloat64(Module m)
    {
        var list = new List<Parameter>();
        foreach (var (name, p) in m.NamedParameters().ToArray())
        {
            var q = new Parameter(p.Detach().To(DType.Float64).Contiguous().Clone());
            m.SetParameter(name, q);
            list.Add(q);
        }
        return [.. list];
    }

    [Theory]
    [InlineData("rnn_tanh")]
    [InlineData("rnn_relu")]
    [InlineData("lstm")]
    [InlineData("lstm_proj")]
    [InlineData("gru")]
    public void PackedBidirectionalTwoLayers(string kind)
    {
        RNNBase m = kind switch
        {
            "rnn_tanh" => new RNN(Hin, H, 2, bidirectional: true, generator: new Generator(1)),
            "rnn_relu" => new RNN(Hin, H, 2, RNNNonlinearity.Relu, bidirectional: true, generator: new Generator(1)),
            "lstm" => new LSTM(Hin, H, 2, bidirectional: true, generator: new Generator(2)),
            "lstm_proj" => new LSTM(Hin, H, 2, bidirectional: true, projSize: 2, generator: new Generator(3)),
            _ => new GRU(Hin, H, 2, bidirectional: true, generator: new Generator(4)),
        };
        var parameters = ToFloat64(m);
        int hOut = kind == "lstm_proj" ? 2 : H;
        var x = TestUtil.Leaf([4, 3, Hin], 10);
        var h0 = TestUtil.Leaf([4, 3, hOut], 11, 0.5);
        var c0 = TestUtil.Leaf([4, 3, H], 12, 0.5);
        bool lstm = m is LSTM;
        Tensor[] inputs = lstm ? [x, h0, c0, .. parameters] : [x, h0, .. parameters];
        Tensor Function(Tensor[] _)
        {
            var packed = RnnUtils.PackPaddedSequence(x, Lengths, enforceSorted: false);
            PackedSequence output;
            Tensor hN;
            Tensor? cN = null;
            switch (m)
            {
                case LSTM l: (output, (hN, cN)) = l.Forward(packed, (h0, c0)); break;
                case GRU g: (output, hN) = g.Forward(packed, h0); break;
                default: (output, hN) = ((RNN)m).Forward(packed, h0); break;
            }
            var padded = RnnUtils.PadPackedSequence(output).Padded;
            return cN is null ? Torch.Cat([padded.Reshape(-1), hN.Reshape(-1)]) : Torch.Cat([padded.Reshape(-1), hN.Reshape(-1), cN.Reshape(-1)]);
        }
        GradCheck.Check(Function, inputs);
    }

    [Fact]
    public void BatchFirstPadded()
    {
        var m = new GRU(Hin, H, 1, batchFirst: true, generator: new Generator(5));
        var parameters = ToFloat64(m);
        var x = TestUtil.Leaf([2, 3, Hin], 13);
        GradCheck.Check(_ => m.Forward(x).Output, [x, .. parameters]);
    }

    [Theory]
    [InlineData("rnn")]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Cells(string kind)
    {
        RNNCellBase cell = kind switch
        {
            "rnn" => new RNNCell(Hin, H, generator: new Generator(6)),
            "lstm" => new LSTMCell(Hin, H, generator: new Generator(7)),
            _ => new GRUCell(Hin, H, generator: new Generator(8)),
        };
        var parameters = ToFloat64(cell);
        var x = TestUtil.Leaf([2, Hin], 14);
        var h = TestUtil.Leaf([2, H], 15, 0.5);
        var c = TestUtil.Leaf([2, H], 16, 0.5);
        Tensor Function(Tensor[] _) => cell switch
        {
            LSTMCell l => Torch.Cat([l.Forward(x, (h, c)).H.Reshape(-1), l.Forward(x, (h, c)).C.Reshape(-1)]),
            GRUCell g => g.Forward(x, h),
            _ => ((RNNCell)cell).Forward(x, h),
        };
        GradCheck.Check(Function, kind == "lstm" ? [x, h, c, .. parameters] : [x, h, .. parameters]);
    }
}
