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
    /// was expected and the byte offset (in the decompressed stream for gzip files). Only a regular file is opened; the
    /// header's dims are multiplied in checked arithmetic and checked against the file's size (for gzip, against the most
    /// deflate can expand it to) before the data is allocated, and a gzip stream is never inflated past what its header
    /// declares plus <see cref="GzipSlackBytes"/>.
    /// </summary>
    public static IdxFile Read(string path, int? expectedMagic = null)
    {
        var (file, length) = UntrustedFile.OpenRead(path, "IDX file");
        using (file)
        {
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            if (b0 != 0x1F || b1 != 0x8B)
            {
                if (length > Array.MaxLength) throw new InvalidDataException($"IDX file '{path}': {length} bytes is too large to read");
                var bytes = new byte[length];
                UntrustedFile.ReadExactly(file, bytes, path, "IDX file");
                return Parse(bytes, path, expectedMagic);
            }
            return ReadGzip(file, length, path, expectedMagic);
        }
    }

    /// <summary>Bytes a gzip IDX file may inflate to beyond what its header declares (trailing padding) before it is refused.</summary>
    public const int GzipSlackBytes = 1 << 16;

    // deflate expands at most about 1032:1, so a header declaring more than that is a lie found before inflating anything
    const long DeflateMaxRatio = 1032;

    static IdxFile ReadGzip(FileStream file, long compressedLength, string path, int? expectedMagic)
    {
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        long inflated = 0;
        int Inflate(Span<byte> buffer)
        {
            try
            {
                int n = gz.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                inflated += n;
                return n;
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"IDX file '{path}': the gzip stream is corrupt after {inflated} decompressed bytes " +
                    $"(compressed byte offset about {file.Position}): {e.Message}", e);
            }
        }
        var head = new byte[4 + 4 * 255];
        int got = Inflate(head.AsSpan(0, 4));
        int rank = got == 4 ? head[3] : 0;
        if (got == 4) got += Inflate(head.AsSpan(4, 4 * rank));
        var (type, dims, header, expectedBytes) = ParseHeader(head.AsSpan(0, got), path, expectedMagic, "decompressed byte offset");
        long declared = header + expectedBytes;
        if (declared > compressedLength * DeflateMaxRatio + 4096)
            throw new InvalidDataException($"IDX file '{path}': the header declares {expectedBytes} bytes of data (dims [{string.Join(", ", dims)}]), " +
                $"but a {compressedLength}-byte gzip file cannot inflate to more than about {compressedLength * DeflateMaxRatio} bytes");
        if (declared > Array.MaxLength)
            throw new InvalidDataException($"IDX file '{path}': {expectedBytes} bytes of data (dims [{string.Join(", ", dims)}]) is too large");
        var bytes = new byte[declared];
        head.AsSpan(0, header).CopyTo(bytes);
        int total = header + Inflate(bytes.AsSpan(header));
        if (total < bytes.Length) return Parse(bytes.AsSpan(0, total), path, expectedMagic, decompressed: true);
        Span<byte> rest = stackalloc byte[4096];
        long extra = 0;
        int n;
        while ((n = Inflate(rest)) > 0)
            if ((extra += n) > GzipSlackBytes)
                throw new InvalidDataException($"IDX file '{path}': the gzip stream inflates to more than the {declared} bytes its header declares " +
                    $"(dims [{string.Join(", ", dims)}]); refusing to inflate it further");
        return new IdxFile(path, type, dims, bytes.AsSpan(header).ToArray(), header);
    }

    /// <summary>Parses IDX bytes already in memory; <paramref name="name"/> is used in errors.</summary>
    public static IdxFile Parse(byte[] bytes, string name, int? expectedMagic = null, bool decompressed = false)
        => Parse(bytes.AsSpan(), name, expectedMagic, decompressed);

    static IdxFile Parse(ReadOnlySpan<byte> bytes, string name, int? expectedMagic, bool decompressed)
    {
        string where = decompressed ? "decompressed byte offset" : "byte offset";
        var (type, dims, header, expectedBytes) = ParseHeader(bytes, name, expectedMagic, where);
        int rank = dims.Length;
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
        var data = bytes.Slice(header, (int)expectedBytes).ToArray();
        return new IdxFile(name, type, dims, data, header);
    }

    // The magic number and dims, validated; the data size is computed in checked arithmetic (dims from a file can multiply
    // past long's range, and a wrapped size would let a tiny file pass as a huge one or the reverse).
    static (IdxDataType Type, int[] Dims, int HeaderBytes, long DataBytes) ParseHeader(ReadOnlySpan<byte> bytes, string name, int? expectedMagic, string where)
    {
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
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (dims[d] < 0) throw new InvalidDataException($"IDX file '{name}': dim {d} is negative ({dims[d]}) at {where} {4 + 4 * d}");
            try { count = checked(count * dims[d]); }
            catch (OverflowException)
            {
                throw new InvalidDataException($"IDX file '{name}': dims [{string.Join(", ", dims.Take(d + 1))}{(d + 1 < rank ? ", …" : "")}] multiply past the largest possible size (header at {where} 4)");
            }
        }
        long expectedBytes;
        try { expectedBytes = checked(count * ElementSize(type)); }
        catch (OverflowException) { throw new InvalidDataException($"IDX file '{name}': dims [{string.Join(", ", dims)}] of {type} need more bytes than a 64-bit size can hold"); }
        return (type, dims, header, expectedBytes);
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
