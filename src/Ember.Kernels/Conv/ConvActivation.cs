namespace Ember.Kernels.Conv;

/// <summary>The activation a fused convolution applies to its output (see <see cref="Conv2dKernel.ForwardFused"/>).</summary>
public enum ConvActivation
{
    /// <summary>No activation: y = conv·scale + shift.</summary>
    None,

    /// <summary>ReLU: y = max(conv·scale + shift, 0), NaN kept.</summary>
    Relu,

    /// <summary>SiLU: y = v·σ(v) for v = conv·scale + shift.</summary>
    Silu,

    /// <summary>
    /// SiLU with the residual added after it: y = v·σ(v) + residual (YOLOv5's bottleneck shortcut, x + cv2(cv1(x)));
    /// without a residual the same as <see cref="Silu"/>.
    /// </summary>
    SiluThenResidual,
}
