namespace Ember.Analysis;

/// <summary>
/// One invocation of a counted module during a profiled forward pass. A module called twice (a shared ReLU) gives two
/// rows; its parameters are listed on the first only, so the column sums to the parameters the leaves hold.
/// </summary>
/// <param name="Path">Dotted module path (<c>features.0</c>); the module type when the root itself is a leaf.</param>
/// <param name="Type">The module's class name.</param>
/// <param name="OutputShape">Shape of the output tensor.</param>
/// <param name="Parameters">Parameter elements of the module (0 on repeated calls).</param>
/// <param name="Macs">Multiply-accumulates by thop's rule for the type.</param>
/// <param name="Rule">The counting rule applied: conv, linear, norm, pool, softmax, attention, zero, or "none" (no rule, counted 0 as thop does).</param>
public sealed record LayerProfile(string Path, string Type, Shape OutputShape, long Parameters, long Macs, string Rule)
{
    /// <summary>Operations by the 2 × MACs convention.</summary>
    public long Flops => 2 * Macs;
}
