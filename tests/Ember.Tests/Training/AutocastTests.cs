using Ember.Ops;
using Ember.Training.Amp;

namespace Ember.Tests.Training;

public class AutocastTests
{
    [Theory]
    [InlineData(1.0f, 1.0f)]
    [InlineData(1.00390625f, 1.0f)]      // exactly half an ulp of bf16 above 1: ties to even (down)
    [InlineData(1.01171875f, 1.015625f)] // 1 + 3·2⁻⁸: tie rounds up to the even 1 + 4·2⁻⁸
    [InlineData(3.14159265f, 3.140625f)]
    public void Bfloat16_rounding_is_nearest_even(float input, float expected)
        => Assert.Equal(expected, PrecisionOps.RoundToBFloat16(input));

    [Fact]
    public void Matmul_inside_autocast_uses_rounded_inputs_and_float32_outside()
    {
        var a = Torch.Tensor(new float[,] { { 1.001f, 2.0f } });
        var b = Torch.Tensor(new float[,] { { 1.0f }, { 1.0f } });
        double exact = a.MatMul(b).Item();
        double rounded;
        using (Autocast.Enable(AutocastDType.BFloat16)) rounded = a.MatMul(b).Item();
        Assert.Equal(3.001, exact, 5);
        Assert.Equal(3.0, rounded, 6); // 1.001 rounds to 1.0 in bfloat16
        Assert.Null(Autocast.Active);
    }

    [Fact]
    public void Gradients_flow_through_the_casts()
    {
        var a = Torch.Tensor(new float[,] { { 1f, 2f } }).RequiresGradInPlace();
        var b = Torch.Tensor(new float[,] { { 3f }, { 4f } });
        using (Autocast.Enable(AutocastDType.Float16)) a.MatMul(b).Sum().Backward();
        Assert.Equal([3.0, 4.0], a.Grad!.ToDoubleArray());
    }
}
