using Ember.Backends;

namespace Ember;

public static partial class Torch
{
    static Tensor New(DType dtype, int[] shape, bool zeroed) => Backend.Of(Device.Cpu).Empty(dtype, (int[])shape.Clone(), zeroed);

    /// <summary>Uninitialized tensor (torch.empty).</summary>
    public static Tensor Empty(int[] shape, DType dtype = DType.Float32) => New(dtype, shape, false);
    /// <summary>Zeros (torch.zeros).</summary>
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32) => New(dtype, shape, true);
    /// <summary>Zeros with shape given as arguments.</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.Float32);
    /// <summary>Ones (torch.ones).</summary>
    public static Tensor Ones(int[] shape, DType dtype = DType.Float32) => Full(shape, 1, dtype);
    /// <summary>Ones with shape given as arguments.</summary>
    public static Tensor Ones(params int[] shape) => Ones(shape, DType.Float32);
    /// <summary>A tensor filled with value (torch.full).</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32)
    {
        var t = New(dtype, shape, false);
        Backend.Of(t).Fill(t, value);
        return t;
    }

    /// <summary>A 0-d tensor (torch.tensor(3.0)).</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full([], value, dtype);

    /// <summary>Zeros shaped like x (torch.zeros_like).</summary>
    public static Tensor ZerosLike(Tensor x, DType? dtype = null) => Zeros(x.shape, dtype ?? x.DType);
    /// <summary>Ones shaped like x (torch.ones_like).</summary>
    public static Tensor OnesLike(Tensor x, DType? dtype = null) => Ones(x.shape, dtype ?? x.DType);
    /// <summary>Filled tensor shaped like x (torch.full_like).</summary>
    public static Tensor FullLike(Tensor x, double value, DType? dtype = null) => Full(x.shape, value, dtype ?? x.DType);
    /// <summary>Uninitialized tensor shaped like x (torch.empty_like).</summary>
    public static Tensor EmptyLike(Tensor x, DType? dtype = null) => Empty(x.shape, dtype ?? x.DType);
    /// <summary>Uniform [0, 1) shaped like x (torch.rand_like).</summary>
    public static Tensor RandLike(Tensor x, Generator? generator = null) => Rand(x.shape, x.DType, generator);
    /// <summary>Standard normal shaped like x (torch.randn_like).</summary>
    public static Tensor RandnLike(Tensor x, Generator? generator = null) => Randn(x.shape, x.DType, generator);

    /// <summary>[start, end) by step (torch.arange). Integral arguments give int64, as in PyTorch.</summary>
    public static Tensor Arange(long end) => Arange(0, end, 1);
    /// <summary>Floating range [0, end) in steps of 1 (torch.arange(5.0) or torch.arange(5, dtype=...)).</summary>
    public static Tensor Arange(double end, DType dtype = DType.Float32) => Arange(0.0, end, 1.0, dtype);
    /// <summary>Integer range [start, end) by step, int64.</summary>
    public static Tensor Arange(long start, long end, long step = 1)
    {
        if (step == 0) throw new ArgumentException("arange: step must be nonzero");
        long count = Math.Max(0, (end - start + step - (step > 0 ? 1 : -1)) / step);
        var data = new long[count];
        for (long i = 0; i < count; i++) data[i] = start + i * step;
        return FromArray(data, [(int)count]);
    }
    /// <summary>Floating range [start, end) by step (torch.arange with floats); count = ceil((end − start)/step).</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0) throw new ArgumentException("arange: step must be nonzero");
        int count = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = New(dtype, [count], false);
        for (int i = 0; i < count; i++) SetFlat(t, i, start + i * step);
        return t;
    }

    /// <summary>steps points evenly from start to end inclusive (torch.linspace).</summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32)
    {
        if (steps < 0) throw new ArgumentException($"linspace: number of steps must be non-negative, got {steps}");
        var t = New(dtype, [steps], false);
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        // like PyTorch, fill the second half backwards from end so both endpoints are exact
        if (steps == 1) { SetFlat(t, 0, start); return t; } // PyTorch gives [start], not [end]
        for (int i = 0; i < steps; i++) SetFlat(t, i, i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step);
        return t;
    }

    /// <summary>Identity matrix (torch.eye).</summary>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32)
    {
        int cols = m ?? n;
        var t = Zeros([n, cols], dtype);
        for (int i = 0; i < Math.Min(n, cols); i++) SetFlat(t, i * cols + i, 1);
        return t;
    }

    /// <summary>Uniform [0, 1) (torch.rand).</summary>
    public static Tensor Rand(int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        if (dtype.IsReducedFloat()) return Rand(shape, DType.Float32, g).To(dtype); // drawn in float32, then rounded
        var t = New(dtype, shape, false);
        if (dtype == DType.Float32) { var s = t.Span<float>(); for (int i = 0; i < s.Length; i++) s[i] = g.NextSingle(); }
        else if (dtype == DType.Float64) { var s = t.Span<double>(); for (int i = 0; i < s.Length; i++) s[i] = g.NextDouble(); }
        else throw new ArgumentException($"rand: expected a floating point dtype, got {dtype.TorchName()}");
        return t;
    }
    /// <summary>Uniform [0, 1) with shape as arguments.</summary>
    public static Tensor Rand(params int[] shape) => Rand(shape, DType.Float32);

    /// <summary>Standard normal (torch.randn).</summary>
    public static Tensor Randn(int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        if (dtype.IsReducedFloat()) return Randn(shape, DType.Float32, g).To(dtype);
        var t = New(dtype, shape, false);
        if (dtype == DType.Float32) { var s = t.Span<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)g.NextNormal(); }
        else if (dtype == DType.Float64) { var s = t.Span<double>(); for (int i = 0; i < s.Length; i++) s[i] = g.NextNormal(); }
        else throw new ArgumentException($"randn: expected a floating point dtype, got {dtype.TorchName()}");
        return t;
    }
    /// <summary>Standard normal with shape as arguments.</summary>
    public static Tensor Randn(params int[] shape) => Randn(shape, DType.Float32);

    /// <summary>Uniform integers in [low, high) (torch.randint).</summary>
    public static Tensor Randint(long low, long high, int[] shape, Generator? generator = null)
    {
        if (high <= low) throw new ArgumentException($"randint: expected low < high, got low={low}, high={high}");
        var g = generator ?? Generator.Default;
        var t = New(DType.Int64, shape, false);
        var s = t.Span<long>();
        for (int i = 0; i < s.Length; i++) s[i] = low + g.NextInt64(high - low);
        return t;
    }

    /// <summary>Uniform integers in [0, high) (torch.randint(high, size)).</summary>
    public static Tensor Randint(long high, int[] shape, Generator? generator = null) => Randint(0, high, shape, generator);

    /// <summary>A random permutation of 0..n−1 (torch.randperm), by Fisher–Yates.</summary>
    public static Tensor Randperm(int n, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var data = new long[n];
        for (int i = 0; i < n; i++) data[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = (int)g.NextInt64(i + 1); (data[i], data[j]) = (data[j], data[i]); }
        return FromArray(data, [n]);
    }

    /// <summary>Normal samples with the given mean and std (torch.normal).</summary>
    public static Tensor Normal(double mean, double std, int[] shape, DType dtype = DType.Float32, Generator? generator = null)
        => Randn(shape, dtype, generator) * std + mean;

    /// <summary>Uniform samples in [low, high) (torch.Tensor.uniform_).</summary>
    public static Tensor Uniform(double low, double high, int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        // One pass with the arithmetic of rand(shape)·(high − low) + low in the tensor's precision (same bits, a
        // quarter of the memory traffic: model initialization draws every weight through here).
        var g = generator ?? Generator.Default;
        if (dtype.IsReducedFloat()) return Uniform(low, high, shape, DType.Float32, g).To(dtype);
        var t = New(dtype, shape, false);
        if (dtype == DType.Float32)
        {
            float scale = (float)(high - low), shift = (float)low;
            var s = t.Span<float>();
            for (int i = 0; i < s.Length; i++) { float u = g.NextSingle() * scale; s[i] = u + shift; }
        }
        else if (dtype == DType.Float64)
        {
            double scale = high - low;
            var s = t.Span<double>();
            for (int i = 0; i < s.Length; i++) { double u = g.NextDouble() * scale; s[i] = u + low; }
        }
        else throw new ArgumentException($"uniform: expected a floating point dtype, got {dtype.TorchName()}");
        return t;
    }

    /// <summary>1 with probability p elementwise, as p's dtype (torch.bernoulli).</summary>
    public static Tensor Bernoulli(Tensor p, Generator? generator = null)
    {
        var u = Rand(p.shape, p.DType.IsFloatingPoint() ? p.DType : DType.Float32, generator);
        return (u < p.Detach()).To(p.DType.IsFloatingPoint() ? p.DType : DType.Float32);
    }

    /// <summary>
    /// Draws numSamples category indices per row from (unnormalized) weights (torch.multinomial), with or without replacement.
    /// </summary>
    public static Tensor Multinomial(Tensor weights, int numSamples, bool replacement = false, Generator? generator = null)
    {
        if (weights.Rank is < 1 or > 2) throw new ArgumentException($"multinomial: prob_dist must be 1 or 2 dim, got shape {weights.Shape}");
        var g = generator ?? Generator.Default;
        var w2 = (weights.Rank == 1 ? weights.Unsqueeze(0) : weights).To(DType.Float64).Contiguous();
        int rows = w2.Size(0), n = w2.Size(1);
        if (!replacement && numSamples > n)
            throw new ArgumentException($"multinomial: cannot sample {numSamples} > {n} categories without replacement");
        var all = w2.ToArray<double>();
        var result = new long[rows * numSamples];
        for (int r = 0; r < rows; r++)
        {
            var w = all.AsSpan(r * n, n).ToArray();
            foreach (var v in w)
                if (v < 0 || double.IsNaN(v) || double.IsInfinity(v)) throw new ArgumentException($"multinomial: probability tensor contains either inf, nan or element < 0 (row {r})");
            for (int s = 0; s < numSamples; s++)
            {
                double total = 0;
                foreach (var v in w) total += v;
                if (total <= 0) throw new ArgumentException($"multinomial: invalid distribution in row {r}: the weights sum to 0");
                double u = g.NextDouble() * total, acc = 0;
                int pick = n - 1;
                for (int i = 0; i < n; i++) { acc += w[i]; if (u < acc && w[i] > 0) { pick = i; break; } }
                result[r * numSamples + s] = pick;
                if (!replacement) w[pick] = 0;
            }
        }
        var t = FromArray(result, [rows, numSamples]);
        return weights.Rank == 1 ? t.Reshape(numSamples) : t;
    }

    /// <summary>A tensor over a copy of a flat array with the given shape (torch.tensor(data).reshape(shape)).</summary>
    public static Tensor FromArray<T>(T[] data, int[] shape) where T : unmanaged
    {
        var dtype = DTypeExtensions.FromClr(typeof(T));
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"tensor: shape {Shape.Format(shape)} needs {count} elements but the array has {data.Length}");
        var t = New(dtype, shape, false);
        CopyInto(data, t);
        return t;
    }

    /// <summary>A 1-D tensor from values (torch.tensor([...])).</summary>
    public static Tensor Tensor<T>(params T[] data) where T : unmanaged => FromArray(data, [data.Length]);

    /// <summary>
    /// A tensor from a rectangular multi-dimensional array, e.g. <c>new float[,] {{1, 2}, {3, 4}}</c>, or from nested
    /// (jagged) arrays such as <c>new[] { new[] { 1f, 2f }, new[] { 3f, 4f } }</c>, or a mix of both.
    /// </summary>
    public static Tensor Tensor(Array data)
    {
        var shape = new List<int>();
        var leaves = new List<object>();
        Flatten(data, 0, shape, leaves);
        if (leaves.Count == 0 && shape.Count == 0) shape.Add(0);
        var type = LeafType(data.GetType());
        var dtype = DTypeExtensions.FromClr(type);
        var t = New(dtype, shape.ToArray(), false);
        int i = 0;
        foreach (var v in leaves) SetFlat(t, i++, v switch { bool b => b ? 1 : 0, Half h => (double)h, Kernels.Numerics.BFloat16 h => (double)h, _ => Convert.ToDouble(v) }, v is long l ? l : null);
        return t;
    }

    static Type LeafType(Type t) => t.IsArray ? LeafType(t.GetElementType()!) : t;

    /// <summary>Walks a (possibly jagged) array depth-first, recording the shape from the first element at each depth and checking the rest.</summary>
    static void Flatten(Array data, int depth, List<int> shape, List<object> leaves)
    {
        var dims = new int[data.Rank];
        for (int d = 0; d < data.Rank; d++) dims[d] = data.GetLength(d);
        if (shape.Count == depth) shape.AddRange(dims);
        else if (shape.Count < depth + dims.Length || !shape.GetRange(depth, dims.Length).SequenceEqual(dims))
            throw new ArgumentException($"tensor: nested arrays must be rectangular; expected sizes {Shape.Format(shape.Skip(depth).ToArray())} at depth {depth}, got {Shape.Format(dims)}");
        foreach (var v in data)
        {
            if (v is Array inner) Flatten(inner, depth + dims.Length, shape, leaves);
            else if (v is null) throw new ArgumentException("tensor: nested arrays must not contain null");
            else leaves.Add(v);
        }
    }

    static void CopyInto<T>(T[] data, Tensor t) where T : unmanaged
    {
        if (typeof(T) == typeof(int)) { var s = t.Span<long>(); var src = (int[])(object)data; for (int i = 0; i < src.Length; i++) s[i] = src[i]; }
        else data.AsSpan().CopyTo(t.Span<T>());
    }

    static void SetFlat(Tensor t, int i, double value, long? exact = null)
    {
        switch (t.DType)
        {
            case DType.Float32: t.storage.As<float>()[i] = (float)value; break;
            case DType.Float64: t.storage.As<double>()[i] = value; break;
            case DType.Int64: t.storage.As<long>()[i] = exact ?? (long)value; break;
            case DType.Bool: t.storage.As<bool>()[i] = value != 0; break;
            default: Backend.Of(t).Fill(t.Reshape(-1).Narrow(0, i, 1), value); break; // the other dtypes convert as a fill does
        }
    }
}
