namespace Ember.Kernels.Fold;

/// <summary>
/// The sliding blocks of torch.nn.functional.unfold / fold over one [C, H, W] image: kernel, dilation, padding and stride
/// per side, and the block grid BlocksH × BlocksW (L = BlocksH·BlocksW columns, C·kH·kW rows).
/// </summary>
public readonly record struct FoldGeometry(int Channels, int Height, int Width, int KernelH, int KernelW, int DilationH, int DilationW,
    int PadH, int PadW, int StrideH, int StrideW)
{
    /// <summary>Blocks along the height: ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1.</summary>
    public int BlocksH => (Height + 2 * PadH - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    /// <summary>Blocks along the width.</summary>
    public int BlocksW => (Width + 2 * PadW - DilationW * (KernelW - 1) - 1) / StrideW + 1;
    /// <summary>Rows of the column matrix: C·kH·kW.</summary>
    public int Rows => Channels * KernelH * KernelW;
    /// <summary>Columns of the column matrix: the number of blocks L.</summary>
    public int Blocks => BlocksH * BlocksW;
}
