using Ember.Models;
using Ember.Nn.Layers.Recurrent;

namespace Ember.Tests.Models;

public class RecurrentForecasterTests
{
    [Theory]
    [InlineData(RecurrentCellType.Lstm)]
    [InlineData(RecurrentCellType.Gru)]
    public void Forecasts_horizon_steps_as_the_last_value_plus_the_head_of_the_last_state(RecurrentCellType cell)
    {
        Torch.ManualSeed(3);
        var model = new RecurrentForecaster(cell, horizon: 4, hiddenSize: 8);
        var x = Torch.Randn(5, 7, 1);
        var y = model.Call(x);
        Assert.Equal([5, 4, 1], y.Shape.ToArray());
        // recompute from the parts: ŷ = x_L + W·h_L + b
        var parts = model.NamedChildren().ToDictionary(c => c.Name, c => c.Module);
        Assert.IsType(cell == RecurrentCellType.Lstm ? typeof(LSTM) : typeof(GRU), parts["rnn"]);
        var h = parts["rnn"].Call(x).Select(1, 6);
        var expected = parts["head"].Call(h) + x.Select(1, 6);
        TestUtil.Close(expected.Unsqueeze(2), y, rtol: 1e-6, atol: 1e-6);
        // a zero head is exactly the naive forecast
        using (Torch.NoGrad()) foreach (var p in parts["head"].Parameters()) p.ZeroInPlace();
        TestUtil.Close(NaiveForecast.Naive(x.Squeeze(2), 4).Unsqueeze(2), model.Call(x), 0, 0);
    }

    [Fact]
    public void Parameter_names_follow_the_registered_parts_and_bad_input_is_named()
    {
        var model = new RecurrentForecaster(RecurrentCellType.Gru, horizon: 2, hiddenSize: 3);
        Assert.Equal(["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias"],
            model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Contains("expected input (N, L, F), got shape [7, 1]", Assert.Throws<ArgumentException>(() => model.Call(Torch.Zeros(7, 1))).Message);
    }
}
