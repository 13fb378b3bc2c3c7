using Ember.Nn.Layers.Recurrent;
using Ember.Nn.Utils;

namespace Ember.Tests.Nn.Recurrent;

/// <summary>What the oracle comparison does not cover: errors, dropout between layers, initialization, state_dict names, padding isolation.</summary>
public class RecurrentBehaviourTests
{
    static ArgumentException Throws(Action a) => Assert.ThrowsAny<ArgumentException>(a);

    [Fact]
    public void WrongInputRankNamesModuleAndShape()
    {
        var lstm = new LSTM(4, 5);
        var e = Throws(() => lstm.Forward(Torch.Zeros(2, 3, 4, 1)));
        Assert.Contains("LSTM", e.Message);
        Assert.Contains("got 4", e.Message);
        Assert.Contains("[2, 3, 4, 1]", e.Message);
    }

    [Fact]
    public void WrongFeatureSizeNamesExpectedAndActual()
    {
        var e = Throws(() => new GRU(4, 5).Forward(Torch.Zeros(6, 2, 7)));
        Assert.Contains("GRU", e.Message);
        Assert.Contains("expected input with 4 features", e.Message);
        Assert.Contains("got 7", e.Message);
    }

    [Fact]
    public void WrongInitialStateShapes()
    {
        var lstm = new LSTM(4, 5, numLayers: 2);
        var x = Torch.Zeros(6, 3, 4);
        var e = Throws(() => lstm.Forward(x, (Torch.Zeros(1, 3, 5), Torch.Zeros(2, 3, 5))));
        Assert.Contains("h_0", e.Message);
        Assert.Contains("[2, 3, 5]", e.Message);
        Assert.Contains("[1, 3, 5]", e.Message);
        e = Throws(() => lstm.Forward(x, (Torch.Zeros(2, 3, 5), Torch.Zeros(2, 3, 4))));
        Assert.Contains("c_0", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        // unbatched input takes an unbatched state
        e = Throws(() => new RNN(4, 5).Forward(Torch.Zeros(6, 4), Torch.Zeros(1, 1, 5)));
        Assert.Contains("RNN", e.Message);
        Assert.Contains("expected h_0 of shape [1, 5]", e.Message);
        // the projected LSTM's h_0 has proj_size features, c_0 hidden_size
        var proj = new LSTM(4, 5, projSize: 2);
        e = Throws(() => proj.Forward(x, (Torch.Zeros(1, 3, 5), Torch.Zeros(1, 3, 5))));
        Assert.Contains("[1, 3, 2]", e.Message);
        Assert.Equal([1, 3, 2], proj.Forward(x, (Torch.Zeros(1, 3, 2), Torch.Zeros(1, 3, 5))).State.HN.Shape.ToArray());
    }

    [Fact]
    public void PackedInputChecksItsStateAndFeatures()
    {
        var packed = RnnUtils.PackPaddedSequence(Torch.Zeros(4, 3, 2), [4, 2, 1]);
        var e = Throws(() => new GRU(3, 5).Forward(packed));
        Assert.Contains("GRU", e.Message);
        Assert.Contains("expected packed data with 3 features", e.Message);
        e = Throws(() => new GRU(2, 5).Forward(packed, Torch.Zeros(1, 2, 5)));
        Assert.Contains("[1, 3, 5]", e.Message);
    }

    [Fact]
    public void CellErrors()
    {
        var e = Throws(() => new LSTMCell(4, 5).Forward(Torch.Zeros(2, 3, 4)));
        Assert.Contains("LSTMCell", e.Message);
        Assert.Contains("got 3", e.Message);
        e = Throws(() => new GRUCell(4, 5).Forward(Torch.Zeros(2, 4), Torch.Zeros(3, 5)));
        Assert.Contains("GRUCell", e.Message);
        Assert.Contains("[2, 5]", e.Message);
        e = Throws(() => new RNNCell(4, 5).Forward(Torch.Zeros(2, 6)));
        Assert.Contains("expected input with 4 features", e.Message);
    }

    [Fact]
    public void ConstructorArgumentsAreChecked()
    {
        Assert.Contains("proj_size has to be smaller than hidden_size", Throws(() => new LSTM(4, 5, projSize: 5)).Message);
        Assert.Contains("dropout", Throws(() => new GRU(4, 5, dropout: 1.5)).Message);
        Assert.Contains("num_layers", Throws(() => new RNN(4, 5, numLayers: 0)).Message);
    }

    [Fact]
    public void ParameterNamesAndShapesArePyTorchs()
    {
        // nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).state_dict() in PyTorch
        var expected = new (string, int[])[]
        {
            ("weight_ih_l0", [20, 3]), ("weight_hh_l0", [20, 2]), ("bias_ih_l0", [20]), ("bias_hh_l0", [20]), ("weight_hr_l0", [2, 5]),
            ("weight_ih_l0_reverse", [20, 3]), ("weight_hh_l0_reverse", [20, 2]), ("bias_ih_l0_reverse", [20]), ("bias_hh_l0_reverse", [20]), ("weight_hr_l0_reverse", [2, 5]),
            ("weight_ih_l1", [20, 4]), ("weight_hh_l1", [20, 2]), ("bias_ih_l1", [20]), ("bias_hh_l1", [20]), ("weight_hr_l1", [2, 5]),
            ("weight_ih_l1_reverse", [20, 4]), ("weight_hh_l1_reverse", [20, 2]), ("bias_ih_l1_reverse", [20]), ("bias_hh_l1_reverse", [20]), ("weight_hr_l1_reverse", [2, 5]),
        };
        var lstm = new LSTM(3, 5, 2, bidirectional: true, projSize: 2);
        var state = lstm.StateDict();
        Assert.Equal(expected.Select(e => e.Item1), state.Keys);
        foreach (var (name, shape) in expected) Assert.Equal(shape, state[name].Shape.ToArray());
        // a state dict keyed by those names loads
        var other = new LSTM(3, 5, 2, bidirectional: true, projSize: 2);
        var result = other.LoadStateDict(state);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal(state["weight_hr_l1_reverse"].ToDoubleArray(), other.StateDict()["weight_hr_l1_reverse"].ToDoubleArray());
        Assert.Equal(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], new GRUCell(3, 4).StateDict().Keys);
        Assert.Equal([12, 3], new GRUCell(3, 4).StateDict()["weight_ih"].Shape.ToArray());
    }

