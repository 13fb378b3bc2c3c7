using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>L-BFGS (torch.optim.LBFGS): PyTorch's iterates on Rosenbrock, the strong-Wolfe line search, the stopping tests.</summary>
public class LbfgsTests
{
    static Tensor Rosenbrock(Tensor x) => (1.0 - x[0]).Square() + (x[1] - x[0].Square()).Square() * 100.0;

    static Func<Tensor> Closure(Lbfgs opt, Tensor x, Func<Tensor, Tensor> f) => () =>
    {
        opt.ZeroGrad();
        var loss = f(x);
        loss.Backward();
        return loss;
    };

    // Reference: libtorch 2.10's torch::optim::LBFGS via ../shared/tools/torch-oracle, script
    // Reference/Autograd/lbfgs_rosenbrock.oracle.csx (float64, x₀ = (−1.5, 2), lr 1, max_iter 20, max_eval 25, no line search):
    // per Step, the returned loss and x afterwards.
    static readonly double[][] TorchPlain =
    [
        [12.5, -0.781122729831648, 0.6131352916809746],
        [3.173287752667091, 0.08303252319322772, 0.005052944696990406],
        [0.8411684492507328, 1.054969018030194, 0.8137053551938505],
        [8.958333632282775, 0.928914413856703, 0.8627421344658046],
        [0.0050551164660116435, 0.9999956484454162, 0.999991789284527],
        [4.317931757845001E-11, 0.9999956484454162, 0.999991789284527],
    ];

    [Fact]
    public void FixedStepIteratesMatchLibtorchOnRosenbrock()
    {
        var x = Torch.Tensor([-1.5, 2.0]).RequiresGradInPlace();
        var opt = new Lbfgs([x], new LbfgsOptions { MaxIter = 20, MaxEval = 25 });
        // Fixed steps of lr = 1 on Rosenbrock amplify rounding differences (libtorch's vectorised dot products vs ours):
        // after the first 20 iterations the iterates agree to 1e-13, after 40 to 1e-10, later to ~1e-4 (the lr = 1 step overshoots to a loss of 9); an algorithmic
        // difference would show at once. The tolerance grows accordingly.
        double[] rtol = [1e-11, 1e-8, 1e-5, 1e-3, 1e-5, 1e-5];
        double[] lossRtol = [1e-11, 1e-8, 1e-5, 1e-3, 1e-2];   // near the minimum the loss is the most sensitive
        for (int step = 0; step < TorchPlain.Length; step++)
        {
            var expected = TorchPlain[step];
            double loss = opt.Step(Closure(opt, x, Rosenbrock)).Item();
            if (step < 5) Assert.Equal(expected[0], loss, Math.Abs(expected[0]) * lossRtol[step]);
            else Assert.True(loss < 1e-10, $"final loss {loss}");
            TestUtil.Close([expected[1], expected[2]], x.Detach(), rtol[step], 0);
        }
    }

    [Fact]
    public void StrongWolfeConvergesOnRosenbrockAndEachStepMeetsTheWolfeConditions()
    {
        var x = Torch.Tensor([-1.5, 2.0]).RequiresGradInPlace();
        var opt = new Lbfgs([x], new LbfgsOptions { LineSearch = LbfgsLineSearch.StrongWolfe, MaxIter = 100 });
        opt.Step(Closure(opt, x, Rosenbrock));
        TestUtil.Close([1.0, 1.0], x.Detach(), 1e-5, 1e-5);
        Assert.True(opt.Counters.FuncEvals < 125, $"{opt.Counters.FuncEvals} evaluations");

        // The line search on a quadratic along a descent direction: the accepted step satisfies the strong Wolfe conditions.
        double[] g0 = [4, -2], d = [-4, 2];
        (double, double[]) Objective(double t, double[] dir) { double a = 1 + t * dir[0] / 4, b = -1 + t * dir[1] / 2; return (2 * a * a + b * b, [4 * a, 2 * b]); }
        double f0 = 3, gtd = -20;
        var (f, g, step, _) = Lbfgs.StrongWolfe(Objective, 1.0, d, f0, g0, gtd);
        Assert.True(f <= f0 + 1e-4 * step * gtd, "sufficient decrease");
        Assert.True(Math.Abs(g[0] * d[0] + g[1] * d[1]) <= 0.9 * -gtd, "curvature");
    }

    [Fact]
    public void CubicInterpolationFindsTheMinimumOfACubic()
    {
        // f(x) = x³ − 3x has its local minimum at 1; two samples with derivatives determine the cubic exactly
        static double F(double x) => x * x * x - 3 * x;
        static double G(double x) => 3 * x * x - 3;
        Assert.Equal(1.0, Lbfgs.CubicInterpolate(0, F(0), G(0), 2, F(2), G(2)), 12);
        Assert.Equal(0.5, Lbfgs.CubicInterpolate(0, F(0), G(0), 2, F(2), G(2), (0.0, 0.5)), 12);   // clamped into the bounds
    }

    [Fact]
    public void StopsAtOnceWhenTheGradientIsBelowToleranceAndStepWithoutClosureThrows()
    {
        var x = Torch.Tensor([1.0, 1.0]).RequiresGradInPlace();
        var opt = new Lbfgs([x]);
        opt.Step(Closure(opt, x, Rosenbrock));
        Assert.Equal(1, opt.Counters.FuncEvals);
        Assert.Equal(0, opt.Counters.Iterations);
        Assert.Equal([1.0, 1.0], x.ToDoubleArray());
        var e = Assert.Throws<InvalidOperationException>(() => opt.Step());
        Assert.Contains("closure", e.Message);
    }

    [Fact]
    public void QuadraticIsSolvedInFewIterations()
    {
        // f(x) = ½xᵀAx − bᵀx with A SPD (3×3): L-BFGS with exact line search behaves like conjugate gradients
        var a = Torch.FromArray([4.0, 1, 0, 1, 3, 1, 0, 1, 2], [3, 3]);
        var b = Torch.Tensor([1.0, 2.0, 3.0]);
        var x = Torch.Zeros([3], DType.Float64).RequiresGradInPlace();
        var opt = new Lbfgs([x], new LbfgsOptions { LineSearch = LbfgsLineSearch.StrongWolfe, ToleranceGrad = 1e-12, ToleranceChange = 1e-20 });
        opt.Step(Closure(opt, x, v => (v.MatMul(a.MatMul(v)) * 0.5) - b.Dot(v)));
        Assert.True(opt.Counters.Iterations <= 10, $"{opt.Counters.Iterations} iterations");
        // the minimiser solves A·x = b
        var residual = a.MatMul(x.Detach()) - b;
        Assert.True(residual.Abs().Max().Item() < 1e-8, $"residual {residual}");
    }
}
