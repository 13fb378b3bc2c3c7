using System.Buffers.Binary;
using System.Text;
using Ember.Interop;

namespace Ember.Tests.Interop;

public class SafeTensorsTests
{
    static string TempFile() => Path.Combine(Path.GetTempPath(), $"ember-st-{Guid.NewGuid():N}.safetensors");

    /// <summary>Bytes assembled by hand from the format's specification, independent of the writer.</summary>
    static byte[] Build(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Fact]
    public void Round_trip_is_exact_for_every_dtype_and_keeps_order_and_metadata()
    {
        var path = TempFile();
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["features.0.weight"] = Torch.Randn([4, 3, 3, 3], generator: new Generator(1)),
            ["features.0.bias"] = Torch.Tensor(1.5f, -2f, float.NaN, float.PositiveInfinity),
            ["layer1.0.bn1.running_var"] = Torch.Randn([5], DType.Float64, new Generator(2)),
            ["layer1.0.bn1.num_batches_tracked"] = Torch.Scalar(7, DType.Int64),
            ["mask"] = Torch.Tensor(true, false, true),
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var loaded = SafeTensors.Load(path, out var metadata);
        File.Delete(path);
        Assert.Equal(tensors.Keys, loaded.Keys);
        Assert.Equal("pt", metadata["format"]);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.DType, loaded[name].DType);
            Assert.Equal(t.Shape, loaded[name].Shape);
            Assert.Equal(t.ToDoubleArray(), loaded[name].ToDoubleArray());
        }
    }

    [Fact]
    public void Reads_a_file_built_from_the_specification_including_f16_and_bf16()
    {
        var data = new List<byte>();
        foreach (var v in new float[] { 1, 2, 3, 4, 5, 6 }) data.AddRange(BitConverter.GetBytes(v));
        foreach (var v in new Half[] { (Half)0.5, (Half)(-1.25) }) data.AddRange(BitConverter.GetBytes(v));
        data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16)));
        var bytes = Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[28,30]},\"__metadata__\":{\"k\":\"v\"}}", data.ToArray());
        var loaded = SafeTensors.Read(bytes, "spec", out var metadata);
        Assert.Equal(new Shape(2, 3), loaded["w"].Shape);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], loaded["w"].ToDoubleArray());
        Assert.Equal([0.5, -1.25], loaded["h"].ToDoubleArray());
        Assert.Equal(3.0, loaded["b"].Item());
        Assert.Equal("v", metadata["k"]);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "needs 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "offsets outside the file")]
    [InlineData("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "does not read")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets")]
    [InlineData("{not json", 4, "not valid JSON")]
    public void Damaged_headers_are_rejected_with_a_reason(string header, int dataBytes, string reason)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(Build(header, new byte[dataBytes]), "bad.safetensors", out _));
        Assert.Contains("bad.safetensors", ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void A_header_length_beyond_the_file_is_rejected()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(bytes, "short", out _));
        Assert.Contains("exceeds the file size", ex.Message);
    }

    [Fact]
    public void Save_replaces_the_target_atomically_and_leaves_no_temporary_files()
    {
        var dir = Directory.CreateTempSubdirectory("ember-atomic").FullName;
        var path = Path.Combine(dir, "last.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Torch.Ones(2) });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Torch.Zeros(3) });
        Assert.Equal([0.0, 0, 0], SafeTensors.Load(path)["x"].ToDoubleArray());
        Assert.Single(Directory.GetFiles(dir));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException("crash mid-write")));
        Assert.Equal([0.0, 0, 0], SafeTensors.Load(path)["x"].ToDoubleArray());
        Assert.Single(Directory.GetFiles(dir));
        Directory.Delete(dir, true);
    }
}
