using Ember.Nn;
using Ember.Nn.Layers.Recurrent;
using Ember.Nn.Utils;
using Ember.Tests.Reference;
using static Ember.Tests.Nn.NnTestUtil;

namespace Ember.Tests.Nn.Recurrent;

/// <summary>
/// RNN, LSTM and GRU against libtorch (tests/Ember.Tests/Reference/RecurrentReference.cs, made by tools/oracle/recurrent.cs):
/// outputs, final states and the gradients of the input, the initial states and every parameter, across directions,
/// batch_first, two layers, no bias, projection, unbatched input and packing (sorted and unsorted).
/// </summary>
public class RecurrentOracleTests
{
    const int L = 5, N = 3, Hin = 3, H = 5;
    static readonly long[] UnsortedLengths = [3, 5, 2], SortedLengths = [5, 3, 2];

    // the oracle's case table: name, kind, layers, bidirectional, batch_first, bias, packing, state given, proj_size, unbatched
    public static TheoryData<string, string, int, bool, bool, bool, string, bool, int, bool> Cases => new()
    {
        { "rnn_tanh_uni", "rnn_tanh", 1, false, false, true, "none", true, 0, false },
        { "rnn_tanh_bi2_bf", "rnn_tanh", 2, true, true, true, "none", true, 0, false },
        { "rnn_relu_bi2", "rnn_relu", 2, true, false, true, "none", false, 0, false },
        { "rnn_tanh_packed_unsorted_bi2", "rnn_tanh", 2, true, false, true, "unsorted", true, 0, false },
        { "rnn_relu_packed_sorted_bf", "rnn_relu", 2, false, true, true, "sorted", false, 0, false },
        { "lstm_uni", "lstm", 1, false, false, true, "none", true, 0, false },
        { "lstm_bi2_bf", "lstm", 2, true, true, true, "none", true, 0, false },
        { "lstm_nobias", "lstm", 1, false, false, false, "none", false, 0, false },
        { "lstm_packed_unsorted_bi2", "lstm", 2, true, false, true, "unsorted", true, 0, false },
        { "lstm_packed_sorted_bf", "lstm", 2, false, true, true, "sorted", false, 0, false },
        { "lstm_unbatched_bi", "lstm", 1, true, false, true, "none", true, 0, true },
        { "lstm_proj_uni", "lstm", 1, false, false, true, "none", true, 3, false },
        { "lstm_proj_bi2_bf", "lstm", 2, true, true, true, "none", true, 3, false },
        { "lstm_proj_packed_unsorted_bi2", "lstm", 2, true, false, true, "unsorted", true, 3, false },
        { "gru_uni", "gru", 1, false, false, true, "none", true, 0, false },
        { "gru_bi2_bf", "gru", 2, true, true, true, "none", true, 0, false },
        { "gru_nobias_bi", "gru", 1, true, false, false, "none", false, 0, false },
        { "gru_packed_unsorted_bi2", "gru", 2, true, true, true, "unsorted", true, 0, false },
        { "gru_packed_sorted", "gru", 2, false, false, true, "sorted", true, 0, false },
        { "gru_unbatched", "gru", 2, false, false, true, "none", true, 0, true },
    };

    static double[] Ref(string key) => RecurrentReference.Values[key];

    static RNNBase Build(string kind, int layers, bool bidirectional, bool batchFirst, bool bias, int proj) => kind switch
    {
        "rnn_tanh" => new RNN(Hin, H, layers, RNNNonlinearity.Tanh, bias, batchFirst, 0, bidirectional),
        "rnn_relu" => new RNN(Hin, H, layers, RNNNonlinearity.Relu, bias, batchFirst, 0, bidirectional),
        "lstm" => new LSTM(Hin, H, layers, bias, batchFirst, 0, bidirectional, proj),
        _ => new GRU(Hin, H, layers, bias, batchFirst, 0, bidirectional),
    };

