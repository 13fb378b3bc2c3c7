namespace Ember.Detection.Optim;

/// <summary>
/// YOLOv5's learning-rate factors lf(x) for a <see cref="Ember.Optim.Schedulers.LambdaLR"/> (train.py: lr = lr0 · lf(x)),
/// falling from 1 at x = 0 to <c>lrf</c> at x = <c>steps</c>. YOLOv5 counts x in epochs; Ember's detection schedules
/// count optimizer steps.
/// </summary>
public static class YoloLrLambda
{
    /// <summary>
    /// The cosine (utils.general.one_cycle(1, lrf, steps), train.py's --cos-lr):
    /// lf(x) = ((1 − cos(π·x/steps)) / 2)·(lrf − 1) + 1.
    /// </summary>
    public static Func<int, double> Cosine(double lrf, int steps)
    {
        Check(lrf, steps, nameof(Cosine));
        return x => (1 - Math.Cos(Math.PI * x / steps)) / 2 * (lrf - 1) + 1;
    }

    /// <summary>The linear (train.py's default): lf(x) = (1 − x/steps)·(1 − lrf) + lrf.</summary>
    public static Func<int, double> Linear(double lrf, int steps)
    {
        Check(lrf, steps, nameof(Linear));
        return x => (1 - (double)x / steps) * (1 - lrf) + lrf;
    }

    static void Check(double lrf, int steps, string name)
    {
        if (!(lrf >= 0 && lrf <= 1)) throw new ArgumentOutOfRangeException(nameof(lrf), lrf, $"YoloLrLambda.{name}: lrf (the final factor) must be in [0, 1]");
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"YoloLrLambda.{name}: steps must be positive");
    }
}
