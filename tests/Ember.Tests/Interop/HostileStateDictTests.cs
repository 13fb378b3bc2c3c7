using System.Text;
using Ember.Interop;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Training;

namespace Ember.Tests.Interop;

/// <summary>
/// Weight files that parse but do not fit, or hold a diverged model: <see cref="SafeTensors.LoadInto"/> refuses them
/// with the file and the tensor named, and leaves the module untouched.
/// </summary>
public class HostileStateDictTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-hostile-sd-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    // 0.weight [3, 2], 0.bias [3], 1.weight/bias/running_mean/running_var [3] float32, 1.num_batches_tracked [] int64
    static Module Net() => new Sequential(new Linear(2, 3, generator: new Generator(1)), new BatchNorm1d(3));

    static readonly string[] Floats = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"];

    /// <summary>A file with Net's tensors, where <paramref name="replace"/> swaps entries (name → dtype, shape, bytes) or removes them (null).</summary>
    static byte[] File(Dictionary<string, (string DType, int[] Shape, byte[] Data)?> replace)
    {
        var entries = new List<(string Name, string DType, int[] Shape, byte[] Data)>();
        foreach (var name in Floats)
        {
            int[] shape = name == "0.weight" ? [3, 2] : [3];
            entries.Add((name, "F32", shape, new byte[4 * shape.Aggregate(1, (a, b) => a * b)]));
        }
        entries.Add(("1.num_batches_tracked", "I64", [], new byte[8]));
        foreach (var (name, value) in replace)
        {
            entries.RemoveAll(e => e.Name == name);
            if (value is (string dt, int[] sh, byte[] data)) entries.Add((name, dt, sh, data));
        }
        var header = new StringBuilder("{");
        var bytes = new List<byte>();
        foreach (var (name, dtype, shape, data) in entries)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{bytes.Count},{bytes.Count + data.Length}]}}");
            bytes.AddRange(data);
        }
        return HostileFile.SafeTensorsBytes(header.Append('}').ToString(), [.. bytes]);
    }

    static byte[] F32(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    static byte[] F64(params double[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    static byte[] U16(params ushort[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    static (string, int[], byte[])? E(string dtype, int[] shape, byte[] data) => (dtype, shape, data);

    static readonly Dictionary<string, (Func<byte[]> Bytes, string Problem)> Cases = new()
    {
        ["bool-into-float-weight"] = (() => File(new() { ["0.weight"] = E("BOOL", [3, 2], new byte[6]) }), "dtype mismatch for 0.weight: copying a param of dtype Bool"),
        ["int64-into-float-bias"] = (() => File(new() { ["0.bias"] = E("I64", [3], new byte[24]) }), "dtype mismatch for 0.bias"),
        ["u8-into-running-var"] = (() => File(new() { ["1.running_var"] = E("U8", [3], new byte[3]) }), "dtype mismatch for 1.running_var"),
        ["i32-into-bn-weight"] = (() => File(new() { ["1.weight"] = E("I32", [3], new byte[12]) }), "dtype mismatch for 1.weight"),
        ["float-into-int64-counter"] = (() => File(new() { ["1.num_batches_tracked"] = E("F32", [], new byte[4]) }), "dtype mismatch for 1.num_batches_tracked"),
        ["bool-into-int64-counter"] = (() => File(new() { ["1.num_batches_tracked"] = E("BOOL", [], new byte[1]) }), "dtype mismatch for 1.num_batches_tracked"),
        ["weight-transposed"] = (() => File(new() { ["0.weight"] = E("F32", [2, 3], new byte[24]) }), "size mismatch for 0.weight"),
        ["bias-shape-1-for-broadcast"] = (() => File(new() { ["0.bias"] = E("F32", [1], new byte[4]) }), "size mismatch for 0.bias"),
        ["scalar-for-vector"] = (() => File(new() { ["1.running_mean"] = E("F32", [], new byte[4]) }), "size mismatch for 1.running_mean"),
        ["missing-weight"] = (() => File(new() { ["0.weight"] = null }), "Missing key(s) in state_dict: \"0.weight\""),
        ["unexpected-key"] = (() => File(new() { ["2.weight"] = E("F32", [1], new byte[4]) }), "Unexpected key(s) in state_dict: \"2.weight\""),
        ["nan-weight"] = (() => File(new() { ["0.weight"] = E("F32", [3, 2], F32(1, 2, float.NaN, 4, 5, 6)) }), "tensor '0.weight' holds 1 non-finite value (NaN or ±Inf) of 6"),
        ["inf-bias"] = (() => File(new() { ["0.bias"] = E("F32", [3], F32(float.PositiveInfinity, 0, 0)) }), "tensor '0.bias' holds 1 non-finite value"),
        ["minus-inf-bias"] = (() => File(new() { ["0.bias"] = E("F32", [3], F32(0, float.NegativeInfinity, float.NegativeInfinity)) }), "tensor '0.bias' holds 2 non-finite values"),
        ["all-nan-weight"] = (() => File(new() { ["0.weight"] = E("F32", [3, 2], F32(float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN)) }), "holds 6 non-finite values"),
        ["nan-f64"] = (() => File(new() { ["1.weight"] = E("F64", [3], F64(1, double.NaN, 1)) }), "tensor '1.weight' holds 1 non-finite value"),
        ["nan-f16"] = (() => File(new() { ["1.bias"] = E("F16", [3], U16(0, 0x7E00, 0)) }), "tensor '1.bias' holds 1 non-finite value"),
        ["inf-f16"] = (() => File(new() { ["1.bias"] = E("F16", [3], U16(0x7C00, 0, 0)) }), "tensor '1.bias' holds 1 non-finite value"),
        ["nan-bf16"] = (() => File(new() { ["1.running_mean"] = E("BF16", [3], U16(0, 0, 0x7FC0)) }), "tensor '1.running_mean' holds 1 non-finite value"),
        ["nan-running-var"] = (() => File(new() { ["1.running_var"] = E("F32", [3], F32(1, float.NaN, 1)) }), "tensor '1.running_var'"),
        ["nan-in-two-tensors"] = (() => File(new() { ["0.bias"] = E("F32", [3], F32(float.NaN, 0, 0)), ["1.bias"] = E("F32", [3], F32(float.NaN, 0, 0)) }), "(and 1 more tensor)"),
        ["nan-and-wrong-shape"] = (() => File(new() { ["0.weight"] = E("F32", [6], F32(float.NaN, 0, 0, 0, 0, 0)) }), "non-finite"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_file_that_does_not_fit_or_holds_a_diverged_model_is_refused_and_nothing_is_copied(string name)
    {
        var (bytes, problem) = Cases[name];
        var path = Path.Combine(dir, $"{name}.safetensors");
        System.IO.File.WriteAllBytes(path, bytes());
        var net = Net();
        var before = net.StateDict().Select(kv => kv.Value.ToDoubleArray()).ToList();
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.LoadInto(net, path), Path.GetFileName(path), problem);
        var after = net.StateDict().Select(kv => kv.Value.ToDoubleArray()).ToList();
        Assert.Equal(before, after);
    }

    [Fact]
    public void The_valid_base_of_the_cases_loads_and_non_finite_weights_load_when_allowed()
    {
        var path = Path.Combine(dir, "valid.safetensors");
        System.IO.File.WriteAllBytes(path, File(new() { ["0.bias"] = E("F32", [3], F32(1, 2, 3)) }));
        var net = Net();
        SafeTensors.LoadInto(net, path);
        Assert.Equal([1.0, 2, 3], ((Linear)((Sequential)net)[0]).Bias!.ToDoubleArray());
        // float64 → float32 is a precision change torch allows, not a dtype-kind mismatch
        System.IO.File.WriteAllBytes(path, File(new() { ["0.bias"] = E("F64", [3], F64(4, 5, 6)) }));
        SafeTensors.LoadInto(net, path);
        Assert.Equal([4.0, 5, 6], ((Linear)((Sequential)net)[0]).Bias!.ToDoubleArray());
        System.IO.File.WriteAllBytes(path, File(new() { ["0.bias"] = E("F32", [3], F32(float.NaN, 0, 0)) }));
        SafeTensors.LoadInto(net, path, allowNonFinite: true);
        Assert.True(double.IsNaN(((Linear)((Sequential)net)[0]).Bias!.ToDoubleArray()[0]));
        // non-strict loading reports missing and unexpected keys instead
        System.IO.File.WriteAllBytes(path, File(new() { ["0.weight"] = null, ["extra"] = E("F32", [1], new byte[4]) }));
        var result = SafeTensors.LoadInto(Net(), path, strict: false);
        Assert.Equal(["0.weight"], result.MissingKeys);
        Assert.Equal(["extra"], result.UnexpectedKeys);
    }

    [Fact]
    public void Model_load_refuses_a_diverged_checkpoint_unless_allowed()
    {
        var model = ModelZoo.Create("mlp", 10, 1);
        var name = model.StateDict().Keys.First();
        using (Torch.NoGrad()) model.StateDict()[name].FillInPlace(double.NaN);
        var folder = Path.Combine(dir, "diverged");
        Checkpoint.Save(folder, model, new CheckpointState { Metadata = new() { ["model"] = "mlp" } });
        var e = HostileFile.Refused<CheckpointException>(() => Model.Load(folder), Path.Combine("diverged", "model.safetensors"), $"tensor '{name}' holds", maxAllocated: 256L << 20);
        Assert.Contains("non-finite", e.Message);
        var loaded = Model.Load(folder, allowNonFinite: true);
        Assert.True(double.IsNaN(loaded.StateDict()[name].ToDoubleArray()[0]));
    }
}
