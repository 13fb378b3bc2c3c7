using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Sinusoidal position encoding ("Attention Is All You Need"): PE[pos, 2i] = sin(pos/10000^(2i/d)),
/// PE[pos, 2i+1] = cos(pos/10000^(2i/d)); added to [L, N, d] inputs ([N, L, d] with batchFirst), then dropout.
/// The table is a non-persistent buffer "pe" [maxLen, d]: recomputed, not saved.
/// </summary>
public sealed class PositionalEncoding : Module
{
    /// <summary>Model width d.</summary>
    public int DModel { get; }
    /// <summary>Longest sequence supported.</summary>
    public int MaxLen { get; }
    /// <summary>Whether inputs are [N, L, d].</summary>
    public bool BatchFirst { get; }
    /// <summary>Dropout after the addition (the PyTorch tutorial's 0.1).</summary>
    public double DropoutP { get; }
    /// <summary>The table [maxLen, d].</summary>
    public Tensor Pe { get; }
    readonly Generator? generator;

    /// <summary>Builds the table.</summary>
    public PositionalEncoding(int dModel, double dropout = 0.1, int maxLen = 5000, bool batchFirst = false, Generator? generator = null)
    {
        if (dModel <= 0 || maxLen <= 0) throw new ArgumentException($"PositionalEncoding: d_model and max_len must be positive, got {dModel} and {maxLen}");
        (DModel, MaxLen, BatchFirst, DropoutP) = (dModel, maxLen, batchFirst, Dropout.ValidP(dropout, "PositionalEncoding"));
        this.generator = generator;
        var pe = new float[maxLen * dModel];
        for (int pos = 0; pos < maxLen; pos++)
            for (int i = 0; i < dModel; i += 2)
            {
                // div_term = exp(2i·(−ln 10000/d)), in float64 then rounded once
                double angle = pos * Math.Exp(i * (-Math.Log(10000.0) / dModel));
                pe[pos * dModel + i] = (float)Math.Sin(angle);
                if (i + 1 < dModel) pe[pos * dModel + i + 1] = (float)Math.Cos(angle);
            }
        Pe = RegisterBuffer("pe", Torch.FromArray(pe, [maxLen, dModel]), persistent: false)!;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3 || input.Size(2) != DModel)
            throw new ArgumentException($"PositionalEncoding: expected a 3-D input with {DModel} features, got shape {input.Shape}");
        int seqDim = BatchFirst ? 1 : 0;
        int len = input.Size(seqDim);
        if (len > MaxLen) throw new ArgumentException($"PositionalEncoding: sequence length {len} exceeds max_len {MaxLen}");
        var pe = Pe.Narrow(0, 0, len).To(input.DType);
        pe = BatchFirst ? pe.Unsqueeze(0) : pe.Unsqueeze(1);
        return F.Dropout(input + pe, DropoutP, Training, generator);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"d_model={DModel}, max_len={MaxLen}, dropout={PyRepr.Float(DropoutP)}";
}
