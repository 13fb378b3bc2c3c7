using Ember.Analysis;

namespace Ember.Tests.Docs;

/// <summary>docs/autograd.md's Newton-method example, run as written: one Newton step solves a quadratic exactly.</summary>
public class AutogradDocsExampleTests
{
    // Copied from docs/autograd.md ("Newton's method on a quadratic").
    static double[] Solve(double[,] h, double[] g)
    {
        int n = g.Length;
        var a = (double[,])h.Clone();
        var x = (double[])g.Clone();
        for (int k = 0; k < n; k++)                       // Gaussian elimination; H is SPD, so no pivoting
            for (int i = k + 1; i < n; i++)
            {
                double m = a[i, k] / a[k, k];
                for (int j = k; j < n; j++) a[i, j] -= m * a[k, j];
                x[i] -= m * x[k];
            }
        for (int i = n - 1; i >= 0; i--)
        {
            for (int j = i + 1; j < n; j++) x[i] -= a[i, j] * x[j];
            x[i] /= a[i, i];
        }
        return x;
    }

    [Fact]
    public void OneNewtonStepSolvesTheQuadratic()
    {
        var a = Torch.FromArray([4.0, 1, 0, 1, 3, 1, 0, 1, 2], [3, 3]);
        var b = Torch.Tensor([1.0, 2.0, 3.0]);
        var x = Torch.Zeros([3], DType.Float64).RequiresGradInPlace();
        Tensor Loss() => x.MatMul(a.MatMul(x)) * 0.5 - b.Dot(x);

        var g = Hessian.Gradient(Loss, [x]);            // ∇f(x)
        var h = Hessian.Full(Loss, [x]);                // ∇²f(x) = A, by double backward
        var step = Solve(h, g);                         // H⁻¹∇f
        using (Torch.NoGrad()) x.SubInPlace(Torch.Tensor(step));

        var residual = a.MatMul(x.Detach()) - b;        // the minimiser solves A·x = b
        Assert.True(residual.Abs().Max().Item() < 1e-12, $"residual {residual}");
        Assert.True(Hessian.Gradient(Loss, [x]).Max(Math.Abs) < 1e-12);
    }
}
