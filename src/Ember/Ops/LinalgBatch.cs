namespace Ember.Ops;

/// <summary>
/// What the linalg ops share: input checks with PyTorch's messages, and the walk over batches of matrices. The
/// factorizations run in float64 (Ember.Kernels.Linalg) whatever the input dtype and round back to it.
/// </summary>
internal static class LinalgBatch
{
    public static void CheckMatrix(Tensor a, string op, string name = "A")
    {
        if (!a.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: Expected a floating point tensor as input. Got {a.DType.TorchName()}");
        if (a.Rank < 2)
            throw new ArgumentException($"{op}: The input tensor {name} must have at least 2 dimensions, got shape {a.Shape}.");
    }

    public static void CheckSquare(Tensor a, string op, string name = "A")
    {
        CheckMatrix(a, op, name);
        if (a.shape[^1] != a.shape[^2])
            throw new ArgumentException($"{op}: {name} must be batches of square matrices, but they are {a.shape[^2]} by {a.shape[^1]} matrices (shape {a.Shape})");
    }

    /// <summary>The number of matrices in a [..., m, n] tensor.</summary>
    public static int Count(int[] shape)
    {
        int count = 1;
        for (int i = 0; i < shape.Length - 2; i++) count *= shape[i];
        return count;
    }

    /// <summary>A contiguous float64 copy of the values.</summary>
    public static double[] Data(Tensor a) => a.Detach().To(DType.Float64).Contiguous().ToArray<double>();

    /// <summary>A tensor of <paramref name="dtype"/> holding <paramref name="values"/>.</summary>
    public static Tensor Result(double[] values, int[] shape, DType dtype)
    {
        var t = Torch.FromArray(values, shape);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }

    /// <summary>PyTorch's prefix naming the failing matrix of a batch.</summary>
    public static string Where(Tensor a, int batch) => a.Rank > 2 ? $"(Batch element {batch}): " : "";

    /// <summary>v [..., k] → [..., k, k] with v on the diagonal (torch.diag_embed), differentiable.</summary>
    public static Tensor DiagEmbed(Tensor v) => v.Unsqueeze(-1) * Torch.Eye(v.shape[^1], dtype: v.DType);
}
