using Ember.Data;

namespace Ember.Tests.Data;

public class TimeSeriesSplitTests
{
    static Tensor Steps(int n) => Torch.Arange(n).To(DType.Float32).Unsqueeze(1); // value = time index

    [Fact]
    public void Parts_are_chronological_and_each_part_s_targets_stay_inside_it()
    {
        var split = new TimeSeriesSplit(100, validationLength: 20, testLength: 10);
        Assert.Equal((70, 90), (split.TrainEnd, split.ValidationEnd));
        var series = Steps(100);
        var train = split.TrainWindows(series, inputLength: 8, horizon: 3);
        Assert.Equal(70 - 8 - 3 + 1, train.Count);
        Assert.Equal(69f, train[train.Count - 1].Target.ToArray<float>()[^1]); // the last training target is step 69
        var val = split.ValidationWindows(series, 8, 3);
        Assert.Equal(20 - 3 + 1, val.Count);
        Assert.Equal([62f, 63f, 64f, 65f, 66f, 67f, 68f, 69f], val[0].Input.ToArray<float>());   // inputs reach back into train
        Assert.Equal([70f, 71f, 72f], val[0].Target.ToArray<float>());                            // targets start the part
        var test = split.TestWindows(series, 8, 3, stride: 3);
        Assert.Equal(3, test.Count); // origins at 90, 93, 96 (99 has no room for 3 steps)
        Assert.Equal([96f, 97f, 98f], test[2].Target.ToArray<float>());
        for (int i = 0; i < test.Count; i++) Assert.True(test[i].Target.ToArray<float>()[0] >= 90);
    }

    [Fact]
    public void Windows_that_do_not_fit_are_errors_naming_the_part_and_sizes()
    {
        var split = new TimeSeriesSplit(40, 10, 5);
        var series = Steps(40);
        Assert.Contains("the test part has 5 steps", Assert.Throws<ArgumentException>(() => split.TestWindows(series, 4, 6)).Message);
        Assert.Contains("a window of 30 input steps before the validation part (which starts at step 25) reaches before the series' start",
            Assert.Throws<ArgumentException>(() => split.ValidationWindows(series, 30, 2)).Message);
        Assert.Contains("the train part has 25 steps, fewer than one window (25 input + 1 target steps)", Assert.Throws<ArgumentException>(() => split.TrainWindows(series, 25, 1)).Message);
        Assert.Contains("series of 40 steps, got one of 39", Assert.Throws<ArgumentException>(() => split.TestWindows(Steps(39), 4, 2)).Message);
        Assert.Contains("leave nothing to train on", Assert.Throws<ArgumentException>(() => new TimeSeriesSplit(15, 10, 5)).Message);
    }
}
