using System.Buffers.Binary;
using System.IO.Compression;

namespace Ember.Data;

/// <summary>
/// Structural checks of a PNG file before it is handed to the decoder, which skips them: the signature, every chunk's
/// length and CRC-32, IHDR first with sane fields, IDAT present, IEND reached (a truncated file is an error), the pixel
/// count under a limit, and the compressed image data inflating to no more than the image needs (a zlib bomb inside a
/// small PNG would otherwise make the decoder allocate without bound). Errors name the file and the chunk.
/// </summary>
static class PngCheck
{
    static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Whether the bytes start with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[..8].SequenceEqual(Signature);

    /// <summary>Validates a PNG file's structure and returns its width and height; <paramref name="maxPixels"/> bounds width × height.</summary>
    public static (int Width, int Height) Validate(ReadOnlyMemory<byte> file, string path, long maxPixels)
    {
        var bytes = file.Span;
        string prefix = $"image '{path}': ";
        if (!IsPng(bytes)) throw new InvalidDataException($"{prefix}not a PNG file (bad signature)");
        int pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        bool sawHeader = false, sawData = false, sawEnd = false;
        // where the IDAT chunks lie in the file: they are inflated in place, not copied out (see IdatStream)
        var idat = new List<(int Offset, int Length)>();
        while (!sawEnd)
        {
            if (bytes.Length - pos < 12)
                throw new InvalidDataException($"{prefix}truncated at byte {bytes.Length}: expected another chunk at byte {pos} (the file ends before IEND)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes[pos..]);
            var type = bytes.Slice(pos + 4, 4);
            string name = ChunkName(type);
            if (length > int.MaxValue) throw new InvalidDataException($"{prefix}chunk '{name}' at byte {pos} declares {length} bytes, above the format's 2³¹−1 limit");
            if (length > bytes.Length - pos - 12)
                throw new InvalidDataException($"{prefix}truncated: chunk '{name}' at byte {pos} declares {length} bytes but only {bytes.Length - pos - 12} remain");
            var data = bytes.Slice(pos + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[(pos + 8 + (int)length)..]);
            uint actual = Crc32(bytes.Slice(pos + 4, 4 + (int)length));
            if (stored != actual)
                throw new InvalidDataException($"{prefix}chunk '{name}' at byte {pos} has a bad CRC (stored 0x{stored:X8}, computed 0x{actual:X8}); the file is damaged");
            if (!sawHeader && name != "IHDR") throw new InvalidDataException($"{prefix}the first chunk is '{name}', expected IHDR");
            switch (name)
            {
                case "IHDR":
                    if (sawHeader) throw new InvalidDataException($"{prefix}a second IHDR chunk at byte {pos}");
                    if (length != 13) throw new InvalidDataException($"{prefix}IHDR is {length} bytes, expected 13");
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    bitDepth = data[8]; colorType = data[9]; interlace = data[12];
                    if (width <= 0 || height <= 0) throw new InvalidDataException($"{prefix}IHDR declares a {(uint)width}×{(uint)height} image; both sides must be in [1, 2³¹−1]");
                    if ((long)width * height > maxPixels)
                        throw new InvalidDataException($"{prefix}declares {width}×{height} = {(long)width * height} pixels, above the limit of {maxPixels} " +
                            "(a decompression bomb or an unexpectedly large image; raise maxPixels to decode it)");
                    if (Channels(colorType) == 0 || bitDepth is not (1 or 2 or 4 or 8 or 16) || data[10] != 0 || data[11] != 0 || interlace > 1)
                        throw new InvalidDataException($"{prefix}IHDR has invalid fields (bit depth {bitDepth}, color type {colorType}, compression {data[10]}, filter {data[11]}, interlace {interlace})");
                    sawHeader = true;
                    break;
                case "IDAT":
                    sawData = true;
                    idat.Add((pos + 8, (int)length));
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            pos += 12 + (int)length;
        }
        if (!sawData) throw new InvalidDataException($"{prefix}has no IDAT chunk (no image data)");
        CheckInflatedSize(new IdatStream(file, idat), RawSize(width, height, bitDepth, colorType, interlace == 1), path);
        return (width, height);
    }

    // Inflates the image data with a cap at the size the header implies, so the decoder never sees a bomb; too little
    // data is left to the decoder, which reports it.
    static void CheckInflatedSize(Stream idat, long expected, string path)
    {
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        // rented: the inflated bytes are only counted, and a scan checks one image after another
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        long total = 0;
        try
        {
            int n;
            while ((n = z.Read(buffer)) > 0)
                if ((total += n) > expected + 1024)
                    throw new InvalidDataException($"image '{path}': the compressed image data inflates to more than the {expected} bytes the header implies; refusing to decode it");
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("image '", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"image '{path}': the compressed image data is corrupt after {total} bytes: {e.Message}", e);
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        if (total < expected)
            throw new InvalidDataException($"image '{path}': truncated image data: it inflates to {total} bytes but the header implies {expected}");
    }

    /// <summary>
    /// The IDAT chunks' data, read in file order straight from the file's bytes. Copying them into one stream first made
    /// a second array as large as the file for every image checked: with the file's own, two large-object allocations an
    /// image, and the collector ran a full (gen 2) collection for about every image a data set scan checked.
    /// </summary>
    sealed class IdatStream(ReadOnlyMemory<byte> file, List<(int Offset, int Length)> chunks) : Stream
    {
        int chunk, at;

        public override int Read(Span<byte> buffer)
        {
            while (chunk < chunks.Count && at == chunks[chunk].Length) (chunk, at) = (chunk + 1, 0);
            if (chunk == chunks.Count || buffer.IsEmpty) return 0;
            var (offset, length) = chunks[chunk];
            int n = Math.Min(buffer.Length, length - at);
            file.Span.Slice(offset + at, n).CopyTo(buffer);
            at += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    static int Channels(int colorType) => colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };

    // Filtered scanline bytes: each row is one filter byte plus ceil(width × bits per pixel / 8); Adam7 has seven sub-images.
    static long RawSize(long width, long height, int bitDepth, int colorType, bool interlaced)
    {
        long bitsPerPixel = (long)Channels(colorType) * bitDepth;
        long Rows(long w, long h) => w == 0 || h == 0 ? 0 : h * (1 + (w * bitsPerPixel + 7) / 8);
        if (!interlaced) return Rows(width, height);
        ReadOnlySpan<int> x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        long total = 0;
        for (int p = 0; p < 7; p++)
            total += Rows((width - x0[p] + dx[p] - 1) / dx[p], (height - y0[p] + dy[p] - 1) / dy[p]);
        return total;
    }

    static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++) chars[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        return new string(chars);
    }

    static readonly uint[] Table = BuildTable();

    static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The CRC-32 of PNG (ISO 3309 / ITU-T V.42, as in zlib).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
