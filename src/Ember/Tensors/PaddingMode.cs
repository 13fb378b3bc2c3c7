namespace Ember;

/// <summary>How <see cref="Torch.Pad"/> fills the border.</summary>
public enum PaddingMode
{
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>Mirror without repeating the edge: [1,2,3] → [3,2,1,2,3,2,1].</summary>
    Reflect,
    /// <summary>Repeat the edge: [1,2,3] → [1,1,1,2,3,3,3].</summary>
    Replicate,
}
