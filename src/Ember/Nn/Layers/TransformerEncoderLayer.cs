using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// One transformer encoder block (torch.nn.TransformerEncoderLayer): self-attention and a feed-forward network
/// linear2(dropout(act(linear1(x)))), each with dropout and a residual; post-norm
/// (x = norm1(x + sa(x)); x = norm2(x + ff(x))) or pre-norm with normFirst (x = x + sa(norm1(x)); x = x + ff(norm2(x))).
/// Submodules carry PyTorch's names: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    /// <summary>Self-attention.</summary>
    public MultiheadAttention SelfAttn { get; }
    /// <summary>d_model → dim_feedforward.</summary>
    public Linear Linear1 { get; }
    /// <summary>Dropout inside the feed-forward network.</summary>
    public Dropout DropoutFf { get; }
    /// <summary>dim_feedforward → d_model.</summary>
    public Linear Linear2 { get; }
    /// <summary>Norm of the attention sub-block.</summary>
    public LayerNorm Norm1 { get; }
    /// <summary>Norm of the feed-forward sub-block.</summary>
    public LayerNorm Norm2 { get; }
    /// <summary>Dropout on the attention output.</summary>
    public Dropout Dropout1 { get; }
    /// <summary>Dropout on the feed-forward output.</summary>
    public Dropout Dropout2 { get; }
    /// <summary>Whether normalization comes before each sub-block.</summary>
    public bool NormFirst { get; }
    /// <summary>The feed-forward activation.</summary>
    public TransformerActivation Activation { get; }

    readonly (int DModel, int NHead, int DimFeedforward, double Dropout, double LayerNormEps, bool BatchFirst, bool Bias) config;

    /// <summary>Creates the block with PyTorch's defaults (dim_feedforward 2048, dropout 0.1, ReLU, eps 1e-5, post-norm).</summary>
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1,
        TransformerActivation activation = TransformerActivation.Relu, double layerNormEps = 1e-5, bool batchFirst = false,
        bool normFirst = false, bool bias = true, Generator? generator = null)
    {
        config = (dModel, nhead, dimFeedforward, dropout, layerNormEps, batchFirst, bias);
        (NormFirst, Activation) = (normFirst, activation);
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, generator));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, bias, generator));
        DropoutFf = RegisterModule("dropout", new Dropout(dropout, generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, bias, generator));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, bias: bias));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, bias: bias));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout, generator));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout, generator));
    }

    /// <summary>
    /// A new block of the same configuration holding a copy of this one's parameters and buffers (PyTorch's
    /// copy.deepcopy, which TransformerEncoder uses to stack layers).
    /// </summary>
    public TransformerEncoderLayer Clone()
    {
        var c = config;
        var copy = new TransformerEncoderLayer(c.DModel, c.NHead, c.DimFeedforward, c.Dropout, Activation, c.LayerNormEps, c.BatchFirst, NormFirst, c.Bias);
        copy.LoadStateDict(StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        copy.Train(Training);
        return copy;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>
    /// Encodes <paramref name="src"/> [S, N, E] ([N, S, E] with batch_first). <paramref name="srcMask"/> [S, S] and
    /// <paramref name="srcKeyPaddingMask"/> [N, S] follow <see cref="MultiheadAttention"/>'s conventions.
    /// </summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        var x = src;
        if (NormFirst)
        {
            x = x + SelfAttentionBlock(Norm1.Call(x), srcMask, srcKeyPaddingMask, isCausal);
            x = x + FeedForwardBlock(Norm2.Call(x));
        }
        else
        {
            x = Norm1.Call(x + SelfAttentionBlock(x, srcMask, srcKeyPaddingMask, isCausal));
            x = Norm2.Call(x + FeedForwardBlock(x));
        }
        return x;
    }

    Tensor SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal)
        => Dropout1.Call(SelfAttn.Forward(x, x, x, keyPaddingMask, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    Tensor FeedForwardBlock(Tensor x)
    {
        var hidden = Linear1.Call(x);
        hidden = Activation == TransformerActivation.Gelu ? F.Gelu(hidden) : F.Relu(hidden);
        return Dropout2.Call(Linear2.Call(DropoutFf.Call(hidden)));
    }
}
