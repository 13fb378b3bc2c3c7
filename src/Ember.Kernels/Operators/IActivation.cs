namespace Ember.Kernels.Operators;

/// <summary>
/// A pointwise activation y = f(x) and its backward g·f′(x): on float vectors of any width (the fast path) and on one
/// double (the float64 path). <see cref="Loops.ActivationKernel"/> runs it over spans.
/// </summary>
public interface IActivation
{
    /// <summary>f(x) per lane.</summary>
    static abstract TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>;

    /// <summary>g·f′(x) per lane.</summary>
    static abstract TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float>;

    /// <summary>f(x) in double precision.</summary>
    static abstract double Forward(double x);

    /// <summary>g·f′(x) in double precision.</summary>
    static abstract double Backward(double g, double x);
}
