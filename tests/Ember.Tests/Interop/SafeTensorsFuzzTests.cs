using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Ember.Interop;
using Xunit.Abstractions;

namespace Ember.Tests.Interop;

/// <summary>
/// Bounded fuzzing of safetensors headers with fixed seeds: every mutated file either loads as a consistent set of
/// tensors or is refused with an <see cref="InvalidDataException"/> naming the file; never another exception, a hang
/// or a large allocation.
/// </summary>
public class SafeTensorsFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-fuzz-st-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    const int Iterations = 300;

    static (byte[] Header, byte[] Data) Base()
    {
        var data = new List<byte>();
        foreach (var v in new float[] { 1, -2, 3.5f, float.NaN, 0, 6 }) data.AddRange(BitConverter.GetBytes(v));
        foreach (var v in new long[] { 7, -8 }) data.AddRange(BitConverter.GetBytes(v));
        data.AddRange(new byte[] { 1, 0, 1 });
        foreach (var v in new Half[] { (Half)0.5, (Half)(-1) }) data.AddRange(BitConverter.GetBytes(v));
        var header = "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," +
            "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}," +
            "\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[40,43]}," +
            "\"h\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[43,47]}}";
        return (Encoding.UTF8.GetBytes(header), data.ToArray());
    }

    static readonly byte[] Interesting = Encoding.ASCII.GetBytes("{}[],:\"0123456789-+.eE ntfrul\\");

    static byte[] MutateBytes(Random random)
    {
        var (header, data) = Base();
        var h = new List<byte>(header);
        var d = new List<byte>(data);
        ulong? declared = null;
        int mutations = random.Next(1, 5);
        for (int k = 0; k < mutations; k++)
        {
            int at = random.Next(h.Count == 0 ? 1 : h.Count);
            switch (random.Next(11))
            {
                case 9: // whitespace after a separator: still the same header
                    int sep = h.FindIndex(random.Next(h.Count), b => b is (byte)',' or (byte)':');
                    if (sep >= 0) h.Insert(sep + 1, (byte)' ');
                    break;
                case 10: // another lower-case letter: renames a tensor or a metadata entry, or breaks a key
                    int letter = h.FindIndex(random.Next(h.Count), b => b is >= (byte)'a' and <= (byte)'z');
                    if (letter >= 0) h[letter] = (byte)('a' + random.Next(26));
                    break;
                case 0: if (h.Count > 0) h[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: if (h.Count > 0) h[at] = Interesting[random.Next(Interesting.Length)]; break;
                case 2: if (h.Count > 0) h.RemoveAt(at); break;
                case 3: h.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 4:
                    int length = random.Next(1, Math.Max(2, Math.Min(40, h.Count - at)));
                    if (at + length <= h.Count) h.InsertRange(random.Next(h.Count), h.GetRange(at, length));
                    break;
                case 5: if (h.Count > 0) h[at] = (byte)random.Next(256); break;
                case 6: declared = random.Next(3) switch { 0 => (ulong)(h.Count + random.Next(-8, 9)), 1 => (ulong)random.NextInt64(), _ => ulong.MaxValue - (ulong)random.Next(16) }; break;
                case 7: if (d.Count > 0) d.RemoveRange(random.Next(d.Count), 1); else d.Add(0); break;
                default: d.AddRange(new byte[random.Next(1, 9)]); break;
            }
        }
        return HostileFile.SafeTensorsBytes([.. h], [.. d], declared);
    }

    static readonly string[] DTypes = ["F32", "F64", "F16", "BF16", "I64", "I32", "U8", "I8", "BOOL", "F8", "", "f32"];

    static long Interesting64(Random random) => random.Next(8) switch
    {
        0 => 0,
        1 => random.Next(-4, 64),
        2 => int.MaxValue,
        3 => (long)int.MaxValue + random.Next(1, 4),
        4 => long.MaxValue - random.Next(4),
        5 => -random.NextInt64(),
        6 => 1L << random.Next(63),
        _ => random.Next(0, 48),
    };

    static byte[] MutateStructure(Random random)
    {
        var (header, data) = Base();
        var root = JsonNode.Parse(header)!.AsObject();
        string[] names = ["w", "i", "m", "h"];
        string? duplicate = null;
        int mutations = random.Next(1, 4);
        for (int k = 0; k < mutations; k++)
        {
            var name = names[random.Next(names.Length)];
            if (root[name] is not JsonObject entry) continue;
            switch (random.Next(8))
            {
                case 0: entry["dtype"] = DTypes[random.Next(DTypes.Length)]; break;
                case 1:
                    var shape = new JsonArray();
                    for (int r = random.Next(0, 5); r > 0; r--) shape.Add(random.Next(3) == 0 ? Interesting64(random) : random.Next(0, 7));
                    entry["shape"] = shape;
                    break;
                case 2: entry["data_offsets"] = new JsonArray(Interesting64(random), Interesting64(random)); break;
                case 3:
                    if (entry["data_offsets"] is not JsonArray { Count: 2 } offsets) break;
                    long shift = random.Next(-6, 7);
                    entry["data_offsets"] = new JsonArray((long)offsets[0]! + shift, (long)offsets[1]! + (random.Next(2) == 0 ? shift : 0));
                    break;
                case 4: entry.Remove(random.Next(3) switch { 0 => "dtype", 1 => "shape", _ => "data_offsets" }); break;
                case 5: duplicate = name; break;
                case 6: root.Remove(name); break;
                default: entry["shape"] = random.Next(2) == 0 ? JsonValue.Create("[2,3]") : new JsonArray(2.5, -1); break;
            }
        }
        var text = root.ToJsonString();
        if (duplicate is not null && root[duplicate] is JsonObject dup)
            text = text[..^1] + $",\"{duplicate}\":{dup.ToJsonString()}}}";
        return HostileFile.SafeTensorsBytes(text, data);
    }

    void Check(byte[] bytes, int iteration, string kind)
    {
        var path = Path.Combine(dir, $"{kind}-{iteration}.safetensors");
        File.WriteAllBytes(path, bytes);
        OrderedDictionary<string, Tensor>? loaded = null;
        var (error, allocated, elapsed) = HostileFile.Run(() => loaded = SafeTensors.Load(path), timeoutMs: 10_000);
        Assert.True(allocated < HostileFile.DefaultMaxAllocated, $"{kind} {iteration}: allocated {allocated:N0} bytes");
        if (error is not null)
        {
            Assert.True(error is InvalidDataException, $"{kind} {iteration}: {error.GetType().Name}: {error}");
            Assert.Contains(Path.GetFileName(path), error.Message);
            return;
        }
        // accepted: the tensors fit in the data section, and they survive a save and load unchanged
        long dataBytes = bytes.Length - 8 - (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        long elements = 0;
        foreach (var (_, t) in loaded!) elements += t.NumEl;
        Assert.True(elements <= dataBytes, $"{kind} {iteration}: {elements} elements from {dataBytes} bytes");
        var again = Path.Combine(dir, $"{kind}-{iteration}-again.safetensors");
        SafeTensors.Save(again, loaded);
        var reloaded = SafeTensors.Load(again);
        Assert.Equal(loaded.Keys, reloaded.Keys);
        foreach (var (name, t) in loaded)
        {
            Assert.Equal(t.Shape, reloaded[name].Shape);
            Assert.Equal(t.ToDoubleArray(), reloaded[name].ToDoubleArray());
        }
    }

    [Fact]
    public void Random_byte_mutations_of_a_header_load_consistently_or_are_refused()
    {
        var random = new Random(20261203);
        int refused = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var bytes = MutateBytes(random);
            Check(bytes, i, "bytes");
            if (!File.Exists(Path.Combine(dir, $"bytes-{i}-again.safetensors"))) refused++;
        }
        output.WriteLine($"byte mutations: {refused} refused, {Iterations - refused} loaded");
        Assert.InRange(refused, Iterations / 2, Iterations - 1); // the mutations reach the checks, and some still load
    }

    [Fact]
    public void Random_structural_mutations_of_a_header_load_consistently_or_are_refused()
    {
        var random = new Random(5318008);
        int refused = 0;
        for (int i = 0; i < Iterations; i++)
        {
            Check(MutateStructure(random), i, "json");
            if (!File.Exists(Path.Combine(dir, $"json-{i}-again.safetensors"))) refused++;
        }
        output.WriteLine($"structural mutations: {refused} refused, {Iterations - refused} loaded");
        Assert.InRange(refused, Iterations / 2, Iterations - 1);
    }
}
