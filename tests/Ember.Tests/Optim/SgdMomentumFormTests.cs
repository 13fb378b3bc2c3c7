using Ember.Nn;
using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>
/// SGD momentum in the notes' velocity form (v ← μv − lr·g, θ ← θ + v) against PyTorch's form (b ← μb + g, θ ← θ − lr·b):
/// each is checked against its own formula written out here in scalar double arithmetic, they agree while lr is constant
/// and differ under a schedule by exactly what the formulas predict.
/// </summary>
public class SgdMomentumFormTests
{
    const int Size = 37; // more than one vector of every width plus a tail, so the vector and scalar paths both run

    static double Gradient(double x, int i) => x * x * x - Math.Sin(x + 0.1 * i); // position-dependent, so paths can diverge

    static double[] Start() => Enumerable.Range(0, Size).Select(i => Math.Cos(0.7 * i) * 1.3).ToArray();

    // The notes' formulas, one element at a time (dampening as v ← μv − lr(1 − τ)g after the first step v = −lr·g).
    static double[] NotesReference(double[] lrs, double mu, double dampening, bool nesterov, double weightDecay)
    {
        var x = Start();
        var v = new double[Size];
        for (int t = 0; t < lrs.Length; t++)
            for (int i = 0; i < Size; i++)
            {
                double g = Gradient(x[i], i) + weightDecay * x[i];
                double vPrev = v[i];
                v[i] = t == 0 ? -lrs[t] * g : mu * v[i] - lrs[t] * (1 - dampening) * g;
                x[i] += nesterov ? -mu * vPrev + (1 + mu) * v[i] : v[i];
            }
        return x;
    }

    // torch.optim.SGD's formulas.
    static double[] PyTorchReference(double[] lrs, double mu, double dampening, bool nesterov, double weightDecay)
    {
        var x = Start();
        var b = new double[Size];
        for (int t = 0; t < lrs.Length; t++)
            for (int i = 0; i < Size; i++)
            {
                double g = Gradient(x[i], i) + weightDecay * x[i];
                b[i] = t == 0 ? g : mu * b[i] + (1 - dampening) * g;
                x[i] -= lrs[t] * (nesterov ? g + mu * b[i] : b[i]);
            }
        return x;
    }

    static double[] RunEmber(DType dtype, double[] lrs, SgdOptions options)
    {
        var p = new Parameter(Torch.FromArray(Start(), [Size]).To(dtype));
        var sgd = new Sgd([p], options with { LearningRate = lrs[0] });
        for (int t = 0; t < lrs.Length; t++)
        {
            sgd.ParamGroups[0].LearningRate = lrs[t];
            var x = p.ToDoubleArray();
            p.Grad = Torch.FromArray(x.Select((xi, i) => Gradient(xi, i)).ToArray(), [Size]).To(dtype);
            sgd.Step();
        }
        return p.ToDoubleArray();
    }

    static double[] Constant(int steps, double lr) => Enumerable.Repeat(lr, steps).ToArray();

    // A step schedule: lr falls tenfold after 5 steps, as StepLR would.
    static double[] Stepped() => [.. Constant(5, 0.05), .. Constant(5, 0.005)];

    public static TheoryData<double, double, bool, double> Settings => new()
    {
        { 0.9, 0.0, false, 0.0 },
        { 0.9, 0.0, true, 0.0 },
        { 0.5, 0.3, false, 0.1 },
        { 0.9, 0.0, true, 0.05 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void EachFormFollowsItsOwnFormula(double mu, double dampening, bool nesterov, double weightDecay)
    {
        var lrs = Stepped();
        var options = new SgdOptions { Momentum = mu, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay };
        TestUtil.Close(PyTorchReference(lrs, mu, dampening, nesterov, weightDecay), RunEmber(DType.Float64, lrs, options), rtol: 1e-12, atol: 1e-13);
        TestUtil.Close(NotesReference(lrs, mu, dampening, nesterov, weightDecay),
            RunEmber(DType.Float64, lrs, options with { MomentumForm = SgdMomentumForm.Velocity }), rtol: 1e-12, atol: 1e-13);
        // float32 through the vector kernels: the same trajectory to float32 rounding.
        TestUtil.Close(NotesReference(lrs, mu, dampening, nesterov, weightDecay),
            RunEmber(DType.Float32, lrs, options with { MomentumForm = SgdMomentumForm.Velocity }), rtol: 1e-5, atol: 1e-5);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void FormsAgreeAtConstantLearningRateAndDifferUnderASchedule(double mu, double dampening, bool nesterov, double weightDecay)
    {
        var options = new SgdOptions { Momentum = mu, Dampening = dampening, Nesterov = nesterov, WeightDecay = weightDecay };
        var velocity = options with { MomentumForm = SgdMomentumForm.Velocity };
        var constant = Constant(10, 0.05);
        TestUtil.Close(RunEmber(DType.Float64, constant, options), RunEmber(DType.Float64, constant, velocity), rtol: 1e-12, atol: 1e-13);

        // After the drop the velocity form still carries momentum gathered at the old lr (μv holds −μ·lr_old·b), PyTorch's
        // rescales it with the new lr, so the velocity form keeps moving faster: the two end apart by far more than rounding.
        var stepped = Stepped();
        var pytorch = RunEmber(DType.Float64, stepped, options);
        var notes = RunEmber(DType.Float64, stepped, velocity);
        double gap = pytorch.Zip(notes, (a, b) => Math.Abs(a - b)).Max();
        double predicted = PyTorchReference(stepped, mu, dampening, nesterov, weightDecay)
            .Zip(NotesReference(stepped, mu, dampening, nesterov, weightDecay), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(gap > 1e-3, $"forms differ by only {gap:G3} under a schedule");
        Assert.Equal(predicted, gap, 1e-10);
    }

    [Fact]
    public void StateDictRecordsTheVelocityFormOnlyWhenUsedAndResumesExactly()
    {
        var pytorchDict = new Sgd([new Parameter(Torch.Zeros([3]))], new SgdOptions { Momentum = 0.9 }).StateDict();
        Assert.DoesNotContain(pytorchDict.Scalars.Keys, k => k.Contains("momentum_form", StringComparison.Ordinal));

        var velocity = new SgdOptions { Momentum = 0.9, MomentumForm = SgdMomentumForm.Velocity };
        var lrs = Stepped();
        var whole = RunEmber(DType.Float64, lrs, velocity);

        // Five steps, save, load into an optimizer built with the default (PyTorch) form, five more steps.
        var p = new Parameter(Torch.FromArray(Start(), [Size]));
        var first = new Sgd([p], velocity with { LearningRate = lrs[0] });
        for (int t = 0; t < 10; t++)
        {
            var opt = first;
            if (t == 5)
            {
                var dict = first.StateDict();
                Assert.Equal(1.0, dict.Scalars["param_groups.0.momentum_form_velocity"]);
                first = new Sgd([p], new SgdOptions { Momentum = 0.9 });
                first.LoadStateDict(dict);
                Assert.Equal(SgdMomentumForm.Velocity, ((SgdOptions)first.ParamGroups[0].Options).MomentumForm);
                opt = first;
            }
            opt.ParamGroups[0].LearningRate = lrs[t];
            var x = p.ToDoubleArray();
            p.Grad = Torch.FromArray(x.Select((xi, i) => Gradient(xi, i)).ToArray(), [Size]);
            opt.Step();
        }
        Assert.Equal(whole, p.ToDoubleArray());
    }
}
