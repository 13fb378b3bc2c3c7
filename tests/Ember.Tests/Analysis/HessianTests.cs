using Ember.Analysis;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

public class HessianTests
{
    static Tensor Point(params double[] xs)
    {
        var t = Torch.FromArray(xs, [xs.Length]);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void Saddle_of_x2_minus_y2()
    {
        // f(x, y) = x² − y² at its critical point (0, 0): H = diag(2, −2), eigenvalues of both signs.
        var p = Point(0, 0);
        Func<Tensor> f = () => p[0].Square() - p[1].Square();
        var a = Hessian.Analyze(f, [p]);
        Assert.Equal(0.0, a.GradientNorm);
        Assert.Equal(new double[,] { { 2, 0 }, { 0, -2 } }, a.Matrix);
        Assert.Equal([-2.0, 2.0], a.Eigenvalues);
        Assert.Equal(CriticalPointKind.Saddle, a.Kind);
        // Away from the origin the Hessian is the same (f is quadratic) and H·v agrees both ways.
        var q = Point(0.3, -1.2);
        Func<Tensor> g = () => q[0].Square() - q[1].Square();
        TestUtil.Close([2 * 0.5, -2 * 0.25], Hessian.VectorProduct(g, [q], [0.5, 0.25]), 1e-12, 1e-12);
        TestUtil.Close([1.0, -0.5], Hessian.VectorProductFiniteDifference(g, [q], [0.5, 0.25]), 1e-8, 1e-8);
        Assert.Equal([0.3, -1.2], q.ToDoubleArray());   // restored after the perturbations
        // Lanczos sees both ends of the spectrum.
        TestUtil.Close([-2.0, 2.0], Hessian.Lanczos(f, [p], steps: 5), 1e-10, 1e-10);
    }

    [Fact]
    public void Convex_quadratic_is_a_minimum_with_known_eigenvalues_and_condition_number()
    {
        // f(θ) = ½ θᵀAθ + bᵀθ, A = [[4, 1], [1, 3]]: eigenvalues (7 ± √5)/2, κ = (7 + √5)/(7 − √5); minimum at θ* = −A⁻¹b.
        var aMat = Torch.FromArray(new double[] { 4, 1, 1, 3 }, [2, 2]);
        var b = Torch.FromArray(new double[] { 1, -2 }, [2]);
        double det = 11;
        var theta = Point(-(3 * 1 - 1 * -2) / det, -(-1 * 1 + 4 * -2) / det);
        Func<Tensor> f = () => 0.5 * theta.Dot(aMat.MatMul(theta)) + b.Dot(theta);
        var a = Hessian.Analyze(f, [theta]);
        Assert.True(a.GradientNorm < 1e-14, $"gradient {a.GradientNorm}");
        TestUtil.Close([(7 - Math.Sqrt(5)) / 2, (7 + Math.Sqrt(5)) / 2], a.Eigenvalues, 1e-12, 1e-12);
        Assert.Equal(CriticalPointKind.Minimum, a.Kind);
        Assert.Equal((7 + Math.Sqrt(5)) / (7 - Math.Sqrt(5)), a.ConditionNumber, 10);
        // Eigenvectors: A·v = λ·v.
        for (int c = 0; c < 2; c++)
        {
            double v0 = a.Eigenvectors[0, c], v1 = a.Eigenvectors[1, c], l = a.Eigenvalues[c];
            Assert.Equal(l * v0, 4 * v0 + v1, 10);
            Assert.Equal(l * v1, v0 + 3 * v1, 10);
        }
        var (top, vecs) = Hessian.TopEigenvalues(f, [theta], k: 2);
        TestUtil.Close([(7 + Math.Sqrt(5)) / 2, (7 - Math.Sqrt(5)) / 2], top, 1e-7, 1e-7);
        Assert.Equal(0.0, vecs[0][0] * vecs[1][0] + vecs[0][1] * vecs[1][1], 6);
    }

    [Fact]
    public void Maximum_degenerate_and_ill_conditioned_cases()
    {
        var p = Point(0, 0);
        Assert.Equal(CriticalPointKind.Maximum, Hessian.Analyze(() => -p[0].Square() - 2 * p[1].Square(), [p]).Kind);
        // x² + y⁴ at 0: eigenvalues 2 and 0, the second-order test cannot decide.
        var d = Hessian.Analyze(() => p[0].Square() + p[1].Pow(4), [p]);
        Assert.Equal(CriticalPointKind.Degenerate, d.Kind);
        Assert.Equal(double.PositiveInfinity, d.ConditionNumber);
        // diag(1, 10, 100): κ = 100; power iteration finds 100, Lanczos both ends.
        var scales = Torch.FromArray(new double[] { 0.5, 5, 50 }, [3]);
        var t = Point(1, 1, 1);
        Func<Tensor> f = () => (scales * t.Square()).Sum();
        Assert.Equal(100.0, Hessian.ConditionNumber(Hessian.Analyze(f, [t]).Eigenvalues), 10);
        Assert.Equal(100.0, Hessian.TopEigenvalues(f, [t]).Values[0], 6);
        var ritz = Hessian.Lanczos(f, [t], steps: 3);
        Assert.Equal(1.0, ritz[0], 8);
        Assert.Equal(100.0, ritz[^1], 8);
        Assert.Equal(CriticalPointKind.Saddle, Hessian.Classify([-1.0, 0.0, 3.0]));
    }

    [Fact]
    public void Small_network_hessian_is_symmetric_and_all_methods_agree()
    {
        // A 3-4-1 tanh network with MSE in float64: 21 parameters.
        var w1 = TestUtil.Leaf([4, 3], 1); var b1 = TestUtil.Leaf([4], 2);
        var w2 = TestUtil.Leaf([1, 4], 3); var b2 = TestUtil.Leaf([1], 4);
        var x = TestUtil.Leaf([5, 3], 5).Detach(); var y = TestUtil.Leaf([5, 1], 6).Detach();
        Tensor[] ps = [w1, b1, w2, b2];
        Func<Tensor> loss = () => F.MseLoss(F.Linear(F.Linear(x, w1, b1).Tanh(), w2, b2), y);
        var h = Hessian.Full(loss, ps);
        Assert.Equal(21, h.GetLength(0));
        double maxAsym = 0;
        for (int i = 0; i < 21; i++) for (int j = 0; j < 21; j++) maxAsym = Math.Max(maxAsym, Math.Abs(h[i, j] - h[j, i]));
        Assert.True(maxAsym < 1e-12, $"asymmetry {maxAsym}");
        var v = Enumerable.Range(0, 21).Select(i => Math.Sin(i + 1.0)).ToArray();
        var hv = new double[21];
        for (int i = 0; i < 21; i++) for (int j = 0; j < 21; j++) hv[i] += h[i, j] * v[j];
        TestUtil.Close(hv, Hessian.VectorProduct(loss, ps, v), 1e-10, 1e-12);
        TestUtil.Close(hv, Hessian.VectorProductFiniteDifference(loss, ps, v, 1e-5), 1e-5, 1e-7);
        var (values, _) = SymmetricEigen.Decompose(h);
        double largestMagnitude = values.MaxBy(Math.Abs);
        Assert.Equal(largestMagnitude, Hessian.TopEigenvalues(loss, ps, maxIterations: 1000, tolerance: 1e-12).Values[0], 5);
        var ritz = Hessian.Lanczos(loss, ps, steps: 21);
        Assert.Equal(values[0], ritz[0], 8);
        Assert.Equal(values[^1], ritz[^1], 8);
    }

    [Fact]
    public void Linear_regression_hessian_is_two_over_n_XtX_through_a_module()
    {
        // MSE of Linear(2, 1) over N samples: H over (w₁, w₂, b) = (2/N)·[X 1]ᵀ[X 1], exactly, whatever the weights.
        var model = new Linear(2, 1);
        var x = Torch.FromArray(new float[] { 1, 2, -1, 0.5f, 3, -2, 0, 1 }, [4, 2]);
        var y = Torch.FromArray(new float[] { 1, 0, 2, -1 }, [4, 1]);
        var h = Hessian.Full(() => F.MseLoss(model.Call(x), y), model.Parameters().ToArray());
        double[][] rows = [[1, 2, 1], [-1, 0.5, 1], [3, -2, 1], [0, 1, 1]];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(2.0 / 4 * rows.Sum(r => r[i] * r[j]), h[i, j], 5);
    }

    [Fact]
    public void Jacobi_decomposes_a_random_symmetric_matrix()
    {
        var rng = new Random(7);
        int n = 7;
        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i, j] = a[j, i] = rng.NextDouble() * 2 - 1;
        var (values, vectors) = SymmetricEigen.Decompose(a);
        for (int c = 0; c < n; c++)
        {
            if (c > 0) Assert.True(values[c - 1] <= values[c]);
            for (int r = 0; r < n; r++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[r, k] * vectors[k, c];
                Assert.Equal(values[c] * vectors[r, c], av, 10);
            }
            for (int c2 = 0; c2 < n; c2++)
            {
                double dot = 0;
                for (int r = 0; r < n; r++) dot += vectors[r, c] * vectors[r, c2];
                Assert.Equal(c == c2 ? 1.0 : 0.0, dot, 10);
            }
        }
    }

    [Fact]
    public void Size_and_shape_errors_name_the_operation()
    {
        var p = Point(1, 2);
        var ex = Assert.Throws<ArgumentException>(() => Hessian.VectorProduct(() => p.Sum(), [p], [1.0]));
        Assert.Contains("VectorProduct", ex.Message);
        Assert.Contains("1 entries", ex.Message);
        Assert.Contains("have 2", ex.Message);
        var big = TestUtil.Leaf([50], 1);
        var ex2 = Assert.Throws<ArgumentException>(() => Hessian.Full(() => big.Square().Sum(), [big], maxParameters: 10));
        Assert.Contains("50 parameters", ex2.Message);
        var ex3 = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(new double[2, 3]));
        Assert.Contains("2×3", ex3.Message);
        // A linear loss has zero curvature.
        Assert.Equal([0.0, 0.0], Hessian.VectorProduct(() => p.Sum(), [p], [1.0, 1.0]));
    }
}
