using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Interop;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Interop;

/// <summary>
/// PyTorch weights come in by name: safetensors files laid out as torchvision's state dicts, with the bytes assembled
/// here from the format's specification (not by Ember's writer) and the names and shapes written out from torchvision's
/// architectures (not read off Ember's models), load strictly into Ember's AlexNet and ResNet-18. And Ember's own state
/// dicts survive a trip through a file bit for bit.
/// </summary>
public class TorchvisionWeightsTests
{
    /// <summary>torchvision.models.alexnet().state_dict(): names and shapes.</summary>
    static List<(string Name, int[] Shape)> AlexNetLayout() =>
    [
        ("features.0.weight", [64, 3, 11, 11]), ("features.0.bias", [64]),
        ("features.3.weight", [192, 64, 5, 5]), ("features.3.bias", [192]),
        ("features.6.weight", [384, 192, 3, 3]), ("features.6.bias", [384]),
        ("features.8.weight", [256, 384, 3, 3]), ("features.8.bias", [256]),
        ("features.10.weight", [256, 256, 3, 3]), ("features.10.bias", [256]),
        ("classifier.1.weight", [4096, 9216]), ("classifier.1.bias", [4096]),
        ("classifier.4.weight", [4096, 4096]), ("classifier.4.bias", [4096]),
        ("classifier.6.weight", [1000, 4096]), ("classifier.6.bias", [1000]),
    ];

    /// <summary>torchvision.models.resnet18().state_dict(): BN buffers included, num_batches_tracked a 0-d int64.</summary>
    static List<(string Name, int[] Shape)> ResNet18Layout()
    {
        var layout = new List<(string, int[])> { ("conv1.weight", [64, 3, 7, 7]) };
        void Bn(string prefix, int c)
        {
            foreach (var p in new[] { "weight", "bias", "running_mean", "running_var" }) layout.Add(($"{prefix}.{p}", [c]));
            layout.Add(($"{prefix}.num_batches_tracked", []));
        }
        Bn("bn1", 64);
        int inPlanes = 64;
        int[] widths = [64, 128, 256, 512];
        for (int stage = 0; stage < 4; stage++)
            for (int block = 0; block < 2; block++)
            {
                int planes = widths[stage];
                var prefix = $"layer{stage + 1}.{block}";
                layout.Add(($"{prefix}.conv1.weight", [planes, inPlanes, 3, 3]));
                Bn($"{prefix}.bn1", planes);
                layout.Add(($"{prefix}.conv2.weight", [planes, planes, 3, 3]));
                Bn($"{prefix}.bn2", planes);
                if (block == 0 && stage > 0)
                {
                    layout.Add(($"{prefix}.downsample.0.weight", [planes, inPlanes, 1, 1]));
                    Bn($"{prefix}.downsample.1", planes);
                }
                inPlanes = planes;
            }
        layout.Add(("fc.weight", [1000, 512]));
        layout.Add(("fc.bias", [1000]));
        return layout;
    }

    static bool IsCounter(string name) => name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>
    /// An exactly representable value in [−1, 1) for element <paramref name="i"/> of tensor number <paramref name="k"/>:
    /// the top 11 bits of a multiplicative hash, so no short period could hide a misplaced row.
    /// </summary>
    static float Value(int k, int i) => ((int)(((uint)i * 2654435761u + (uint)k * 40503u) >> 21) - 1024) / 1024f;

    static long Counter(int k) => 1000 + k;

