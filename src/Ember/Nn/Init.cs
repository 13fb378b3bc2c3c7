namespace Ember.Nn;

/// <summary>
/// Parameter initialization (torch.nn.init). Every function fills the tensor in place without recording a gradient and
/// returns it; each takes an optional <see cref="Generator"/> (the global default otherwise) so runs are reproducible.
/// </summary>
public static class Init
{
    /// <summary>The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); <paramref name="param"/> is LeakyReLU's slope.</summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Conv or Nonlinearity.Sigmoid => 1.0,
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + (param ?? 0.01) * (param ?? 0.01))),
        Nonlinearity.Selu => 3.0 / 4,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "calculate_gain: unsupported nonlinearity"),
    };

    /// <summary>
    /// (fan_in, fan_out) of a weight laid out [out, in, *kernel] (torch.nn.init._calculate_fan_in_and_fan_out):
    /// fan_in = in·∏kernel, fan_out = out·∏kernel.
    /// </summary>
    public static (int FanIn, int FanOut) CalculateFanInAndFanOut(Tensor tensor)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"init: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (got shape {tensor.Shape})");
        int receptive = 1;
        for (int d = 2; d < tensor.Rank; d++) receptive *= tensor.Size(d);
        return (tensor.Size(1) * receptive, tensor.Size(0) * receptive);
    }

    static Tensor Fill(Tensor tensor, Tensor values)
    {
        using (Torch.NoGrad()) tensor.CopyFrom(values);
        return tensor;
    }

    static DType FloatType(Tensor t) => t.DType == DType.Float64 ? DType.Float64 : DType.Float32;

    /// <summary>U(a, b) (torch.nn.init.uniform_).</summary>
    public static Tensor Uniform(Tensor tensor, double a = 0, double b = 1, Generator? generator = null)
        => Fill(tensor, Torch.Uniform(a, b, tensor.Shape.ToArray(), FloatType(tensor), generator));

    /// <summary>N(mean, std²) (torch.nn.init.normal_).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
        => Fill(tensor, Torch.Normal(mean, std, tensor.Shape.ToArray(), FloatType(tensor), generator));

    /// <summary>Every element = value (torch.nn.init.constant_).</summary>
    public static Tensor Constant(Tensor tensor, double value)
    {
        using (Torch.NoGrad()) tensor.FillInPlace(value);
        return tensor;
    }

    /// <summary>
    /// A classifier's output bias set from the class prior, so the untrained model already predicts the class frequencies
    /// (the notes, and YOLOv5's detection heads: for imbalanced data this matters more than the loss): bᶜ = log pᶜ for a
    /// softmax output, bᶜ = log(pᶜ / (1 − pᶜ)) for independent sigmoid outputs. <paramref name="classCounts"/> are the
    /// training set's samples per class (every class needs at least one); pᶜ = countᶜ / total.
    /// </summary>
    public static Tensor ClassPriorBias(Tensor bias, IReadOnlyList<long> classCounts, bool sigmoid = false)
    {
        if (bias.Rank != 1 || bias.Size(0) != classCounts.Count)
            throw new ArgumentException($"Init.ClassPriorBias: the bias has shape {bias.Shape}, expected [{classCounts.Count}] (one value per class count)");
        long total = 0;
        for (int c = 0; c < classCounts.Count; c++)
        {
            if (classCounts[c] <= 0)
                throw new ArgumentException($"Init.ClassPriorBias: class {c} has {classCounts[c]} samples; a prior needs at least one per class");
            total = checked(total + classCounts[c]);
        }
        var values = new double[classCounts.Count];
        for (int c = 0; c < values.Length; c++)
        {
            double p = (double)classCounts[c] / total;
            values[c] = sigmoid ? Math.Log(p) - double.LogP1(-p) : Math.Log(p);
        }
        if (sigmoid && classCounts.Count == 1)
            throw new ArgumentException("Init.ClassPriorBias: a sigmoid prior needs at least two classes (one class has p = 1, whose logit is infinite)");
        return Fill(bias, Torch.FromArray(values, [values.Length]).To(bias.DType));
    }

    /// <summary>Zeros (torch.nn.init.zeros_).</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>Ones (torch.nn.init.ones_).</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>Glorot uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)) (torch.nn.init.xavier_uniform_).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        double a = Math.Sqrt(3.0) * gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        return Uniform(tensor, -a, a, generator);
    }

    /// <summary>Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)) (torch.nn.init.xavier_normal_).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    static int Fan(Tensor tensor, FanMode mode)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        return mode == FanMode.FanIn ? fanIn : fanOut;
    }

    /// <summary>
    /// He uniform: U(−b, b), b = gain·√(3 / fan) with gain = CalculateGain(nonlinearity, a) (torch.nn.init.kaiming_uniform_).
    /// Linear and convolution layers use a = √5, which gives b = 1/√fan_in.
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        double std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(tensor, mode));
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>He normal: N(0, std²), std = gain/√fan (torch.nn.init.kaiming_normal_).</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
        => Normal(tensor, 0, CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(tensor, mode)), generator);

    /// <summary>
    /// N(mean, std²) truncated to [a, b] (torch.nn.init.trunc_normal_), by the same inverse-CDF method as PyTorch:
    /// u ~ U(Φ(α), Φ(β)), x = mean + std·Φ⁻¹(u), clamped to [a, b].
    /// </summary>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        if (!(a < b)) throw new ArgumentException($"trunc_normal_: expected a < b, got a={a}, b={b}");
        var g = generator ?? Generator.Default;
        double lo = NormCdf((a - mean) / std), hi = NormCdf((b - mean) / std);
        var values = new double[tensor.NumEl];
        for (int i = 0; i < values.Length; i++)
        {
            double u = lo + (hi - lo) * g.NextDouble();
            values[i] = Math.Clamp(mean + std * InverseNormCdf(u), a, b);
        }
        return Fill(tensor, Torch.FromArray(values, tensor.Shape.ToArray()));
    }

    /// <summary>
    /// A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, with R's diagonal made positive
    /// (torch.nn.init.orthogonal_); dimensions after the first are flattened. Scaled by <paramref name="gain"/>.
    /// </summary>
    public static Tensor Orthogonal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"orthogonal_: only tensors with 2 or more dimensions are supported (got shape {tensor.Shape})");
        int rows = tensor.Size(0), cols = tensor.NumEl / Math.Max(rows, 1);
        if (tensor.NumEl == 0) return tensor;
        var g = generator ?? Generator.Default;
        // Work on the tall orientation (m ≥ n), transposing back at the end, as PyTorch does.
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;
        var a = new double[m, n];
        var normal = new double[rows * cols];
        for (int i = 0; i < normal.Length; i++) normal[i] = g.NextNormal();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                if (transpose) a[c, r] = normal[r * cols + c]; else a[r, c] = normal[r * cols + c];
        // Modified Gram–Schmidt with one re-orthogonalization pass: the columns of Q, with R's diagonal positive,
        // which is exactly QR followed by PyTorch's sign correction q *= sign(diag(r)).
        for (int j = 0; j < n; j++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += a[i, k] * a[i, j];
                    for (int i = 0; i < m; i++) a[i, j] -= dot * a[i, k];
                }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += a[i, j] * a[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < m; i++) a[i, j] /= norm;
        }
        var q = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                q[r * cols + c] = gain * (transpose ? a[c, r] : a[r, c]);
        return Fill(tensor, Torch.FromArray(q, tensor.Shape.ToArray()));
    }

    static double NormCdf(double x) => 0.5 * (1 + Kernels.Operators.ErrorFunction.Erf(x / Math.Sqrt(2)));

    /// <summary>Φ⁻¹ by Acklam's rational approximation refined with two Newton steps (full double precision).</summary>
    static double InverseNormCdf(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        double x;
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p > 1 - 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else
        {
            double q = p - 0.5, r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        for (int i = 0; i < 2; i++)
        {
            double e = NormCdf(x) - p;
            x -= e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        }
        return x;
    }
}
