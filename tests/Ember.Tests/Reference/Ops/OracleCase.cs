namespace Ember.Tests.Reference.Ops;

/// <summary>One output of an oracle case: values (flattened, as double) and shape.</summary>
internal sealed record OracleOutput(double[] Values, int[] Shape);

/// <summary>
/// An oracle case: every output, and the gradient of Σ_k Σ_i out_k[i]·cos(0.7·i + 0.1) with respect to each input
/// (null where the input gets none). Produced by the *.oracle.csx scripts beside this file.
/// </summary>
internal sealed record OracleCase(OracleOutput[] Outputs, double[]?[] Grads);