    /// <summary>
    /// The file as PyTorch's safetensors writer lays it out: header keys sorted, "__metadata__" {"format": "pt"}, the
    /// header padded with spaces to 8 bytes, data ordered by alignment (int64 first) then name, little-endian.
    /// </summary>
    static byte[] Build(List<(string Name, int[] Shape)> layout)
    {
        var index = layout.Select((entry, k) => (entry.Name, entry.Shape, K: k)).ToList();
        var dataOrder = index.OrderBy(e => IsCounter(e.Name) ? 0 : 1).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        var offsets = new Dictionary<string, (long Begin, long End)>();
        long offset = 0;
        foreach (var e in dataOrder)
        {
            long size = IsCounter(e.Name) ? 8 : 4L * e.Shape.Aggregate(1L, (a, d) => a * d);
            offsets[e.Name] = (offset, offset + size);
            offset += size;
        }
        var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        foreach (var e in index.OrderBy(e => e.Name, StringComparer.Ordinal))
            json.Append(CultureInfo.InvariantCulture, $",\"{e.Name}\":{{\"dtype\":\"{(IsCounter(e.Name) ? "I64" : "F32")}\",\"shape\":[{string.Join(",", e.Shape)}],\"data_offsets\":[{offsets[e.Name].Begin},{offsets[e.Name].End}]}}");
        json.Append('}');
        while ((json.Length + 8) % 8 != 0) json.Append(' ');
        var header = Encoding.UTF8.GetBytes(json.ToString());
        var bytes = new byte[8 + header.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        foreach (var e in dataOrder)
        {
            var data = bytes.AsSpan(8 + header.Length + (int)offsets[e.Name].Begin);
            if (IsCounter(e.Name)) { BinaryPrimitives.WriteInt64LittleEndian(data, Counter(e.K)); continue; }
            // little-endian float32, as the format requires (and as this machine stores floats)
            Assert.True(BitConverter.IsLittleEndian);
            var floats = MemoryMarshal.Cast<byte, float>(data[..(int)(offsets[e.Name].End - offsets[e.Name].Begin)]);
            for (int i = 0; i < floats.Length; i++) floats[i] = Value(e.K, i);
        }
        return bytes;
    }

    /// <summary>Every tensor of the layout holds, in the model, exactly the values the file gave it.</summary>
    static void AssertLoaded(Module model, List<(string Name, int[] Shape)> layout)
    {
        var state = model.StateDict();
        Assert.Equal(layout.Select(e => e.Name).Order(), state.Keys.Order());
        for (int k = 0; k < layout.Count; k++)
        {
            var (name, shape) = layout[k];
            var t = state[name];
            Assert.Equal(new Shape(shape), t.Shape);
            if (IsCounter(name))
            {
                Assert.Equal(DType.Int64, t.DType);
                Assert.Equal(Counter(k), t.Item<long>());
                continue;
            }
            var values = t.Contiguous().Span<float>();
            for (int i = 0; i < values.Length; i++)
                if (values[i] != Value(k, i)) Assert.Fail($"{name}[{i}]: expected {Value(k, i)}, got {values[i]}");
        }
    }

    static T At<T>(Module model, string path) where T : Module => Assert.IsType<T>(model.NamedModules().Single(m => m.Name == path).Module);

    [Fact]
    public void A_torchvision_alexnet_file_built_from_the_specification_loads_by_name()
    {
        var layout = AlexNetLayout();
        var model = SharedModels.AlexNet;
        model.LoadStateDict(SafeTensors.Read(Build(layout), "alexnet.safetensors", out var metadata));
        Assert.Equal("pt", metadata["format"]);
        AssertLoaded(model, layout);
        // the names reach the layers torchvision means: the 11×11 stem and the 4096 → 1000 head
        var stem = At<Conv2d>(model, "features.0");
        Assert.Equal((11, 11), stem.KernelSize);
        Assert.Equal(Value(0, 5), stem.Weight.ToArray<float>()[5]);
        var head = At<Linear>(model, "classifier.6");
        Assert.Equal(1000, head.OutFeatures);
        Assert.Equal(Value(15, 999), head.Bias!.ToArray<float>()[999]);
    }

    [Fact]
    public void A_torchvision_resnet18_file_built_from_the_specification_loads_by_name()
    {
        var layout = ResNet18Layout();
        Assert.Equal(122, layout.Count); // 62 tensors of parameters and 60 of BN buffers, as torchvision's resnet18 has
        var path = Path.Combine(Path.GetTempPath(), $"ember-resnet18-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, Build(layout));
        var model = ResNet.ResNet18();
        model.LoadStateDict(SafeTensors.Load(path));
        File.Delete(path);
        AssertLoaded(model, layout);
        int k = layout.FindIndex(e => e.Name == "layer1.0.bn1.running_var");
        Assert.Equal(Value(k, 63), At<BatchNorm2d>(model, "layer1.0.bn1").RunningVar!.ToArray<float>()[63]);
        k = layout.FindIndex(e => e.Name == "bn1.num_batches_tracked");
        Assert.Equal(Counter(k), At<BatchNorm2d>(model, "bn1").NumBatchesTracked!.Item<long>());
        var shortcut = At<Conv2d>(model, "layer2.0.downsample.0");
        Assert.Equal((2, 2), shortcut.Stride);
        Assert.Equal(new Shape(128, 64, 1, 1), shortcut.Weight.Shape);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("resnet")]
    [InlineData("vit")]
    [InlineData("lenet")]
    public void A_zoo_state_dict_round_trips_through_safetensors_bit_for_bit(string name)
    {
        Torch.ManualSeed(1);
        var source = ModelZoo.Create(name, 10, 1);
        source.Train();
        using (Torch.NoGrad()) source.Call(Torch.Randn([2, 1, 28, 28])); // running statistics move
        var path = Path.Combine(Path.GetTempPath(), $"ember-{name}-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Save(path, source.StateDict());
        Torch.ManualSeed(2);
        var target = ModelZoo.Create(name, 10, 1);
        target.LoadStateDict(SafeTensors.Load(path));
        var expected = source.StateDict();
        var actual = target.StateDict();
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, t) in expected)
        {
            Assert.Equal(t.DType, actual[key].DType);
            Assert.Equal(t.Shape, actual[key].Shape);
            if (t.DType == DType.Float32) Assert.True(t.ToArray<float>().AsSpan().SequenceEqual(actual[key].ToArray<float>()), $"{key} differs");
            else Assert.Equal(t.ToDoubleArray(), actual[key].ToDoubleArray());
        }
        // and the file written from the loaded model is the same file, byte for byte
        var again = path + ".again";
        SafeTensors.Save(again, target.StateDict());
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
        File.Delete(path);
        File.Delete(again);
    }
}
