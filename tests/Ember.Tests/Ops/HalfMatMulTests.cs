namespace Ember.Tests.Ops;

/// <summary>
/// matmul on float16/bfloat16 tensors (the GEMM widens the half operands while packing) against the definition: the
/// operands widened to float32, multiplied in float32, the product rounded once. Bit for bit, on 2-D, transposed-view,
/// broadcast and batched products (the small batched ones take the batch-parallel path).
/// </summary>
public class HalfMatMulTests
{
    public static TheoryData<string> Dtypes => new() { nameof(DType.Float16), nameof(DType.BFloat16) };

    [Theory, MemberData(nameof(Dtypes))]
    public void Products_equal_widen_multiply_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        Torch.ManualSeed(22);
        var cases = new (Tensor A, Tensor B, string Label)[]
        {
            (Torch.Randn([37, 50]), Torch.Randn([50, 29]), "2-D"),
            (Torch.Randn([50, 37]).T, Torch.Randn([29, 50]).T, "transposed views"),
            (Torch.Randn([3, 37, 50]), Torch.Randn([50, 29]), "batch folded into rows"),
            (Torch.Randn([6, 16, 24]), Torch.Randn([6, 24, 20]), "small batch (batch-parallel path)"),
            (Torch.Randn([2, 90, 100]), Torch.Randn([1, 100, 110]).Expand([2, 100, 110]), "large batch, expanded operand"),
        };
        foreach (var (a32, b32, label) in cases)
        {
            var a = a32.To(dtype); var b = b32.To(dtype);
            var y = a.MatMul(b);
            Assert.Equal(dtype, y.DType);
            var expected = a.To(DType.Float32).MatMul(b.To(DType.Float32)).To(dtype);
            Assert.Equal(expected.Shape, y.Shape);
            var got = y.To(DType.Float32).ToArray<float>();
            var want = expected.To(DType.Float32).ToArray<float>();
            for (int i = 0; i < got.Length; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(got[i]) == BitConverter.SingleToUInt32Bits(want[i]), $"{name} {label}: element {i} is {got[i]}, widen-multiply-round gives {want[i]}");
        }
    }

    [Fact]
    public void Mixed_half_dtypes_are_rejected_with_both_names()
    {
        var e = Assert.ThrowsAny<Exception>(() => Torch.Ones([2, 2], DType.Float16).MatMul(Torch.Ones([2, 2], DType.BFloat16)));
        Assert.Contains("torch.float16", e.Message);
        Assert.Contains("torch.bfloat16", e.Message);
    }
}
