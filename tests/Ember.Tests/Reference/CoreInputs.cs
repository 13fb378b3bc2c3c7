namespace Ember.Tests.Reference;

/// <summary>
/// The inputs behind <see cref="CoreOpsReference"/>: built by the same formulas as tools/oracle/core_ops.cs, so the
/// float32 values are bit-identical to the ones libtorch saw.
/// </summary>
internal static class CoreInputs
{
    static float[] Formula(int n, double a, double scale, double shift)
        => Enumerable.Range(0, n).Select(i => (float)(Math.Sin(i * a + 0.3) * scale + shift)).ToArray();

    static Tensor F(float[] data, params int[] shape) => Torch.FromArray(data, shape);

    public static Tensor A => F([0.5f, -1.2f, 2.0f, 0.3f, 1.5f, 0.7f, -0.4f, -2.2f, 0.1f, 1.1f, -0.9f, 0.8f], 3, 4);
    public static Tensor P => F([0.5f, 1.2f, 2.0f, 0.3f, 1.5f, 0.7f, 0.4f, 2.2f, 0.1f, 1.1f, 0.9f, 0.8f], 3, 4);
    public static Tensor Row => F([0.2f, -0.5f, 1.3f, 0.9f], 4);
    public static Tensor Col => F([1.5f, -0.5f, 2.0f], 3, 1);
    public static Tensor C => F(Formula(24, 1.3, 2.0, 0.0), 2, 3, 4);
    public static Tensor M45 => F(Formula(20, 0.7, 1.5, 0.1), 4, 5);
    public static Tensor D => F(Formula(40, 0.9, 1.2, -0.1), 2, 4, 5);
    public static Tensor E => F(Formula(60, 0.45, 1.0, 0.05), 3, 4, 5);
    public static Tensor R => F([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.49f, -0.51f], 8);
    public static Tensor Big => F([30f, -30f, 0.5f, 25f, -0.2f, 1f], 6);
    public static Tensor V3 => F([0.3f, -1.1f, 0.8f], 3);
    public static Tensor Q => F(Formula(6, 0.5, 0.9, 0.2), 2, 3);
    public static Tensor SrcS => F(Formula(15, 0.4, 1.0, 0.5), 3, 5);
    public static Tensor Lo => F([-1f, 0f, -0.5f], 3, 1);
    public static Tensor Hi => F([0.5f, 1f, 0.2f, 2f], 4);
    public static Tensor Bias => F([0.1f, -0.2f, 0.3f, 0.4f, -0.5f], 5);
    public static Tensor Long(long[] data, params int[] shape) => Torch.FromArray(data, shape.Length == 0 ? [data.Length] : shape);
}
