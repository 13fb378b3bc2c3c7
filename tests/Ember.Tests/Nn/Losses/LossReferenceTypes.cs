namespace Ember.Tests.Nn.Losses;

/// <summary>A tensor recorded by tools/oracle/losses.cs (values as doubles, exact for float32).</summary>
internal sealed record RefTensor(int[] Shape, string DType, double[] Data)
{
    public Tensor ToTensor() => DType switch
    {
        "int64" => Torch.FromArray(Data.Select(v => (long)v).ToArray(), Shape),
        "float64" => Torch.FromArray(Data, Shape),
        _ => Torch.FromArray(Data.Select(v => (float)v).ToArray(), Shape),
    };
}

/// <summary>
/// One oracle case: the op and its options ("k=v;k=v"), the inputs ("input" is the one differentiated), PyTorch's
/// output, the cotangent c and PyTorch's d(Σ c·output)/d input.
/// </summary>
internal sealed record LossCase(string Name, string Op, string Params, (string Name, RefTensor Tensor)[] Inputs, RefTensor Value, RefTensor Cotangent, RefTensor Grad)
{
    public Dictionary<string, string> Options => Params.Split(';', StringSplitOptions.RemoveEmptyEntries)
        .Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
}
