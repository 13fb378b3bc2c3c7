using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Arctangent, in (−π/2, π/2) (torch.atan).</summary>
    public Tensor Atan() => AtanOp.Atan(this);
}
