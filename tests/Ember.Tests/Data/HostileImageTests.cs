using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Ember.Data;
using Ember.Tests.Interop;

namespace Ember.Tests.Data;

/// <summary>
/// Damaged and hostile images (PNG chunk by chunk, and BMP/GIF/JPEG headers declaring huge sizes), generated here:
/// refused with the file and the problem named, before the decoder allocates what the header claims.
/// </summary>
public class HostileImageTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-hostile-img-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    static byte[] Chunk(string type, byte[] data, bool badCrc = false, uint? declaredLength = null)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, declaredLength ?? (uint)data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        uint crc = HostileFile.Crc32(chunk.AsSpan(4, 4 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), badCrc ? crc ^ 1 : crc);
        return chunk;
    }

    static byte[] Ihdr(int width, int height, byte bitDepth = 8, byte colorType = 2, byte compression = 0, byte filter = 0, byte interlace = 0)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(data, width);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth; data[9] = colorType; data[10] = compression; data[11] = filter; data[12] = interlace;
        return data;
    }

    static byte[] Zlib(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.SmallestSize)) z.Write(raw);
        return output.ToArray();
    }

    // Filtered scanlines of an 8-bit RGB image: filter byte 0 then the pixels, row by row.
    static byte[] Rows(int width, int height, int extra = 0) => new byte[height * (1 + 3 * width) + extra];

    static byte[] Png(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    static byte[] Valid(int w = 4, int h = 3) => Png(Chunk("IHDR", Ihdr(w, h)), Chunk("IDAT", Zlib(Rows(w, h))), Chunk("IEND", []));

    static byte[] Bmp(int width, int height)
    {
        var bytes = new byte[54];
        bytes[0] = (byte)'B'; bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        return bytes;
    }

    static byte[] Gif(ushort width, ushort height)
    {
        var bytes = new byte[13 + 1];
        Encoding.ASCII.GetBytes("GIF89a").CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), height);
        bytes[13] = 0x3B;
        return bytes;
    }

    static byte[] Jpeg(ushort width, ushort height)
    {
        // SOI, then a baseline SOF0 frame header with 3 components
        byte[] sof = [0xFF, 0xC0, 0, 17, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1];
        return [0xFF, 0xD8, .. sof, 0xFF, 0xD9];
    }

    // A GIF whose logical screen is small but whose one frame declares a huge size.
    static byte[] GifFrame(ushort width, ushort height)
    {
        var bytes = new List<byte>(Gif(1, 1)[..13]);
        bytes.Add(0x2C); // image descriptor: left, top, width, height, flags
        foreach (var v in new ushort[] { 0, 0, width, height }) { bytes.Add((byte)v); bytes.Add((byte)(v >> 8)); }
        bytes.AddRange([0, 2, 0, 0x3B]);
        return [.. bytes];
    }

    static byte[] Tga(ushort width, ushort height)
    {
        var bytes = new byte[18 + 3];
        bytes[2] = 2; // uncompressed true colour
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(12), width);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(14), height);
        bytes[16] = 24;
        return bytes;
    }

    static byte[] Psd(int width, int height)
    {
        var bytes = new byte[26 + 16];
        Encoding.ASCII.GetBytes("8BPS").CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(12), 3);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(14), height);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(22), 8);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(24), 3);
        return bytes;
    }

    static byte[] Hdr(int width, int height) => Encoding.ASCII.GetBytes($"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {height} +X {width}\n\0\0\0\0");

    static byte[] Cut(byte[] bytes, int length) => bytes[..length];

    /// <summary>Case name → (file bytes, the problem the message must state).</summary>
    static readonly Dictionary<string, (Func<byte[]> Bytes, string Problem)> Cases = new()
    {
        // CRCs
        ["crc-ihdr"] = (() => Png(Chunk("IHDR", Ihdr(4, 3), badCrc: true), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "chunk 'IHDR' at byte 8 has a bad CRC"),
        ["crc-idat"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3)), badCrc: true), Chunk("IEND", [])), "chunk 'IDAT' at byte 33 has a bad CRC"),
        ["crc-second-idat"] = (() => { var z = Zlib(Rows(4, 3)); return Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", z[..5]), Chunk("IDAT", z[5..], badCrc: true), Chunk("IEND", [])); }, "chunk 'IDAT'"),
        ["crc-iend"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [], badCrc: true)), "chunk 'IEND'"),
        ["crc-text"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("tEXt", Encoding.ASCII.GetBytes("Comment\0hi"), badCrc: true), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "chunk 'tEXt' at byte 33 has a bad CRC"),
        ["crc-palette"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, colorType: 3)), Chunk("PLTE", new byte[6], badCrc: true), Chunk("IDAT", Zlib(new byte[3 * 5])), Chunk("IEND", [])), "chunk 'PLTE'"),
        ["crc-flipped-data-bit"] = (() => { var b = Valid(); b[40] ^= 0x10; return b; }, "has a bad CRC"),
        // truncation
        ["signature-only"] = (() => Signature, "truncated at byte 8"),
        ["cut-in-ihdr"] = (() => Cut(Valid(), 20), "truncated"),
        ["cut-after-ihdr"] = (() => Cut(Valid(), 33), "truncated at byte 33"),
        ["cut-in-idat"] = (() => Cut(Valid(), 45), "truncated: chunk 'IDAT' at byte 33"),
        ["cut-before-iend"] = (() => { var b = Valid(); return Cut(b, b.Length - 12); }, "the file ends before IEND"),
        ["cut-in-iend"] = (() => { var b = Valid(); return Cut(b, b.Length - 3); }, "truncated"),
        ["no-iend"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3)))), "the file ends before IEND"),
        ["chunk-length-above-2^31"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3)), declaredLength: 0x80000000)), "above the format's 2³¹−1 limit"),
        ["chunk-length-beyond-file"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3)), declaredLength: 1_000_000), Chunk("IEND", [])), "declares 1000000 bytes but only"),
        // structure
        ["first-chunk-not-ihdr"] = (() => Png(Chunk("tEXt", Encoding.ASCII.GetBytes("a\0b")), Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "the first chunk is 'tEXt', expected IHDR"),
        ["ihdr-short"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)[..12]), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "IHDR is 12 bytes, expected 13"),
        ["ihdr-twice"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "a second IHDR chunk"),
        ["no-idat"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IEND", [])), "has no IDAT chunk"),
        ["width-zero"] = (() => Png(Chunk("IHDR", Ihdr(0, 3)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "IHDR declares a 0×3 image"),
        ["height-zero"] = (() => Png(Chunk("IHDR", Ihdr(4, 0)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "IHDR declares a 4×0 image"),
        ["width-negative"] = (() => Png(Chunk("IHDR", Ihdr(int.MinValue, 3)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "both sides must be in [1, 2³¹−1]"),
        ["bit-depth-3"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, bitDepth: 3)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "IHDR has invalid fields (bit depth 3"),
        ["color-type-5"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, colorType: 5)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "color type 5"),
        ["compression-1"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, compression: 1)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "compression 1"),
        ["filter-method-1"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, filter: 1)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "filter 1"),
        ["interlace-2"] = (() => Png(Chunk("IHDR", Ihdr(4, 3, interlace: 2)), Chunk("IDAT", Zlib(Rows(4, 3))), Chunk("IEND", [])), "interlace 2"),
        // sizes: declared pixels and the compressed data
        ["30000-squared"] = (() => Png(Chunk("IHDR", Ihdr(30000, 30000)), Chunk("IDAT", Zlib(new byte[1000])), Chunk("IEND", [])), "declares 30000×30000 = 900000000 pixels, above the limit of 89478485"),
        ["int-max-squared"] = (() => Png(Chunk("IHDR", Ihdr(int.MaxValue, int.MaxValue)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "above the limit"),
        ["one-row-of-2^31"] = (() => Png(Chunk("IHDR", Ihdr(int.MaxValue, 1)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "above the limit"),
        ["tall-strip"] = (() => Png(Chunk("IHDR", Ihdr(1, 100_000_000)), Chunk("IDAT", Zlib([])), Chunk("IEND", [])), "above the limit"),
        ["zlib-bomb"] = (() => Png(Chunk("IHDR", Ihdr(16, 16)), Chunk("IDAT", Zlib(new byte[64 << 20])), Chunk("IEND", [])), "inflates to more than the 784 bytes the header implies"),
        ["zlib-too-short"] = (() => Png(Chunk("IHDR", Ihdr(16, 16)), Chunk("IDAT", Zlib(new byte[100])), Chunk("IEND", [])), "truncated image data: it inflates to 100 bytes but the header implies 784"),
        ["zlib-corrupt"] = (() => Png(Chunk("IHDR", Ihdr(4, 3)), Chunk("IDAT", [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), Chunk("IEND", [])), "the compressed image data is corrupt"),
        ["interlaced-too-short"] = (() => Png(Chunk("IHDR", Ihdr(9, 9, interlace: 1)), Chunk("IDAT", Zlib(Rows(9, 9))), Chunk("IEND", [])), "truncated image data"),
        // other formats' headers
        ["bmp-huge"] = (() => Bmp(100_000, 100_000), "declares 100000×100000 = 10000000000 pixels"),
        ["gif-huge"] = (() => Gif(65535, 65535), "declares 65535×65535"),
        ["jpeg-huge"] = (() => Jpeg(65000, 65000), "declares 65000×65000"),
        ["jpeg-progressive-huge"] = (() => { var b = Jpeg(65000, 65000); b[3] = 0xC2; return b; }, "(JPEG) declares 65000×65000"),
        ["jpeg-zero-height"] = (() => Jpeg(100, 0), "(JPEG) declares a 100×0 image; both sides must be at least 1"),
        ["bmp-top-down-huge"] = (() => Bmp(100_000, -100_000), "(BMP) declares 100000×100000 = 10000000000 pixels"),
        ["bmp-height-int-min"] = (() => Bmp(10, int.MinValue), "(BMP) declares 10×2147483648 = 21474836480 pixels"),
        ["bmp-width-negative"] = (() => Bmp(-100_000, 100_000), "(BMP) declares a -100000×100000 image"),
        ["bmp-zero-width"] = (() => Bmp(0, 10), "(BMP) declares a 0×10 image"),
        ["gif-frame-beyond-screen"] = (() => GifFrame(65535, 65535), "(GIF) declares 65535×65535 = 4294836225 pixels"),
        ["tga-huge"] = (() => Tga(65535, 65535), "declares 65535×65535"),
        ["psd-huge"] = (() => Psd(30000, 30000), "declares 30000×30000"),
        ["hdr-huge"] = (() => Hdr(30000, 30000), "declares 30000×30000"),
        // not an image at all
        ["empty"] = (() => [], "not a PNG, JPEG, BMP or GIF file"),
        ["text"] = (() => Encoding.ASCII.GetBytes("this is not an image"), "not a PNG, JPEG, BMP or GIF file"),
        ["bad-signature"] = (() => { var b = Valid(); b[1] = (byte)'X'; return b; }, "not a PNG, JPEG, BMP or GIF file"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Damaged_image_is_refused_with_the_file_and_the_problem(string name)
    {
        var (bytes, problem) = Cases[name];
        var path = Path.Combine(dir, $"{name}.png");
        File.WriteAllBytes(path, bytes());
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(path), Path.GetFileName(path), problem);
    }

    [Fact]
    public void The_valid_base_of_the_cases_decodes_including_interlaced_and_palette_images()
    {
        var path = Path.Combine(dir, "valid.png");
        File.WriteAllBytes(path, Valid(4, 3));
        Assert.Equal(new Shape(3, 3, 4), ImageFolder.Decode(path).Shape);
        // Adam7 9×9 RGB: passes of 2×2, 1×2, 3×1, 2×3, 5×2, 4×5, 9×4 pixels, one filter byte per row
        int[] w = [2, 1, 3, 2, 5, 4, 9], h = [2, 2, 1, 3, 2, 5, 4];
        int raw = 0;
        for (int p = 0; p < 7; p++) raw += h[p] * (1 + 3 * w[p]);
        File.WriteAllBytes(path, Png(Chunk("IHDR", Ihdr(9, 9, interlace: 1)), Chunk("IDAT", Zlib(new byte[raw])), Chunk("IEND", [])));
        Assert.Equal(new Shape(1, 9, 9), ImageFolder.Decode(path, channels: 1).Shape);
        File.WriteAllBytes(path, Png(Chunk("IHDR", Ihdr(4, 3, colorType: 3)), Chunk("PLTE", new byte[6]), Chunk("IDAT", Zlib(new byte[3 * 5])), Chunk("IEND", [])));
        Assert.Equal(new Shape(3, 3, 4), ImageFolder.Decode(path).Shape);
    }

    [Fact]
    public void The_pixel_limit_is_configurable()
    {
        var path = Path.Combine(dir, "sixteen.png");
        File.WriteAllBytes(path, Valid(16, 16));
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(path, maxPixels: 255), "sixteen.png", "256 pixels, above the limit of 255");
        Assert.Equal(new Shape(3, 16, 16), ImageFolder.Decode(path, maxPixels: 256).Shape);
        var bmp = Path.Combine(dir, "small.bmp");
        File.WriteAllBytes(bmp, Bmp(20, 20));
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(bmp, maxPixels: 100), "small.bmp", "400 pixels, above the limit of 100");
        // each format's own header is read for the check: the limit applies to GIF and JPEG at exactly the declared size
        var gif = Path.Combine(dir, "small.gif");
        File.WriteAllBytes(gif, Gif(30, 30));
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(gif, maxPixels: 899), "small.gif", "(GIF) declares 30×30 = 900 pixels, above the limit of 899");
        var jpeg = Path.Combine(dir, "small.jpg");
        File.WriteAllBytes(jpeg, Jpeg(40, 25));
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(jpeg, maxPixels: 999), "small.jpg", "(JPEG) declares 40×25 = 1000 pixels, above the limit of 999");
        // a top-down BMP (negative height) within the limit decodes: |height| rows
        var topDown = Path.Combine(dir, "top-down.bmp");
        File.WriteAllBytes(topDown, [.. Bmp(2, -2), .. new byte[2 * 8]]); // rows of 2 × 3 bytes padded to 8
        Assert.Equal(new Shape(3, 2, 2), ImageFolder.Decode(topDown, maxPixels: 4).Shape);
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(topDown, maxPixels: 3), "top-down.bmp", "(BMP) declares 2×2 = 4 pixels, above the limit of 3");
    }

    [Fact]
    public void Special_files_are_refused_at_once()
    {
        var folder = Path.Combine(dir, "folder.png");
        Directory.CreateDirectory(folder);
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(folder), "folder.png", "is a folder, not a file");
        HostileFile.Refused<FileNotFoundException>(() => ImageFolder.Decode(Path.Combine(dir, "missing.png")), "missing.png", "file not found");
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(dir, "pipe.png");
        Assert.True(HostileFile.MakeFifo(fifo));
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(fifo), "pipe.png", "a FIFO (named pipe)", timeoutMs: 5000);
        var zero = Path.Combine(dir, "zero.png");
        File.CreateSymbolicLink(zero, "/dev/zero");
        HostileFile.Refused<InvalidDataException>(() => ImageFolder.Decode(zero), "zero.png", "a character device", timeoutMs: 5000);
    }
}
