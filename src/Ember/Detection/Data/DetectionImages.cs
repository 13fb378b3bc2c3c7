using Ember.Data;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Ember.Detection.Data;

/// <summary>Image file helpers for the detection data: sizes from headers, decoding to RGB, and PNG writing.</summary>
internal static class DetectionImages
{
    /// <summary>The file extensions read as images (YOLOv5 reads more through OpenCV; these are what StbImageSharp decodes).</summary>
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    public static bool IsImage(string path) => Extensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant());

    /// <summary>
    /// Checks an image file without decoding its pixels and returns its (height, width): PNG structure (chunk CRCs,
    /// truncation, data size), or the size a JPEG/BMP header declares. Throws <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static (int Height, int Width) Probe(string path, long maxPixels)
    {
        byte[]? buffer = null;
        return Probe(path, maxPixels, ref buffer);
    }

    /// <summary>
    /// <see cref="Probe(string, long)"/> reading the file into <paramref name="buffer"/> (grown when too small), for a loop
    /// that checks many images: one buffer for all of them instead of an array of each file's size.
    /// </summary>
    public static (int Height, int Width) Probe(string path, long maxPixels, ref byte[]? buffer)
    {
        var file = UntrustedFile.ReadAllBytes(path, "image", 1L << 30, ref buffer);
        var bytes = file.Span;
        long w, h;
        if (PngCheck.IsPng(bytes)) (w, h) = PngCheck.Validate(file, path, maxPixels);
        else if (ImageHeader.Read(bytes) is var (_, hw, hh)) (w, h) = (hw, hh);
        else throw new InvalidDataException($"image '{path}': not a PNG, JPEG or BMP file (unrecognized header {Hex(bytes)})");
        if (w < 1 || h < 1 || w > int.MaxValue || h > int.MaxValue)
            throw new InvalidDataException($"image '{path}': declares a {w}×{h} image; both sides must be at least 1");
        if (w * h > maxPixels) throw new InvalidDataException($"image '{path}': declares {w}×{h} = {w * h} pixels, above the limit of {maxPixels}");
        return ((int)h, (int)w);
    }

    static string Hex(ReadOnlySpan<byte> b) => b.Length == 0 ? "(empty file)" : Convert.ToHexString(b[..Math.Min(8, b.Length)]);

    /// <summary>Decodes to RGB [3, H, W] float32 in [0, 1] (grayscale files are expanded).</summary>
    public static Tensor Decode(string path, long maxPixels) => ImageFolder.Decode(path, 3, maxPixels);

    /// <summary>
    /// Writes a [3, H, W] (or [1, H, W]) image in [0, 1] as an 8-bit PNG. A small encoder of our own (each row filtered
    /// with "Sub", then zlib): it is several times faster than StbImageWriteSharp's on noisy images, and its bytes depend
    /// only on the pixels and the runtime's zlib.
    /// </summary>
    public static void WritePng(string path, Tensor image)
    {
        var (c, h, w) = DataTensors.Chw(image, "WritePng");
        if (c is not (1 or 3)) throw new ArgumentException($"WritePng: expected 1 or 3 channels, got {c}");
        var src = DataTensors.Floats(image);
        int plane = h * w, stride = w * c;
        var raw = new byte[h * (stride + 1)];
        var row = new byte[stride];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                    row[x * c + ch] = (byte)Math.Clamp((int)MathF.Round(src[ch * plane + y * w + x] * 255f), 0, 255);
            int o = y * (stride + 1);
            raw[o] = 1; // filter "Sub": each byte minus the one a pixel to its left
            for (int i = 0; i < stride; i++) raw[o + 1 + i] = (byte)(row[i] - (i >= c ? row[i - c] : 0));
        }
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        header[8] = 8; header[9] = (byte)(c == 3 ? 2 : 0); // 8-bit truecolour or grayscale, no interlace
        Chunk(file, "IHDR"u8, header);
        Chunk(file, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        Chunk(file, "IEND"u8, []);
    }

    static void Chunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typed = new byte[4 + data.Length];
        type.CopyTo(typed);
        data.CopyTo(typed.AsSpan(4));
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngCheck.Crc32(typed));
        s.Write(word);
    }
}
