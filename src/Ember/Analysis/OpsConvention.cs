namespace Ember.Analysis;

/// <summary>
/// Which operation count a profile shows. thop (and most papers' "FLOPs" columns) report multiply-accumulates;
/// counting the multiply and the add separately doubles them (the notes' 2·k_h·k_w·C_in·C_out·H_out·W_out).
/// </summary>
public enum OpsConvention
{
    /// <summary>Multiply-accumulates as thop counts them (a conv's bias is not counted).</summary>
    Macs,
    /// <summary>Floating-point operations taken as 2 × MACs.</summary>
    Flops,
}