    [Fact]
    public void InitializationIsUniformWithinOneOverRootHidden()
    {
        var gru = new GRU(10, 64, 2, generator: new Generator(3));
        double bound = 1 / Math.Sqrt(64);
        var all = gru.Parameters().SelectMany(p => p.ToDoubleArray()).ToArray();
        Assert.All(all, v => Assert.InRange(v, -bound, bound));
        double std = Math.Sqrt(all.Select(v => v * v).Average());
        Assert.InRange(std, 0.95 * bound / Math.Sqrt(3), 1.05 * bound / Math.Sqrt(3));
    }

    [Fact]
    public void DropoutActsBetweenLayersInTrainingOnly()
    {
        var x = Torch.Randn([6, 2, 3], DType.Float32, new Generator(1));
        var lstm = new LSTM(3, 4, 2, dropout: 1.0, generator: new Generator(2));
        // p = 1 zeroes the first layer's output in training: the second layer then sees only zeros
        var trained = lstm.Forward(x).Output;
        var alone = new LSTM(4, 4, 1);
        foreach (var suffix in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" })
            alone.StateDict()[suffix + "_l0"].CopyFrom(lstm.StateDict()[suffix + "_l1"]);
        TestUtil.Close(alone.Forward(Torch.Zeros(6, 2, 4)).Output, trained, 1e-6, 1e-7);
        // evaluation mode: no dropout, the same as a model without it
        lstm.Eval();
        var noDropout = new LSTM(3, 4, 2);
        noDropout.LoadStateDict(lstm.StateDict());
        TestUtil.Close(noDropout.Forward(x).Output, lstm.Forward(x).Output, 0, 0);
        // one layer: nothing to drop between
        var single = new GRU(3, 4, 1, dropout: 0.5);
        single.Eval();
        var evaluated = single.Forward(x).Output;
        single.Train();
        TestUtil.Close(evaluated, single.Forward(x).Output, 0, 0);
    }

    [Fact]
    public void PaddingNeverReachesTheState()
    {
        var gen = new Generator(4);
        var x = Torch.Randn([5, 3, 2], DType.Float32, gen);
        long[] lengths = [2, 5, 3];
        var junk = x.Clone();
        using (Torch.NoGrad())
        {
            junk.Narrow(0, 2, 3).Select(1, 0).FillInPlace(1e6);
            junk.Narrow(0, 3, 2).Select(1, 2).FillInPlace(float.NaN);
        }
        var lstm = new LSTM(2, 3, 2, bidirectional: true, generator: new Generator(5));
        var (a, (ha, ca)) = lstm.Forward(RnnUtils.PackPaddedSequence(x, lengths, enforceSorted: false));
        var (b, (hb, cb)) = lstm.Forward(RnnUtils.PackPaddedSequence(junk, lengths, enforceSorted: false));
        TestUtil.Close(a.Data, b.Data, 0, 0);
        TestUtil.Close(ha, hb, 0, 0);
        TestUtil.Close(ca, cb, 0, 0);
        // and each sequence's final state is that of running it alone
        for (int i = 0; i < 3; i++)
        {
            var (_, (hi, _)) = lstm.Forward(x.Narrow(0, 0, (int)lengths[i]).Narrow(1, i, 1));
            TestUtil.Close(hi, ha.Narrow(1, i, 1), 1e-5, 1e-6);
        }
    }

    [Fact]
    public void CallReturnsTheOutputAndUnbatchedDropsTheBatchDim()
    {
        var rnn = new RNN(3, 4, 2, bidirectional: true);
        var x = Torch.Randn([5, 3], DType.Float32, new Generator(6));
        var (output, hN) = rnn.Forward(x);
        Assert.Equal([5, 8], output.Shape.ToArray());
        Assert.Equal([4, 4], hN.Shape.ToArray());
        TestUtil.Close(output, rnn.Call(x), 0, 0);
        TestUtil.Close(output, rnn.Forward(x.Unsqueeze(1)).Output.Squeeze(1), 0, 0);
        Assert.Equal("RNN(3, 4, num_layers=2, bidirectional=True)", rnn.ToString().Split('\n')[0]);
    }

    [Fact]
    public void DoubleBackwardThroughAFusedLayerIsRefused()
    {
        var lstm = new LSTM(2, 3);
        var x = Torch.Randn([4, 1, 2], DType.Float32, new Generator(7)).RequiresGradInPlace();
        var y = lstm.Forward(x).Output.Sum();
        var e = Assert.Throws<NotSupportedException>(() => Torch.Grad([y], [x], createGraph: true));
        Assert.Contains("double backward", e.Message);
        // first order still works after that
        var y2 = new GRU(2, 3).Forward(x).Output.Sum();
        Assert.NotNull(Torch.Grad([y2], [x])[0]);
    }
}