    /// <summary>Sets the k-th parameter (in named order) as the oracle does, after checking the names match PyTorch's.</summary>
    internal static void SetParameters(Module m, string[] names)
    {
        Assert.Equal(names, m.NamedParameters().Select(p => p.Name).ToArray());
        int k = 0;
        foreach (var (_, p) in m.NamedParameters())
        {
            Set(p, Det(p.Shape.ToArray(), 0.37 + 0.05 * k, 0.3 * k + 0.1, 0.45));
            k++;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesLibtorch(string name, string kind, int layers, bool bidirectional, bool batchFirst, bool bias, string pack, bool state, int proj, bool unbatched)
    {
        var m = Build(kind, layers, bidirectional, batchFirst, bias, proj);
        SetParameters(m, RecurrentReference.Names[name]);
        int d = bidirectional ? 2 : 1, hOut = proj > 0 ? proj : H;
        int[] xShape = unbatched ? [L, Hin] : batchFirst ? [N, L, Hin] : [L, N, Hin];
        int[] hShape = unbatched ? [layers * d, hOut] : [layers * d, N, hOut];
        int[] cShape = unbatched ? [layers * d, H] : [layers * d, N, H];
        var x = Leaf(Det(xShape, 0.53, 0.2, 1.5));
        var h0 = Leaf(Det(hShape, 0.71, 0.4, 0.8));
        var c0 = Leaf(Det(cShape, 0.67, 0.9, 0.8));
        bool lstm = m is LSTM;
        Tensor output, hN;
        Tensor? cN = null;
        if (pack == "none")
        {
            (output, hN, cN) = m switch
            {
                LSTM l => Flatten(l.Forward(x, state ? (h0, c0) : null)),
                GRU g => (g.Forward(x, state ? h0 : null).Output, g.Forward(x, state ? h0 : null).HN, null),
                RNN r => (r.Forward(x, state ? h0 : null).Output, r.Forward(x, state ? h0 : null).HN, null),
                _ => throw new InvalidOperationException(),
            };
        }
        else
        {
            var packed = RnnUtils.PackPaddedSequence(x, pack == "unsorted" ? UnsortedLengths : SortedLengths, batchFirst, enforceSorted: pack == "sorted");
            PackedSequence packedOut;
            (packedOut, hN, cN) = m switch
            {
                LSTM l => FlattenPacked(l.Forward(packed, state ? (h0, c0) : null)),
                GRU g => WithoutC(g.Forward(packed, state ? h0 : null)),
                RNN r => WithoutC(r.Forward(packed, state ? h0 : null)),
                _ => throw new InvalidOperationException(),
            };
            // the projection cases' reference runs each sequence alone (TorchSharp has no proj_size), so it has no packed data
            if (proj == 0)
            {
                TestUtil.Close(Ref(name + ".packed"), packedOut.Data, 1e-5, 1e-6);
                Assert.Equal(Ref(name + ".batch_sizes"), packedOut.BatchSizes.ToDoubleArray());
            }
            output = RnnUtils.PadPackedSequence(packedOut, batchFirst).Padded;
        }
        var loss = (output * Det(output.Shape.ToArray(), 0.23, 0.5, 1)).Sum() + (hN * Det(hN.Shape.ToArray(), 0.31, 0.7, 1)).Sum();
        if (cN is not null) loss = loss + (cN * Det(cN.Shape.ToArray(), 0.41, 0.9, 1)).Sum();
        loss.Backward();

        int[] outShape = unbatched ? [L, d * hOut] : batchFirst ? [N, L, d * hOut] : [L, N, d * hOut];
        Assert.Equal(outShape, output.Shape.ToArray());
        Assert.Equal(hShape, hN.Shape.ToArray());
        TestUtil.Close(Ref(name + ".out"), output, 1e-5, 1e-6);
        TestUtil.Close(Ref(name + ".hn"), hN, 1e-5, 1e-6);
        if (lstm)
        {
            Assert.Equal(cShape, cN!.Shape.ToArray());
            TestUtil.Close(Ref(name + ".cn"), cN, 1e-5, 1e-6);
        }
        TestUtil.Close(Ref(name + ".dx"), x.Grad!, 1e-4, 1e-5);
        if (state)
        {
            TestUtil.Close(Ref(name + ".dh0"), h0.Grad!, 1e-4, 1e-5);
            if (lstm) TestUtil.Close(Ref(name + ".dc0"), c0.Grad!, 1e-4, 1e-5);
        }
        foreach (var (pname, p) in m.NamedParameters())
            TestUtil.Close(Ref($"{name}.grad.{pname}"), p.Grad!, 1e-4, 1e-5);
    }

    static (Tensor, Tensor, Tensor?) Flatten((Tensor Output, (Tensor HN, Tensor CN) State) r) => (r.Output, r.State.HN, r.State.CN);
    static (PackedSequence, Tensor, Tensor?) FlattenPacked((PackedSequence Output, (Tensor HN, Tensor CN) State) r) => (r.Output, r.State.HN, r.State.CN);
    static (PackedSequence, Tensor, Tensor?) WithoutC((PackedSequence Output, Tensor HN) r) => (r.Output, r.HN, null);

    [Theory]
    [InlineData("rnn_cell")]
    [InlineData("rnn_relu_cell")]
    [InlineData("lstm_cell")]
    [InlineData("gru_cell")]
    public void CellsMatchLibtorch(string name)
    {
        RNNCellBase cell = name switch
        {
            "rnn_cell" => new RNNCell(Hin, H),
            "rnn_relu_cell" => new RNNCell(Hin, H, nonlinearity: RNNNonlinearity.Relu),
            "lstm_cell" => new LSTMCell(Hin, H),
            _ => new GRUCell(Hin, H),
        };
        SetParameters(cell, RecurrentReference.Names[name]);
        var x = Leaf(Det([N, Hin], 0.53, 0.2, 1.5));
        var h0 = Leaf(Det([N, H], 0.71, 0.4, 0.8));
        var c0 = Leaf(Det([N, H], 0.67, 0.9, 0.8));
        Tensor h;
        Tensor? c = null;
        if (cell is LSTMCell lc) (h, c) = lc.Forward(x, (h0, c0));
        else if (cell is GRUCell gc) h = gc.Forward(x, h0);
        else h = ((RNNCell)cell).Forward(x, h0);
        var loss = (h * Det(h.Shape.ToArray(), 0.31, 0.7, 1)).Sum();
        if (c is not null) loss = loss + (c * Det(c.Shape.ToArray(), 0.41, 0.9, 1)).Sum();
        loss.Backward();
        TestUtil.Close(Ref(name + ".h"), h, 1e-5, 1e-6);
        if (c is not null) TestUtil.Close(Ref(name + ".c"), c, 1e-5, 1e-6);
        TestUtil.Close(Ref(name + ".dx"), x.Grad!, 1e-4, 1e-5);
        TestUtil.Close(Ref(name + ".dh0"), h0.Grad!, 1e-4, 1e-5);
        if (c is not null) TestUtil.Close(Ref(name + ".dc0"), c0.Grad!, 1e-4, 1e-5);
        foreach (var (pname, p) in cell.NamedParameters())
            TestUtil.Close(Ref($"{name}.grad.{pname}"), p.Grad!, 1e-4, 1e-5);
    }
}
