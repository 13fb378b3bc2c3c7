namespace Ember;

/// <summary>How <see cref="Torch.Meshgrid"/> orders its outputs' dims (torch.meshgrid indexing='ij' | 'xy').</summary>
public enum MeshgridIndexing
{
    /// <summary>Matrix indexing: output k varies along dim k (PyTorch's default).</summary>
    IJ,
    /// <summary>Cartesian indexing (NumPy's default): the first two dims are swapped, so x varies along columns.</summary>
    XY,
}
