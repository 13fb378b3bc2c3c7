namespace Ember.Nn.Functional;

// Shared pieces of the loss functions: reduction and the argument checks whose messages every loss shares.
public static partial class F
{
    /// <summary>Applies a <see cref="Reduction"/> to per-element losses: as is, their mean, or their sum.</summary>
    public static Tensor Reduce(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.None => loss,
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        Reduction.BatchMean => throw BatchMeanOnlyForKlDiv("loss"),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction"),
    };

    /// <summary>The error for <see cref="Reduction.BatchMean"/> given to a loss other than kl_div.</summary>
    static ArgumentException BatchMeanOnlyForKlDiv(string op)
        => new($"{op}: reduction BatchMean is only defined for kl_div; use Mean, Sum or None", "reduction");

    /// <summary>Throws unless input and target have the same shape; the message names the op and both shapes.</summary>
    static void CheckSameShape(string op, Tensor input, Tensor target, string inputName = "input", string targetName = "target")
    {
        if (input.Shape != target.Shape)
            throw new ArgumentException($"{op}: expected {targetName} with the same shape as {inputName}, got {inputName} {input.Shape} and {targetName} {target.Shape}");
    }

    static void CheckFloating(string op, Tensor t, string name)
    {
        if (!t.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected a floating-point {name}, got {t.DType.TorchName()} (shape {t.Shape})");
    }

    /// <summary>A target in the input's dtype, so that float64 inputs stay float64 and an int target is not an error.</summary>
    static Tensor AsInputType(Tensor t, Tensor input) => t.DType == input.DType ? t : t.To(input.DType);
}
