using System.Buffers.Binary;
using System.IO.Compression;

namespace Ember.Data;

/// <summary>
/// An IDX file (the MNIST format): a big-endian magic number 0x0000TTNN (TT the element type, NN the number of dims),
/// NN big-endian int32 dims, then the elements in row-major order. <see cref="Read"/> accepts raw or gzip-compressed files.
/// </summary>
public sealed class IdxFile
{
    IdxFile(string path, IdxDataType dataType, int[] dims, byte[] data, int headerBytes)
    {
        Path = path; DataType = dataType; this.dims = dims; Data = data; HeaderBytes = headerBytes;
    }

    readonly int[] dims;

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>The element type.</summary>
    public IdxDataType DataType { get; }
    /// <summary>The dims, e.g. [60000, 28, 28].</summary>
    public IReadOnlyList<int> Dims => dims;
    /// <summary>The number of items (dim 0).</summary>
    public int Count => dims.Length == 0 ? 1 : dims[0];
    /// <summary>The magic number, 0x0000TTNN.</summary>
    public int Magic => ((int)DataType << 8) | dims.Length;
    /// <summary>The raw element bytes (big-endian for multi-byte types).</summary>
    public byte[] Data { get; }
    /// <summary>The size of the header in bytes (4 + 4 × dims).</summary>
    public int HeaderBytes { get; }

    /// <summary>The magic number an IDX file of <paramref name="type"/> with <paramref name="rank"/> dims starts with.</summary>
    public static int MagicFor(IdxDataType type, int rank) => ((int)type << 8) | rank;

    static int ElementSize(IdxDataType t) => t switch
    {
        IdxDataType.UByte or IdxDataType.SByte => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Float32 => 4,
        IdxDataType.Float64 => 8,
        _ => 0,
    };

    static string Describe(int magic) => $"0x{magic:X8} ({(IdxDataType)((magic >> 8) & 0xFF)}, {magic & 0xFF} dims)";

    /// <summary>
    /// Reads an IDX file, gzip-compressed (detected by its 1F 8B signature) or raw. With <paramref name="expectedMagic"/>
    /// the magic number must match (0x00000803 for MNIST images, 0x00000801 for labels). Errors name the file, what
    /// was expected and the byte offset (in the decompressed stream for gzip files).
    /// </summary>
    public static IdxFile Read(string path, int? expectedMagic = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist", path);
        byte[] bytes;
        bool gzip;
        using (var file = File.OpenRead(path))
        {
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            gzip = b0 == 0x1F && b1 == 0x8B;
            if (gzip)
            {
                using var inflated = new MemoryStream();
                using var gz = new GZipStream(file, CompressionMode.Decompress);
                try { gz.CopyTo(inflated); }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"IDX file '{path}': the gzip stream is corrupt after {inflated.Length} decompressed bytes " +
                        $"(compressed byte offset about {file.Position}): {e.Message}", e);
                }
                bytes = inflated.ToArray();
            }
            else
            {
                bytes = new byte[file.Length];
                file.ReadExactly(bytes);
            }
        }
        return Parse(bytes, path, expectedMagic, gzip);
    }

    /// <summary>Parses IDX bytes already in memory; <paramref name="name"/> is used in errors.</summary>
    public static IdxFile Parse(byte[] bytes, string name, int? expectedMagic = null, bool decompressed = false)
    {
        string where = decompressed ? "decompressed byte offset" : "byte offset";
        if (bytes.Length < 4)
            throw new InvalidDataException($"IDX file '{name}': truncated: expected a 4-byte magic number{Expect(expectedMagic)}, but the file ends at {where} {bytes.Length}");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        int rank = magic & 0xFF;
        var type = (IdxDataType)((magic >> 8) & 0xFF);
        if (expectedMagic is int em && magic != em)
            throw new InvalidDataException($"IDX file '{name}': bad magic number {Describe(magic)} at {where} 0: expected {Describe(em)}");
        if ((magic >> 16) != 0 || ElementSize(type) == 0)
            throw new InvalidDataException($"IDX file '{name}': bad magic number 0x{magic:X8} at {where} 0: expected 0x0000TTNN with TT one of 08, 09, 0B, 0C, 0D, 0E (the element type) and NN the number of dims");
        int header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new InvalidDataException($"IDX file '{name}': truncated header: expected {rank} dims ({header} header bytes), but the file ends at {where} {bytes.Length}");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] < 0) throw new InvalidDataException($"IDX file '{name}': dim {d} is negative ({dims[d]}) at {where} {4 + 4 * d}");
            count *= dims[d];
        }
        long expectedBytes = count * ElementSize(type);
        long got = bytes.Length - header;
        if (got < expectedBytes)
        {
            long itemBytes = rank == 0 ? expectedBytes : (dims[0] == 0 ? 0 : expectedBytes / dims[0]);
            long items = itemBytes == 0 ? 0 : got / itemBytes;
            throw new InvalidDataException(
                $"IDX file '{name}': truncated data: expected {(rank == 0 ? 1 : dims[0])} items of shape [{string.Join(", ", dims.Skip(1))}] " +
                $"({expectedBytes} bytes after the {header}-byte header), but the data ends at {where} {bytes.Length} after {items} complete items");
        }
        if (expectedBytes > Array.MaxLength) throw new InvalidDataException($"IDX file '{name}': {expectedBytes} bytes of data is too large");
        var data = bytes.AsSpan(header, (int)expectedBytes).ToArray();
        return new IdxFile(name, type, dims, data, header);
    }

    static string Expect(int? magic) => magic is int m ? $" (expected {Describe(m)})" : "";

    /// <summary>The elements as a tensor of shape <see cref="Dims"/>: float32 by default, int64 for labels.</summary>
    public Tensor ToTensor(DType dtype = DType.Float32)
    {
        int n = Data.Length / ElementSize(DataType);
        if (dtype == DType.Float32)
        {
            // Straight to float32: a float64 detour would need 8 bytes per pixel (376 MB for MNIST's training images).
            var floats = new float[n];
            for (int i = 0; i < n; i++) floats[i] = (float)Element(i);
            return DataTensors.Wrap(floats, (int[])dims.Clone());
        }
        if (dtype == DType.Int64 && DataType is IdxDataType.UByte or IdxDataType.SByte or IdxDataType.Int16 or IdxDataType.Int32)
        {
            var longs = new long[n];
            for (int i = 0; i < n; i++) longs[i] = (long)Element(i);
            return DataTensors.Wrap(longs, (int[])dims.Clone());
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = Element(i);
        var t = Torch.FromArray(values, dims);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }

    /// <summary>Element i converted to double.</summary>
    public double Element(int i) => DataType switch
    {
        IdxDataType.UByte => Data[i],
        IdxDataType.SByte => (sbyte)Data[i],
        IdxDataType.Int16 => BinaryPrimitives.ReadInt16BigEndian(Data.AsSpan(2 * i)),
        IdxDataType.Int32 => BinaryPrimitives.ReadInt32BigEndian(Data.AsSpan(4 * i)),
        IdxDataType.Float32 => BinaryPrimitives.ReadSingleBigEndian(Data.AsSpan(4 * i)),
        IdxDataType.Float64 => BinaryPrimitives.ReadDoubleBigEndian(Data.AsSpan(8 * i)),
        _ => throw new InvalidDataException($"IDX file '{Path}': unknown element type {DataType}"),
    };
}
