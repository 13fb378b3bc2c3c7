using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Ember.Data;

namespace Ember.Interop;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to its dtype, shape
/// and [begin, end) data offsets (plus optional "__metadata__" strings), then the raw little-endian data.
/// Reading validates the header strictly (unique names, offsets inside the file, no overlap or gaps, sizes matching
/// shapes in checked arithmetic, a header under <see cref="MaxHeaderBytes"/>) before allocating any tensor, reads no
/// more than the file holds, and never returns a partial result; every damage is an <see cref="InvalidDataException"/>
/// naming the file and the problem. F32, F64, I64, BOOL round-trip; F16, BF16, I32, U8 and I8 are read and widened.
/// </summary>
public static class SafeTensors
{
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

    /// <summary>
    /// Reads every tensor and the metadata. Only a regular file is opened (a FIFO, device or folder is refused at once),
    /// the header is validated against the file's real size before any tensor is allocated, and each tensor is read
    /// straight from the file, so memory stays within the file's size however the header lies.
    /// </summary>
    public static OrderedDictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        var (stream, fileLength) = UntrustedFile.OpenRead(path, "safetensors");
        using (stream)
        {
            if (fileLength < 8) throw Error(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
            Span<byte> prefix = stackalloc byte[8];
            UntrustedFile.ReadExactly(stream, prefix, path, "safetensors");
            int headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(prefix), fileLength, path);
            var header = new byte[headerLength];
            UntrustedFile.ReadExactly(stream, header, path, "safetensors");
            var entries = ParseHeader(header, fileLength - 8 - headerLength, path, out metadata);
            var result = new OrderedDictionary<string, Tensor>();
            foreach (var e in entries)
                result[e.Name] = ReadTensor(stream, e, path);
            return result;
        }
    }

    /// <summary>
    /// The checked way to load weights from a file into a module (torch's <c>model.load_state_dict(load_file(path))</c>):
    /// the file is read with every check of <see cref="Load(string)"/>, weights holding NaN or ±Inf are refused unless
    /// <paramref name="allowNonFinite"/> is set, and a mismatch with the module (missing or unexpected keys in strict mode,
    /// shapes, dtype kinds) is reported as an <see cref="InvalidDataException"/> naming the file. Nothing is copied into the
    /// module unless every check passes.
    /// </summary>
    public static Nn.LoadStateDictResult LoadInto(Nn.Module module, string path, bool strict = true, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        var tensors = Load(path);
        if (!allowNonFinite) FiniteWeights.Require(tensors, $"safetensors: {path}");
        try { return module.LoadStateDict(tensors, strict); }
        catch (InvalidOperationException e) { throw new InvalidDataException($"safetensors: {path}: the weights do not fit the model. {e.Message}", e); }
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names the file in errors.</summary>
    public static OrderedDictionary<string, Tensor> Read(byte[] bytes, string source, out Dictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8) throw Error(source, $"file is {bytes.Length} bytes, shorter than the 8-byte header length");
        int headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(bytes), bytes.Length, source);
        var entries = ParseHeader(bytes.AsSpan(8, headerLength), bytes.Length - 8L - headerLength, source, out metadata);
        var result = new OrderedDictionary<string, Tensor>();
        long dataStart = 8 + headerLength;
        foreach (var e in entries)
            result[e.Name] = Decode(bytes.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin)), e, source);
        return result;
    }

    /// <summary>The largest header accepted (the reference implementation's cap): a bigger one is damage or an attack.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    static InvalidDataException Error(string source, string why) => new($"safetensors: {source}: {why}");

    static int CheckHeaderLength(ulong headerLength, long fileLength, string source)
    {
        if (headerLength > MaxHeaderBytes)
            throw Error(source, $"header length {headerLength} is above the {MaxHeaderBytes}-byte limit (the file is {fileLength} bytes)");
        if ((long)headerLength > fileLength - 8)
            throw Error(source, $"header length {headerLength} exceeds the file size ({fileLength} bytes, {fileLength - 8} after the length field)");
        if (headerLength < 2) throw Error(source, $"header length {headerLength} is too short for a JSON object");
        return (int)headerLength;
    }

    readonly record struct Entry(string Name, DTypeCode Code, int[] Shape, long Count, long Begin, long End);

    // Validates the whole header against the data section's real length before anything is allocated for tensors:
    // names unique, dtypes known, shapes of non-negative int32 dims whose element count (checked arithmetic) matches the
    // byte range, offsets inside the data, and the ranges tiling the data exactly (no overlap, gap or trailing bytes).
    static List<Entry> ParseHeader(ReadOnlySpan<byte> header, long dataLength, string source, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>();
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Error(source, "header is not valid UTF-8 (so not valid JSON)");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw new InvalidDataException($"safetensors: {source}: header is not valid JSON ({e.Message})"); }
        catch (ArgumentException e) { throw new InvalidDataException($"safetensors: {source}: header is not valid UTF-8 JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Error(source, $"header must be a JSON object, got {doc.RootElement.ValueKind}");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw Error(source, $"the header names '{property.Name}' twice (a reader would silently keep one of them)");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Error(source, $"'__metadata__' must be an object of strings, got {property.Value.ValueKind}");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Error(source, $"metadata value '{m.Name}' must be a string, got {m.Value.ValueKind}");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Error(source, $"metadata key '{m.Name}' appears twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(property.Name, property.Value, dataLength, source));
            }
        }
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                throw Error(source, e.Begin < expected
                    ? $"tensor '{e.Name}' (bytes [{e.Begin}, {e.End})) overlaps the previous tensor, which ends at {expected}"
                    : $"gap of {e.Begin - expected} bytes before tensor '{e.Name}' (it starts at {e.Begin}, the previous tensor ends at {expected})");
            expected = e.End;
        }
        if (expected != dataLength)
            throw Error(source, $"data section is {dataLength} bytes but the header describes {expected} ({dataLength - expected} trailing bytes)");
        return entries;
    }

    static Entry ParseEntry(string name, JsonElement e, long dataLength, string source)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dt) || !e.TryGetProperty("shape", out var sh) || !e.TryGetProperty("data_offsets", out var off))
        {
            throw Error(source, $"tensor '{name}' needs dtype, shape and data_offsets");
        }
        if (dt.ValueKind != JsonValueKind.String) throw Error(source, $"tensor '{name}' has a dtype that is not a string ({dt.ValueKind})");
        var code = ParseCode(dt.GetString()!, name, source);
        if (sh.ValueKind != JsonValueKind.Array) throw Error(source, $"tensor '{name}' has a shape that is not an array ({sh.ValueKind})");
        int rank = sh.GetArrayLength();
        if (rank > MaxRank) throw Error(source, $"tensor '{name}' has {rank} dims, more than the {MaxRank} Ember supports");
        var shape = new int[rank];
        long count = 1;
        int d = 0;
        foreach (var v in sh.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var size) || size < 0)
                throw Error(source, $"tensor '{name}' has an invalid shape entry {v.GetRawText()} at dim {d} (expected an integer in [0, {int.MaxValue}])");
            shape[d++] = v.GetInt32();
            try { count = checked(count * shape[d - 1]); }
            catch (OverflowException) { throw Error(source, $"tensor '{name}' of shape {FormatShape(shape, d, rank)} has more elements than a 64-bit count can hold"); }
        }
        if (off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Error(source, $"tensor '{name}' needs data_offsets [begin, end], got {Abbreviate(off.GetRawText())}");
        var offsets = new long[2];
        int k = 0;
        foreach (var v in off.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var o) || o < 0)
                throw Error(source, $"tensor '{name}' has an invalid data offset {Abbreviate(v.GetRawText())} (expected an integer in [0, {dataLength}])");
            offsets[k++] = v.GetInt64();
        }
        if (offsets[1] < offsets[0]) throw Error(source, $"tensor '{name}' has data_offsets [{offsets[0]}, {offsets[1]}] that end before they begin");
        if (offsets[1] > dataLength)
            throw Error(source, $"tensor '{name}' has data_offsets outside the file: [{offsets[0]}, {offsets[1]}] in a data section of {dataLength} bytes");
        long bytes = 0;
        try { bytes = checked(count * Size(code)); }
        catch (OverflowException) { throw Error(source, $"tensor '{name}' of shape {Shape.Format(shape)} and dtype {code} needs more bytes than a 64-bit size can hold"); }
        if (bytes != offsets[1] - offsets[0])
            throw Error(source, $"tensor '{name}' of shape {Shape.Format(shape)} and dtype {code} needs {bytes} bytes but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        if (count > Array.MaxLength) throw Error(source, $"tensor '{name}' has {count} elements, more than one tensor can hold ({Array.MaxLength})");
        return new Entry(name, code, shape, count, offsets[0], offsets[1]);
    }

    const int MaxRank = 64;

    static string FormatShape(int[] shape, int known, int rank)
        => "[" + string.Join(", ", shape.Take(known)) + (known < rank ? ", …" : "") + "]";

    static string Abbreviate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    // Reads one tensor's bytes from the stream positioned at its begin (the entries tile the data in order), straight into
    // the tensor's array where the element type matches, so the peak memory is the tensor itself.
    static Tensor ReadTensor(Stream stream, Entry e, string path)
    {
        if (e.Code == DTypeCode.BOOL)
        {
            var raw = new byte[e.End - e.Begin];
            UntrustedFile.ReadExactly(stream, raw, path, "safetensors");
            return Decode(raw, e, path); // bools are validated byte by byte
        }
        var dtype = ToDType(e.Code);
        var values = dtype.NewArray((int)e.Count, zeroed: false);
        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(values), (int)(e.End - e.Begin));
        UntrustedFile.ReadExactly(stream, bytes, path, "safetensors");
        return Own(values, dtype, e.Shape);
    }

    /// <summary>The element types of the format.</summary>
    public enum DTypeCode
    {
        /// <summary>float32</summary>
        F32,
        /// <summary>float64</summary>
        F64,
        /// <summary>float16</summary>
        F16,
        /// <summary>bfloat16</summary>
        BF16,
        /// <summary>int64</summary>
        I64,
        /// <summary>int32</summary>
        I32,
        /// <summary>uint8</summary>
        U8,
        /// <summary>int8</summary>
        I8,
        /// <summary>bool</summary>
        BOOL,
    }

    static DTypeCode ParseCode(string code, string name, string source) => code switch
    {
        "F32" => DTypeCode.F32,
        "F64" => DTypeCode.F64,
        "F16" => DTypeCode.F16,
        "BF16" => DTypeCode.BF16,
        "I64" => DTypeCode.I64,
        "I32" => DTypeCode.I32,
        "U8" => DTypeCode.U8,
        "I8" => DTypeCode.I8,
        "BOOL" => DTypeCode.BOOL,
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
        DType.Bool => "BOOL",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        DType.Int32 => "I32",
        DType.Int8 => "I8",
        DType.UInt8 => "U8",
        _ => throw DTypeExtensions.NotSupported("safetensors write", dtype),
    };

    static DType ToDType(DTypeCode code) => code switch
    {
        DTypeCode.F32 => DType.Float32,
        DTypeCode.F64 => DType.Float64,
        DTypeCode.I64 => DType.Int64,
        DTypeCode.F16 => DType.Float16,
        DTypeCode.BF16 => DType.BFloat16,
        DTypeCode.I32 => DType.Int32,
        DTypeCode.U8 => DType.UInt8,
        DTypeCode.I8 => DType.Int8,
        _ => DType.Bool,
    };

    static ReadOnlySpan<byte> Bytes(Tensor t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: big-endian machines are not supported");
        // every dtype's storage is an array of its plain little-endian elements, the format's own layout
        var data = t.storage.Data;
        int size = t.DType.ElementSize();
        return MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(data), data.Length * size)
            .Slice(t.offset * size, t.NumEl * size);
    }

    // The tensor takes the array it was read into (no second copy of every weight).
    static Tensor Own(Array values, DType dtype, int[] shape) => new(new Storage(values, dtype), shape);

    static Tensor Decode(ReadOnlySpan<byte> data, Entry e, string source)
    {
        var shape = e.Shape;
        switch (e.Code)
        {
            case DTypeCode.BOOL: break;
            default:
                {
                    var dtype = ToDType(e.Code);
                    var values = dtype.NewArray((int)e.Count, zeroed: false);
                    data.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(values), data.Length));
                    return Own(values, dtype, shape);
                }
        }
        switch (e.Code)
        {
            default:
                {
                    var bools = new bool[data.Length];
                    for (int i = 0; i < data.Length; i++)
                        bools[i] = data[i] switch
                        {
                            0 => false,
                            1 => true,
                            _ => throw new InvalidDataException($"safetensors: {source}: tensor '{e.Name}' (BOOL) holds byte {data[i]} at element {i}, which is neither 0 nor 1"),
                        };
                    return Own(bools, DType.Bool, shape);
                }
        }
    }
}
