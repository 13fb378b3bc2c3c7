using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Ember.Interop;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to its dtype, shape
/// and [begin, end) data offsets (plus optional "__metadata__" strings), then the raw little-endian data.
/// Reading validates the header strictly (offsets inside the file, no overlap or gaps, sizes matching shapes) and never
/// returns a partial result. F32, F64, I64, BOOL round-trip; F16, BF16, I32, U8 and I8 are read and widened.
/// </summary>
public static class SafeTensors
{
    const long MaxHeader = 100_000_000;

    /// <summary>Writes tensors (in the dictionary's order) atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>Writes the safetensors bytes to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.Select(kv => (kv.Key, Tensor: kv.Value.Detach().Contiguous())).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is not null && metadata.Count > 0) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (name == "__metadata__") throw new ArgumentException("safetensors: '__metadata__' is reserved and cannot name a tensor");
            long size = (long)t.NumEl * t.DType.ElementSize();
            header[name] = new { dtype = Code(t.DType), shape = t.Shape.ToArray(), data_offsets = new[] { offset, offset + size } };
            offset += size;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padding = (8 - json.Length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
        stream.Write(length);
        stream.Write(json);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach (var (_, t) in list) stream.Write(Bytes(t));
    }

    /// <summary>Reads every tensor of a file, in header order (the order of their data offsets).</summary>
    public static OrderedDictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>Reads every tensor and the metadata.</summary>
    public static OrderedDictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"safetensors: file not found: {path}", path); }
        return Read(bytes, path, out metadata);
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names the file in errors.</summary>
    public static OrderedDictionary<string, Tensor> Read(byte[] bytes, string source, out Dictionary<string, string> metadata)
    {
        string Fail(string why) => throw new InvalidDataException($"safetensors: {source}: {why}");
        if (bytes.Length < 8) Fail($"file is {bytes.Length} bytes, shorter than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeader || (long)headerLength > bytes.Length - 8)
            Fail($"header length {headerLength} exceeds the file size ({bytes.Length} bytes)");
        long dataStart = 8 + (long)headerLength;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw new InvalidDataException($"safetensors: {source}: header is not valid JSON ({e.Message})"); }
        metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, DTypeCode Code, int[] Shape, long Begin, long End)>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) Fail("header must be a JSON object");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : Fail($"metadata value '{m.Name}' must be a string");
                    continue;
                }
                var e = property.Value;
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dt) || !e.TryGetProperty("shape", out var sh) || !e.TryGetProperty("data_offsets", out var off))
                    Fail($"tensor '{property.Name}' needs dtype, shape and data_offsets");
                var code = ParseCode(dt.GetString() ?? "", property.Name, source);
                var shape = sh.EnumerateArray().Select(v => v.TryGetInt32(out var d) && d >= 0 ? d : throw new InvalidDataException($"safetensors: {source}: tensor '{property.Name}' has an invalid shape entry {v}")).ToArray();
                var offsets = off.EnumerateArray().Select(v => v.TryGetInt64(out var o) ? o : -1).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]) Fail($"tensor '{property.Name}' has invalid data_offsets");
                long count = 1;
                foreach (var d in shape) count *= d;
                if (count * Size(code) != offsets[1] - offsets[0])
                    Fail($"tensor '{property.Name}' of shape {Shape.Format(shape)} and dtype {code} needs {count * Size(code)} bytes but its offsets span {offsets[1] - offsets[0]}");
                entries.Add((property.Name, code, shape, offsets[0], offsets[1]));
            }
        }
        entries.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                Fail(e.Begin < expected ? $"tensor '{e.Name}' overlaps the previous tensor (offset {e.Begin} < {expected})" : $"gap before tensor '{e.Name}' (offset {e.Begin}, expected {expected})");
            expected = e.End;
        }
        if (dataStart + expected != bytes.Length)
            Fail($"data section is {bytes.Length - dataStart} bytes but the header describes {expected} (offsets outside the file or trailing bytes)");
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var e in entries)
            result[e.Name] = Decode(bytes.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin)), e.Code, e.Shape);
        return result;
    }

    /// <summary>The element types of the format.</summary>
    public enum DTypeCode
    {
        /// <summary>float32</summary>
        F32,
        /// <summary>float64</summary>
        F64,
        /// <summary>float16 (read as float32)</summary>
        F16,
        /// <summary>bfloat16 (read as float32)</summary>
        BF16,
        /// <summary>int64</summary>
        I64,
        /// <summary>int32 (read as int64)</summary>
        I32,
        /// <summary>uint8 (read as int64)</summary>
        U8,
        /// <summary>int8 (read as int64)</summary>
        I8,
        /// <summary>bool</summary>
        BOOL,
    }

    static DTypeCode ParseCode(string code, string name, string source) => code switch
    {
        "F32" => DTypeCode.F32, "F64" => DTypeCode.F64, "F16" => DTypeCode.F16, "BF16" => DTypeCode.BF16,
        "I64" => DTypeCode.I64, "I32" => DTypeCode.I32, "U8" => DTypeCode.U8, "I8" => DTypeCode.I8, "BOOL" => DTypeCode.BOOL,
        _ => throw new InvalidDataException($"safetensors: {source}: tensor '{name}' has dtype '{code}', which Ember does not read (F32, F64, F16, BF16, I64, I32, U8, I8, BOOL)"),
    };

    static int Size(DTypeCode code) => code switch
    {
        DTypeCode.F64 or DTypeCode.I64 => 8,
        DTypeCode.F32 or DTypeCode.I32 => 4,
        DTypeCode.F16 or DTypeCode.BF16 => 2,
        _ => 1,
    };

    static string Code(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        _ => "BOOL",
    };

    static ReadOnlySpan<byte> Bytes(Tensor t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: big-endian machines are not supported");
        return t.DType switch
        {
            DType.Float32 => MemoryMarshal.AsBytes(t.Span<float>()),
            DType.Float64 => MemoryMarshal.AsBytes(t.Span<double>()),
            DType.Int64 => MemoryMarshal.AsBytes(t.Span<long>()),
            _ => MemoryMarshal.AsBytes(t.Span<bool>()),
        };
    }

    static Tensor Decode(ReadOnlySpan<byte> data, DTypeCode code, int[] shape)
    {
        switch (code)
        {
            case DTypeCode.F32: return Torch.FromArray(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape);
            case DTypeCode.F64: return Torch.FromArray(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape);
            case DTypeCode.I64: return Torch.FromArray(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape);
            case DTypeCode.F16: return Torch.FromArray(MemoryMarshal.Cast<byte, Half>(data).ToArray().Select(h => (float)h).ToArray(), shape);
            case DTypeCode.BF16:
                var raw = MemoryMarshal.Cast<byte, ushort>(data);
                var values = new float[raw.Length];
                for (int i = 0; i < raw.Length; i++) values[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                return Torch.FromArray(values, shape);
            case DTypeCode.I32: return Torch.FromArray(MemoryMarshal.Cast<byte, int>(data).ToArray().Select(v => (long)v).ToArray(), shape);
            case DTypeCode.U8: return Torch.FromArray(data.ToArray().Select(v => (long)v).ToArray(), shape);
            case DTypeCode.I8: return Torch.FromArray(data.ToArray().Select(v => (long)(sbyte)v).ToArray(), shape);
            default:
                var bools = new bool[data.Length];
                for (int i = 0; i < data.Length; i++)
                    bools[i] = data[i] switch { 0 => false, 1 => true, _ => throw new InvalidDataException($"safetensors: bool byte {data[i]} is neither 0 nor 1") };
                return Torch.FromArray(bools, shape);
        }
    }
}
