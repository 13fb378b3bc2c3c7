using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>The lower median of all elements (torch.median()); ties share the gradient.</summary>
    public Tensor Median() => StatisticsOps.Median(this);
    /// <summary>The lower median along dim and its index (torch.median(dim)).</summary>
    public (Tensor Values, Tensor Indices) Median(int dim, bool keepDim = false) => StatisticsOps.Median(this, dim, keepDim);
    /// <summary>Quantiles along dim, or of all elements when dim is null (torch.quantile); q is 0-D or 1-D in [0, 1].</summary>
    public Tensor Quantile(Tensor q, int? dim = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
        => StatisticsOps.Quantile(this, q, dim, keepDim, interpolation);
    /// <summary>One quantile along dim, or of all elements (torch.quantile with a float q).</summary>
    public Tensor Quantile(double q, int? dim = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
        => StatisticsOps.Quantile(this, Torch.Scalar(q, DType.Float64), dim, keepDim, interpolation);
    /// <summary>The most frequent value along dim and the index of its last occurrence (torch.mode).</summary>
    public (Tensor Values, Tensor Indices) Mode(int dim = -1, bool keepDim = false) => StatisticsOps.Mode(this, dim, keepDim);
    /// <summary>Counts (or summed weights) of each value of a 1-D int64 tensor (torch.bincount).</summary>
    public Tensor Bincount(Tensor? weights = null, int minLength = 0) => StatisticsOps.Bincount(this, weights, minLength);
    /// <summary>A histogram with equal bins over [min, max]; min = max = 0 uses the data's range (torch.histc).</summary>
    public Tensor Histc(int bins = 100, double min = 0, double max = 0) => StatisticsOps.Histc(this, bins, min, max);
}
