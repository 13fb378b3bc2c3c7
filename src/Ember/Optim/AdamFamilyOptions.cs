namespace Ember.Optim;

/// <summary>
/// The hyper-parameters <see cref="Adam"/> and <see cref="AdamW"/> share (torch.optim.Adam's and AdamW's arguments); they
/// differ only in how <see cref="AdaptiveMomentOptions.WeightDecay"/> acts and in its default.
/// </summary>
public abstract record AdamFamilyOptions : AdaptiveMomentOptions
{
    /// <summary>Learning rate 1e-3, as PyTorch.</summary>
    private protected AdamFamilyOptions() : base(1e-3) { }

    /// <summary>AMSGrad: divide by the running maximum of v.</summary>
    public bool Amsgrad { get; set; }

    private protected override IEnumerable<(string Name, double Value)> OwnScalars() => [("amsgrad", Amsgrad ? 1 : 0)];

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Amsgrad = scalar("amsgrad") != 0;
    }
}
