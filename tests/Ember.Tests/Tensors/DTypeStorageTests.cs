using Ember.Interop;
using Ember.Nn.Functional;
using Ember.Kernels.Numerics;
using BFloat16 = Ember.Kernels.Numerics.BFloat16;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ember.Tests.Tensors;

/// <summary>The new dtypes' creation, accessors, printing, autograd rules, errors, safetensors and ONNX initializers.</summary>
public class DTypeStorageTests
{
    static readonly DType[] NewTypes = [DType.Float16, DType.BFloat16, DType.Int32, DType.Int8, DType.UInt8];

    [Fact]
    public void Arrays_of_each_element_type_make_tensors_of_its_dtype_and_come_back_unchanged()
    {
        var h = new[] { (Half)0.5, (Half)(-2), Half.MaxValue, Half.Epsilon };
        var bf = new[] { (BFloat16)1.5f, (BFloat16)(-3e38f), BFloat16.FromBits(0x0001) };
        Assert.Equal(DType.Float16, Torch.Tensor(h).DType);
        Assert.Equal(h, Torch.Tensor(h).ToArray<Half>());
        Assert.Equal(DType.BFloat16, Torch.Tensor(bf).DType);
        Assert.Equal(bf.Select(v => v.Bits), Torch.Tensor(bf).ToArray<BFloat16>().Select(v => v.Bits));
        Assert.Equal(DType.Int8, Torch.Tensor<sbyte>(-128, 127).DType);
        Assert.Equal(new sbyte[] { -128, 127 }, Torch.Tensor<sbyte>(-128, 127).ToArray<sbyte>());
        Assert.Equal(DType.UInt8, Torch.Tensor<byte>(0, 255).DType);
        Assert.Equal(new byte[] { 0, 255 }, Torch.Tensor<byte>(0, 255).ToArray<byte>());
        // int arrays stay int64 as Python ints do; int32 comes from To
        Assert.Equal(DType.Int64, Torch.Tensor(1, 2).DType);
        var i32 = Torch.Tensor(1, -2).To(DType.Int32);
        Assert.Equal(new[] { 1, -2 }, i32.ToArray<int>());
        Assert.Equal(-2, i32[1].Item<int>());
        Assert.Equal((Half)0.5, Torch.Tensor(h)[0].Item<Half>());
        Assert.Equal(255.0, Torch.Tensor<byte>(0, 255)[1].Item());
        var ex = Assert.Throws<InvalidOperationException>(() => i32.ToArray<long>());
        Assert.Contains("torch.int32", ex.Message);
        Assert.Equal(DType.UInt8, Torch.Tensor(new byte[,] { { 1, 2 }, { 3, 4 } }).DType);
        Assert.Equal(DType.Float16, Torch.Tensor(new[] { new[] { (Half)1, (Half)2 } }).DType);
    }

