using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Arctangent, in (−π/2, π/2) (torch.atan).</summary>
    public Tensor Atan() => AtanOp.Atan(this);

    /// <summary>Arcsine, in [−π/2, π/2]; NaN outside [−1, 1] (torch.asin).</summary>
    public Tensor Asin() => InverseTrigOps.Asin(this);

    /// <summary>Arccosine, in [0, π]; NaN outside [−1, 1] (torch.acos).</summary>
    public Tensor Acos() => InverseTrigOps.Acos(this);

    /// <summary>The angle of the point (other, this) in (−π, π], broadcasting: this is y, other is x (torch.atan2).</summary>
    public Tensor Atan2(Tensor other) => InverseTrigOps.Atan2(this, other);
}
