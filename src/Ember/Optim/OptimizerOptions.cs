using System.Globalization;

namespace Ember.Optim;

/// <summary>
/// Hyper-parameters of one parameter group. Each optimizer has its own record (<see cref="SgdOptions"/>,
/// <see cref="AdamOptions"/>…); a group's options are a copy of the optimizer's defaults with the group's own
/// overrides applied (PyTorch fills missing group keys from <c>optimizer.defaults</c>).
/// </summary>
public abstract record OptimizerOptions
{
    /// <summary>The learning rate (PyTorch's <c>lr</c>); schedulers rewrite it.</summary>
    public double LearningRate { get; set; }

    /// <summary>Throws like PyTorch ("Invalid learning rate: -0.1") when a hyper-parameter is out of range.</summary>
    internal virtual void Validate(string optimizer)
    {
        NonNegative(optimizer, LearningRate, "learning rate");
    }

    /// <summary>The scalar hyper-parameters by PyTorch name, for state dicts (booleans as 0/1).</summary>
    internal virtual IEnumerable<(string Name, double Value)> Scalars()
    {
        yield return ("lr", LearningRate);
    }

    /// <summary>Reads back what <see cref="Scalars"/> wrote.</summary>
    internal virtual void Load(Func<string, double> scalar)
    {
        LearningRate = scalar("lr");
    }

    /// <summary>Reads back what <see cref="Scalars"/> wrote, for options whose keys are only written when not default.</summary>
    internal virtual void Load(Func<string, double> scalar, Func<string, bool> has) => Load(scalar);

    internal static void NonNegative(string optimizer, double value, string what)
    {
        if (!(value >= 0))
            throw new ArgumentException($"{optimizer}: Invalid {what}: {Format(value)} (expected >= 0)");
    }

    internal static void CheckBetas(string optimizer, (double Beta1, double Beta2) betas)
    {
        if (!(betas.Beta1 >= 0 && betas.Beta1 < 1))
            throw new ArgumentException($"{optimizer}: Invalid beta parameter at index 0 (beta1): {Format(betas.Beta1)} (expected 0 <= beta1 < 1)");
        if (!(betas.Beta2 >= 0 && betas.Beta2 < 1))
            throw new ArgumentException($"{optimizer}: Invalid beta parameter at index 1 (beta2): {Format(betas.Beta2)} (expected 0 <= beta2 < 1)");
    }

    internal static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);
}
