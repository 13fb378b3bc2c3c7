using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Group normalization (torch.nn.GroupNorm): channels split into numGroups groups, each normalized over its channels
/// and positions, then a per-channel affine (weight 1, bias 0). The notes suggest 16 channels per group.
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Number of groups.</summary>
    public int NumGroups { get; }
    /// <summary>Channels C (divisible by NumGroups).</summary>
    public int NumChannels { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Whether weight and bias exist.</summary>
    public bool Affine { get; }
    /// <summary>Per-channel scale, or null.</summary>
    public Parameter? Weight { get; }
    /// <summary>Per-channel shift, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Creates the layer; numChannels must be divisible by numGroups.</summary>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: num_channels ({numChannels}) must be divisible by num_groups ({numGroups})");
        (NumGroups, NumChannels, Eps, Affine) = (numGroups, numChannels, eps, affine);
        Weight = affine ? RegisterParameter("weight", Torch.Ones([numChannels])) : RegisterParameter("weight", (Parameter?)null);
        Bias = affine ? RegisterParameter("bias", Torch.Zeros([numChannels])) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <summary>
    /// GroupNorm with a fixed number of channels per group, as the notes recommend (16): numChannels / channelsPerGroup
    /// groups, or one group when there are fewer channels than that.
    /// </summary>
    public static GroupNorm WithChannelsPerGroup(int numChannels, int channelsPerGroup = 16, double eps = 1e-5, bool affine = true)
    {
        if (numChannels <= 0 || channelsPerGroup <= 0)
            throw new ArgumentException($"GroupNorm.WithChannelsPerGroup: num_channels ({numChannels}) and channels_per_group ({channelsPerGroup}) must be positive");
        if (numChannels > channelsPerGroup && numChannels % channelsPerGroup != 0)
            throw new ArgumentException($"GroupNorm.WithChannelsPerGroup: num_channels ({numChannels}) is not a multiple of channels_per_group ({channelsPerGroup})");
        return new GroupNorm(Math.Max(1, numChannels / channelsPerGroup), numChannels, eps, affine);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2 || input.Size(1) != NumChannels)
            throw new ArgumentException($"GroupNorm: expected input with {NumChannels} channels, got {(input.Rank < 2 ? 0 : input.Size(1))} (input shape {input.Shape})");
        return F.GroupNorm(input, NumGroups, Weight, Bias, Eps);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={PyRepr.Float(Eps)}, affine={PyRepr.Bool(Affine)}";
}