    [Theory]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int8)]
    [InlineData(DType.UInt8)]
    public void Factories_make_every_dtype(DType dtype)
    {
        Assert.Equal(new double[3], Torch.Zeros([3], dtype).ToDoubleArray());
        Assert.Equal([1.0, 1, 1], Torch.Ones([3], dtype).ToDoubleArray());
        Assert.Equal([7.0, 7], Torch.Full([2], 7, dtype).ToDoubleArray());
        Assert.Equal([0.0, 1, 2, 3], Torch.Arange(0.0, 4.0, 1.0, dtype).ToDoubleArray());
        Assert.Equal(dtype, Torch.ZerosLike(Torch.Ones([2], dtype)).DType);
    }

    [Fact]
    public void Full_converts_the_value_as_libtorch_does()
    {
        // 300 → uint8 wraps to 44 and −1.5 → uint8 goes through int64 (−1) to 255, as in the conversion table
        Assert.Equal([44.0, 44], Torch.Full([2], 300, DType.UInt8).ToDoubleArray());
        Assert.Equal([255.0], Torch.Full([1], -1.5, DType.UInt8).ToDoubleArray());
        Assert.Equal([65504.0, double.PositiveInfinity], Torch.Tensor(65504.0, 65520.0).To(DType.Float16).ToDoubleArray());
    }

    [Fact]
    public void Random_half_tensors_are_the_float32_draws_rounded()
    {
        var r = Torch.Randn([64], DType.BFloat16, new Generator(3));
        var f = Torch.Randn([64], DType.Float32, new Generator(3));
        Assert.Equal(DType.BFloat16, r.DType);
        Assert.Equal(f.To(DType.BFloat16).ToDoubleArray(), r.ToDoubleArray());
        Assert.Equal(DType.Float16, Torch.Rand([4], DType.Float16).DType);
    }

    [Fact]
    public void Printing_names_the_dtype_as_PyTorch()
    {
        Assert.Equal("tensor([1, 2], dtype=torch.int32)", Torch.Tensor(1, 2).To(DType.Int32).ToString());
        Assert.Equal("tensor([  0, 255], dtype=torch.uint8)", Torch.Tensor<byte>(0, 255).ToString());
        Assert.Equal("tensor([-1,  3], dtype=torch.int8)", Torch.Tensor<sbyte>(-1, 3).ToString());
        Assert.Equal("tensor([0.5000, 1.0000], dtype=torch.float16)", Torch.Tensor(0.5f, 1f).To(DType.Float16).ToString());
        Assert.Equal("tensor([1.5000, 2.0000], dtype=torch.bfloat16)", Torch.Tensor(1.5f, 2f).To(DType.BFloat16).ToString());
    }

    [Theory]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int8)]
    [InlineData(DType.UInt8)]
    public void Integer_tensors_cannot_require_grad(DType dtype)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Torch.Ones([2], dtype).RequiresGrad = true);
        Assert.Contains(dtype.TorchName(), ex.Message);
    }

    [Theory]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    public void Half_tensors_take_gradients_in_their_own_dtype(DType dtype)
    {
        var a = Torch.Tensor(1.5f, -2f, 3f).To(dtype); a.RequiresGrad = true;
        var b = Torch.Tensor(0.5f, 4f, -1f).To(dtype);
        (a * b).Sum().Backward();
        Assert.Equal(dtype, a.Grad!.DType);
        Assert.Equal([0.5, 4, -1], a.Grad.ToDoubleArray());
    }

    [Fact]
    public void Ops_without_a_kernel_for_a_dtype_say_which_op_and_dtype()
    {
        // (max_pool2d, conv2d, the norms and atan widen half inputs since autocast casts for real: asin has no half path)
        var h = Torch.Ones([1, 1, 4, 4], DType.Float16);
        var ex = Assert.Throws<NotSupportedException>(() => h.Asin());
        Assert.Contains("asin", ex.Message);
        Assert.Contains("torch.float16", ex.Message);
        var ex2 = Assert.ThrowsAny<Exception>(() => Torch.Ones([2, 2], DType.Int32).MatMul(Torch.Ones([2, 2], DType.Int32)));
        Assert.Contains("matmul", ex2.Message);
        Assert.Contains("torch.int32", ex2.Message);
        // exp of an integer tensor is not an error: as in PyTorch it is computed in the default float dtype
        var e = Torch.Ones([2], DType.Int8).Exp();
        Assert.Equal(DType.Float32, e.DType);
        Assert.Equal((double)MathF.Exp(1f), e.ToDoubleArray()[0]);
        var ex4 = Assert.Throws<ArgumentException>(() => Torch.Ones([2], DType.UInt8).Mean());
        Assert.Contains("torch.uint8", ex4.Message);
    }

    [Fact]
    public void In_place_ops_on_half_tensors_round_like_the_out_of_place_ones()
    {
        var h = Torch.Tensor(1f, 2f, 3f).To(DType.Float16);
        var expected = (h + Torch.Tensor(0.1f, 0.2f, 0.3f).To(DType.Float16)).ToDoubleArray();
        h.AddInPlace(Torch.Tensor(0.1f, 0.2f, 0.3f).To(DType.Float16));
        Assert.Equal(expected, h.ToDoubleArray());
        var u = Torch.Tensor<byte>(250, 1);
        u.AddInPlace(Torch.Tensor<byte>(10, 1));
        Assert.Equal([4.0, 2], u.ToDoubleArray()); // wraps as uint8
    }

    [Fact]
    public void Views_slices_and_strided_copies_keep_the_dtype()
    {
        var x = Torch.Arange(0.0, 12.0, 1.0, DType.Int8).Reshape(3, 4);
        var t = x.T;
        Assert.Equal(DType.Int8, t.DType);
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t.Contiguous().ToDoubleArray());
        Assert.Equal([5.0, 6], x[1].Narrow(0, 1, 2).ToDoubleArray());
        var h = Torch.Arange(0.0, 6.0, 1.0, DType.BFloat16).Reshape(2, 3);
        Assert.Equal([1.0, 4], h.Select(1, 1).ToDoubleArray());
        Assert.Equal(new Shape(2, 2, 3), Torch.Stack([h, h], 1).Shape);
        var g = Torch.Tensor(0L, 2L, 1L).Reshape(1, 3);
        Assert.Equal([0.0, 2, 1], Torch.Arange(0.0, 3.0, 1.0, DType.Float16).Unsqueeze(0).Gather(1, g).ToDoubleArray());
    }

    [Fact]
    public void Safetensors_round_trip_every_dtype_bit_for_bit()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["h"] = Torch.Tensor(0.1, -65504, 6e-8).To(DType.Float16),
            ["b"] = Torch.Tensor(0.1, -3e38, 1e-40).To(DType.BFloat16),
            ["i"] = Torch.Tensor(int.MinValue, int.MaxValue, 7L).To(DType.Int32),
            ["s"] = Torch.Tensor<sbyte>(-128, 0, 127),
            ["u"] = Torch.Tensor<byte>(0, 128, 255),
            ["t"] = Torch.Tensor(1.0, 2, 3, 4).To(DType.Float16).Reshape(2, 2).T, // strided: written contiguously
        };
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors);
        var bytes = stream.ToArray();
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        foreach (var code in new[] { "\"F16\"", "\"BF16\"", "\"I32\"", "\"I8\"", "\"U8\"" }) Assert.Contains(code, header);
        var back = SafeTensors.Read(bytes, "mem", out _);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.DType, back[name].DType);
            Assert.Equal(t.Shape, back[name].Shape);
            Assert.Equal(t.ToDoubleArray(), back[name].ToDoubleArray());
        }
        var path = Path.Combine(Path.GetTempPath(), $"ember-dtypes-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, tensors);
            var loaded = SafeTensors.Load(path);
            foreach (var (name, t) in tensors) Assert.Equal(t.ToDoubleArray(), loaded[name].ToDoubleArray());
            Assert.Equal(DType.BFloat16, loaded["b"].DType);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int8)]
    [InlineData(DType.UInt8)]
    public void Onnx_initializers_of_each_dtype_read_back_in_onnx_runtime(DType dtype)
    {
        // graph: output = input + Cast(c, float), with c an initializer of the dtype under test
        var values = Torch.Tensor(1.5, -2, 100, 0.25).To(dtype);
        var builder = new OnnxGraphBuilder(Onnx.MinOpset);
        var c = builder.Initializer("c", values);
        var cast = builder.Node("", "Cast", [c], AttributeProto.Int("to", TensorProto.Float));
        var x = Torch.Zeros([4]);
        var sum = builder.Node("", "Add", ["input", cast]);
        var proto = builder.Build(new OnnxValue("input", x), new OnnxValue(sum, values.To(DType.Float32)), dynamicBatch: false, "dtype");
        var bytes = new byte[proto.Size()];
        var output = new CodedOutputStream(bytes);
        proto.WriteTo(output);
        using var session = new InferenceSession(bytes);
        var input = new DenseTensor<float>(new float[4], [4]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var got = results.Single().AsTensor<float>().ToArray().Select(v => (double)v).ToArray();
        Assert.Equal(values.ToDoubleArray(), got);
    }

    [Fact]
    public void Whole_tensor_float16_conversions_round_exactly_like_the_scalar_cast()
    {
        // the vectorized path (contiguous, same shape) against System.Half's own cast, element by element; the values
        // cover ties, subnormals, overflow to inf, inf and NaN, at a length with a vector tail
        var values = new float[1031];
        var rng = new Random(3);
        for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 20)));
        float[] special = [0f, -0f, 1.00048828125f, 1.00146484375f, 6e-8f, 3e-5f, 65504f, 65520f, 1e6f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        special.CopyTo(values, 0);
        var half = Torch.FromArray(values, [values.Length]).To(DType.Float16);
        var got = half.ToArray<Half>();
        for (int i = 0; i < values.Length; i++)
            Assert.True(got[i].Equals((Half)values[i]), $"[{i}] {values[i]}: expected {(Half)values[i]}, got {got[i]}");
        var back = half.To(DType.Float32).ToArray<float>();
        for (int i = 0; i < values.Length; i++) Assert.Equal((float)got[i], back[i]);
    }
}
