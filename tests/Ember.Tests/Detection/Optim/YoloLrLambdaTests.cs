using Ember.Detection.Optim;

namespace Ember.Tests.Detection.Optim;

public class YoloLrLambdaTests
{
    [Fact]
    public void The_factors_fall_from_1_to_lrf_as_yolov5s()
    {
        // by hand over 4 steps with lrf 0.2: the cosine at t 1 is ((1 − cos(π/4))/2)·(0.2 − 1) + 1 = 0.146446609·(−0.8) + 1
        // = 0.882842712, at t 2 halfway 0.6; the linear 0.8 and 0.6
        var cosine = YoloLrLambda.Cosine(0.2, 4);
        var linear = YoloLrLambda.Linear(0.2, 4);
        Assert.Equal(1.0, cosine(0));
        Assert.Equal(0.882842712, cosine(1), 9);
        Assert.Equal(0.6, cosine(2), 12);
        Assert.Equal(0.2, cosine(4), 12);
        Assert.Equal(1.0, linear(0));
        Assert.Equal(0.8, linear(1), 12);
        Assert.Equal(0.6, linear(2), 12);
        Assert.Equal(0.2, linear(4), 12);
        Assert.Equal(0.0, YoloLrLambda.Linear(0, 4)(4));
    }

    [Fact]
    public void Bad_arguments_name_the_function_and_the_argument()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => YoloLrLambda.Cosine(1.5, 10));
        Assert.Contains("YoloLrLambda.Cosine: lrf", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => YoloLrLambda.Linear(0.01, 0));
        Assert.Contains("YoloLrLambda.Linear: steps must be positive", e.Message);
    }
}
