namespace Ember.Autograd;

/// <summary>
/// Finite-difference check of analytical gradients (torch.autograd.gradcheck), in float64. The output is projected
/// on a fixed random vector v, so one backward gives vᵀJ, compared with central differences of vᵀf(x) per element.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Throws <see cref="GradCheckException"/> naming the input, element, analytical and numerical values when they
    /// differ by more than atol + rtol·|numerical|. Inputs must be float64 tensors that require grad.
    /// </summary>
    public static void Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, long seed = 0)
    {
        foreach (var x in inputs)
        {
            if (x.DType != DType.Float64) throw new ArgumentException($"gradcheck: inputs must be float64, got {x.DType.TorchName()}");
            if (!x.RequiresGrad) throw new ArgumentException("gradcheck: every input must require grad");
        }
        var output = function(inputs);
        var v = Torch.Randn(output.Shape.ToArray(), DType.Float64, new Generator(seed + 12345));
        double Project(Tensor y) => (y.Detach() * v).Sum().Item();

        foreach (var x in inputs) x.Grad = null;
        (output * v).Sum().Backward();
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            var analytical = x.Grad?.ToDoubleArray() ?? new double[x.NumEl];
            var data = x.Detach();
            var flat = data.Contiguous();
            if (!ReferenceEquals(flat, data) && !x.IsContiguous)
                throw new ArgumentException("gradcheck: inputs must be contiguous");
            var storage = x.storage.As<double>();
            for (int i = 0; i < x.NumEl; i++)
            {
                int at = x.offset + i;
                double original = storage[at];
                double plus, minus;
                // evaluated with grad mode on: a second-order check's function itself calls autograd
                storage[at] = original + eps; plus = Project(function(inputs));
                storage[at] = original - eps; minus = Project(function(inputs));
                storage[at] = original;
                double numerical = (plus - minus) / (2 * eps);
                if (Math.Abs(analytical[i] - numerical) > atol + rtol * Math.Abs(numerical) || double.IsNaN(analytical[i]) != double.IsNaN(numerical))
                    throw new GradCheckException($"gradcheck: Jacobian mismatch for input {k} (shape {x.Shape}) at element {i}: analytical {analytical[i]:G9}, numerical {numerical:G9}");
            }
            x.Grad = null;
        }
    }

    /// <summary>Second-order check: gradcheck of the gradient function built with createGraph (torch.autograd.gradgradcheck).</summary>
    public static void CheckSecondOrder(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        Tensor Gradient(Tensor[] xs)
        {
            var y = function(xs);
            var v = Torch.Randn(y.Shape.ToArray(), DType.Float64, new Generator(999));
            var grads = Torch.Grad([(y * v).Sum()], xs, createGraph: true, allowUnused: true);
            var parts = new List<Tensor>();
            for (int i = 0; i < xs.Length; i++) parts.Add((grads[i] ?? Torch.ZerosLike(xs[i])).Reshape(-1));
            return Torch.Cat(parts.ToArray());
        }
        Check(Gradient, inputs, eps, atol, rtol);
    }
}

/// <summary>A gradient check failed.</summary>
public sealed class GradCheckException(string message) : Exception(message);
