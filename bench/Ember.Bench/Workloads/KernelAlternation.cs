using System.Diagnostics;
using Ember.Kernels.Conv;

namespace Ember.Bench.Workloads;

/// <summary>
/// In-process A/B timing of a kernel before and after a change (conv-strided, conv-pointwise): the two calls alternate,
/// each after its side's switches are set, so that both see the same machine load; medians of process CPU (all threads)
/// and wall ms.
/// </summary>
public static class KernelAlternation
{
    /// <summary>Median process CPU and wall ms of <paramref name="before"/> and <paramref name="after"/>, calls alternating after two warm-up rounds.</summary>
    /// <param name="select">Sets the switches of a side (true: before); called with false once the timing ends.</param>
    public static ((double Cpu, double Wall) Before, (double Cpu, double Wall) After) Run(Action before, Action after, int reps, Action<bool> select)
    {
        var cpu = new double[2][];
        var wall = new double[2][];
        for (int side = 0; side < 2; side++) { cpu[side] = new double[reps]; wall[side] = new double[reps]; }
        try
        {
            for (int r = -2; r < reps; r++)
                for (int side = 0; side < 2; side++)
                {
                    select(side == 0);
                    double c0 = Environment.CpuUsage.TotalTime.TotalMilliseconds;
                    long t0 = Stopwatch.GetTimestamp();
                    (side == 0 ? before : after)();
                    if (r < 0) continue;
                    wall[side][r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    cpu[side][r] = Environment.CpuUsage.TotalTime.TotalMilliseconds - c0;
                }
        }
        finally
        {
            select(false);
        }
        return ((Median(cpu[0]), Median(wall[0])), (Median(cpu[1]), Median(wall[1])));
    }

    /// <summary>
    /// A result buffer and the float32 kernel call of one direction of a convolution: "F" (forward, no bias), "dX" (input
    /// gradient) or "dW" (weight gradient); null for another name.
    /// </summary>
    public static (float[] Result, Action<float[]> Run)? ConvDirection(string direction, Conv2dGeometry g, float[] x, float[] w, float[] dy) => direction switch
    {
        "F" => (new float[g.OutputLength], y => Conv2dKernel.Forward<float>(g, x, w, default, y)),
        "dX" => (new float[g.InputLength], dx => Conv2dKernel.BackwardInput<float>(g, dy, w, dx)),
        "dW" => (new float[g.WeightLength], dw => Conv2dKernel.BackwardWeight<float>(g, x, dy, dw)),
        _ => null,
    };

    /// <summary>
    /// One direction of a convolution (<see cref="ConvDirection"/>) run by the two kernel choices in alternation
    /// (<see cref="Run"/>): both timings and the largest difference of their results; null for an unknown direction.
    /// </summary>
    public static ((double Cpu, double Wall) Before, (double Cpu, double Wall) After, float Difference)? CompareDirection(
        string direction, Conv2dGeometry g, float[] x, float[] w, float[] dy, int reps, Action<bool> select)
    {
        if (ConvDirection(direction, g, x, w, dy) is not { } call) return null;
        var (before, run) = call;
        float[] after = new float[before.Length];
        var (old, now) = Run(() => run(before), () => run(after), reps, select);
        return (old, now, MaxDifference(before, after));
    }

    /// <summary>Uniform values in [−1, 1).</summary>
    public static float[] Fill(int length, Random rng)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>The largest |a[i] − b[i]|: 0 when the two results are bit for bit the same (NaN-free).</summary>
    public static float MaxDifference(float[] a, float[] b)
    {
        float diff = 0;
        for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
        return diff;
    }

    static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}
