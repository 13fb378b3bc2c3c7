using System.Buffers.Binary;
using System.IO.Compression;
using Ember.Data;
using Ember.Data.Transforms;
using StbImageSharp;
using StbImageWriteSharp;

namespace Ember.Tests.Data;

/// <summary>
/// Writes PNG files of any colour type, bit depth and interlacing for tests: filter "None" on every row, the image data
/// zlib-compressed and split into IDAT chunks of <c>idatChunk</c> bytes.
/// </summary>
static class TestPng
{
    /// <summary>The filtered scanlines of an image whose sample (x, y, channel) is <paramref name="sample"/>'s, packed at <paramref name="bitDepth"/> bits (the seven Adam7 passes one after another when interlaced).</summary>
    public static byte[] Scanlines(int width, int height, int channels, int bitDepth, bool interlaced, Func<int, int, int, int> sample)
    {
        ReadOnlySpan<int> x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        var raw = new List<byte>();
        for (int pass = 0; pass < (interlaced ? 7 : 1); pass++)
        {
            var (sx, sy, stepX, stepY) = interlaced ? (x0[pass], y0[pass], dx[pass], dy[pass]) : (0, 0, 1, 1);
            int passWidth = (width - sx + stepX - 1) / stepX;
            if (passWidth <= 0) continue;
            for (int y = sy; y < height; y += stepY)
            {
                raw.Add(0); // filter "None"
                var row = new byte[(passWidth * channels * bitDepth + 7) / 8];
                int bit = 0;
                for (int x = sx; x < width; x += stepX)
                    for (int c = 0; c < channels; c++, bit += bitDepth)
                    {
                        int value = sample(x, y, c);
                        if (bitDepth == 16) { row[bit / 8] = (byte)(value >> 8); row[bit / 8 + 1] = (byte)value; }
                        else row[bit / 8] |= (byte)(value << (8 - bitDepth - bit % 8));
                    }
                raw.AddRange(row);
            }
        }
        return [.. raw];
    }

    /// <summary>A PNG file of <paramref name="scanlines"/>; <paramref name="palette"/> (RGB triples) for colour type 3.</summary>
    public static byte[] Encode(int width, int height, int bitDepth, int colorType, bool interlaced, byte[] scanlines,
        byte[]? palette = null, int idatChunk = 8192, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, level, leaveOpen: true)) z.Write(scanlines);
        var idat = compressed.ToArray();
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth; header[9] = (byte)colorType; header[12] = (byte)(interlaced ? 1 : 0);
        Chunk(file, "IHDR"u8, header);
        if (palette is not null) Chunk(file, "PLTE"u8, palette);
        for (int at = 0; at < idat.Length; at += idatChunk) Chunk(file, "IDAT"u8, idat.AsSpan(at, Math.Min(idatChunk, idat.Length - at)));
        Chunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    static void Chunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var typed = new byte[4 + data.Length];
        type.CopyTo(typed);
        data.CopyTo(typed.AsSpan(4));
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngCheck.Crc32(typed));
        s.Write(word);
    }
}

/// <summary>
/// Decoding into reused buffers (<see cref="DecodeBuffers"/>) and reading the decoder's pixels in place: the pixels are
/// those StbImageSharp's own ImageResult gives (the decoder before session 30) for PNG of every colour type, 16-bit,
/// interlaced, and baseline and progressive JPEG; a decode that fails gives its buffers back, once.
/// </summary>
public class ImageDecodeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-decode-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    // Made by libjpeg-turbo's cjpeg -quality 85 from a 21×13 pattern: progressive 4:2:0 colour, progressive greyscale,
    // and baseline with 2×1 chroma subsampling (4:2:2); odd sizes, so the decoder's upsampling meets partial blocks.
    const string Progressive420 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh7/wgARCAANABUDASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABQYA/8QAFgEBAQEAAAAAAAAAAAAAAAAABAED/9oADAMBAAIQAxAAAAGMfq0sTSeX1R//xAAaEAACAwEBAAAAAAAAAAAAAAACAwABBBMF/9oACAEBAAEFAs2C4nKxcsjXSMoc1DynraWCz//EAB0RAAIBBAMAAAAAAAAAAAAAAAIDAAEEBREGUdH/2gAIAQMBAT8BxWTI5ecqvEPJalDqne/Z/8QAHREAAQQCAwAAAAAAAAAAAAAAAQACAxEEEzFR4f/aAAgBAgEBPwEZA1ABl+i1HC2Vofr56pf/xAAhEAABBAEDBQAAAAAAAAAAAAABAAMREgIEISIxUWFiwf/aAAgBAQAGPwLopDWbviqFtK7hPoT8QPYSrYkmduSbHGKzsF//xAAdEAACAgEFAAAAAAAAAAAAAAABEQAhUTFBgaHR/9oACAEBAAE/ISACwGQGoceDV45itEKTPaEsmzRiBsEgtovjlBO58n//2gAMAwEAAgADAAAAEEzP/8QAHBEBAAEEAwAAAAAAAAAAAAAAAREAITFhcZGh/9oACAEDAQE/EFAL6x7nqmi4wU3BM8pjUV//xAAcEQEBAQABBQAAAAAAAAAAAAABESEAMUFhgeH/2gAIAQIBAT8QUISFoa4K6HbI2qzOPRvVoHqt++Of/8QAHhABAAICAgMBAAAAAAAAAAAAAREhADFBUWFxgZH/2gAIAQEAAT8Qhr/N9kDfqGcLQQH4KB6j7vHbrNbvUcSdbwylJgJUVDs5x4QMUIJK0CtVceMl66QKk8s0PFUW5//Z";
    const string ProgressiveGrey = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/wgALCAANABUBAREA/8QAFgABAQEAAAAAAAAAAAAAAAAABgUH/9oACAEBAAAAAY7Y+jzJh//EABsQAAICAwEAAAAAAAAAAAAAAAMEAQUAAhMG/9oACAEBAAEFAq+syAqoLl9EfpbM61FdElfYVUHz/8QAIhAAAQMDAwUAAAAAAAAAAAAAAQIDEQAEFBAhIhMkQ5Gh/9oACAEBAAY/AhxrIu3A03MSa7C0bDMeZPI+jSbhDIdUpfTEmANjv8rIu3S65ESRp//EAB0QAQABBAMBAAAAAAAAAAAAAAERACFBUTFhcfH/2gAIAQEAAT8hqAIoIiquALr5pp6johZTLwh1fjuA29xmCwtmlvaErgiAAwBYPNtfGr//2gAIAQEAAAAQQ//EABsQAQADAQADAAAAAAAAAAAAAAEAESExQVGh/9oACAEBAAE/EPmeIKBtyrHuJaCgjgodBHRdtAtVFl1cDTjGh2AUkWVI8QMDbkWPNS0AVHVWiz1H/9k=";
    const string Baseline422 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh7/wAARCAANABUDASEAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDxnw34ClZFfynRB/GqFtvvgHn6YOa7/RPCuo6cwmh0q81Rmwoh+ysn/AhgH0x+PWumFDL5YSEq0YynNXvJ6RXR20cm3okmr2bura+nw1m1Os1CUlFd20rfI6Ge5vtMihNz4W1SxSVfk22Us2/HXpE+MZHp1oryXwxh8W/bYdQcJbNctvl7k/8A0qXqff4rjPhfLKjwuLx8FUja+/VJrZ22Z2mheFrFtOjnDsPLjeUgKMkqOMHqO9dJpVomlkXFvJJM0rrCVuSHABGSeACTxxzj2rzv3mJw1Ok2lFqCel3rT/TXpqm110/nnhHFSxD5JLTbz36dvuOW+LXifU7TU9Pi22hje18xVjh2YJdge5zwo9uOByaK9jLMsrVcJCdOUEmvtU4zfneTab1+5adD5zinJ6OJzevUm3e9umySS6dkf//Z";

    static int Pattern(int x, int y, int c) => (x * 37 + y * 11 + c * 89 + x * y * 5) & 0xFFFF;

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // Every kind of file the data sets read: PNG colour types 0, 2, 3, 4, 6 at 1 to 16 bits, interlaced or not, in one
    // IDAT chunk or many; baseline (StbImageWriteSharp) and progressive (cjpeg) JPEG; BMP.
    IEnumerable<string> Images()
    {
        foreach (var (colorType, channels, depths) in new[] { (0, 1, new[] { 1, 2, 4, 8, 16 }), (2, 3, new[] { 8, 16 }), (3, 1, new[] { 1, 4, 8 }), (4, 2, new[] { 8, 16 }), (6, 4, new[] { 8, 16 }) })
            foreach (var depth in depths)
                foreach (var interlaced in new[] { false, true })
                {
                    int w = 37 + depth, h = 23 + colorType;
                    byte[]? palette = colorType == 3 ? [.. Enumerable.Range(0, 3 << depth).Select(i => (byte)(i * 7 + 3))] : null;
                    var scanlines = TestPng.Scanlines(w, h, channels, depth, interlaced, (x, y, c) => Pattern(x, y, c) >> (16 - depth));
                    yield return Write($"png-{colorType}-{depth}-{(interlaced ? "i" : "n")}.png",
                        TestPng.Encode(w, h, depth, colorType, interlaced, scanlines, palette, idatChunk: depth == 8 ? int.MaxValue : 97));
                }
        var rgb = new byte[3 * 45 * 31];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)Pattern(i / 3 % 45, i / 3 / 45, i % 3);
        using (var f = File.Create(Path.Combine(dir, "baseline.jpg"))) new ImageWriter().WriteJpg(rgb, 45, 31, StbImageWriteSharp.ColorComponents.RedGreenBlue, f, 90);
        yield return Path.Combine(dir, "baseline.jpg");
        yield return Write("progressive420.jpg", Convert.FromBase64String(Progressive420));
        yield return Write("progressive-grey.jpg", Convert.FromBase64String(ProgressiveGrey));
        yield return Write("baseline422.jpg", Convert.FromBase64String(Baseline422));
        using (var f = File.Create(Path.Combine(dir, "image.bmp"))) new ImageWriter().WriteBmp(rgb, 45, 31, StbImageWriteSharp.ColorComponents.RedGreenBlue, f);
        yield return Path.Combine(dir, "image.bmp");
    }

    static byte[] Old(string path, int channels)
        => ImageResult.FromMemory(File.ReadAllBytes(path), channels == 1 ? StbImageSharp.ColorComponents.Grey : StbImageSharp.ColorComponents.RedGreenBlue).Data;

    static byte[] New(string path, int channels, DecodeBuffers? buffers)
        => ImageFolder.DecodeInterleaved(path, channels, ImageFolder.DefaultMaxPixels, buffers, (pixels, _, _) => pixels.ToArray());

    [Fact]
    public void Pixels_are_those_of_the_decoder_before_for_every_kind_of_image()
    {
        var images = Images().ToList();
        Assert.Equal(33, images.Count);
        var buffers = new DecodeBuffers();
        // twice over, so that the second round reads each file into buffers a larger file left its bytes in
        for (int round = 0; round < 2; round++)
            foreach (var path in images)
                foreach (var channels in new[] { 3, 1 })
                {
                    var old = Old(path, channels);
                    Assert.True(old.SequenceEqual(New(path, channels, buffers)), $"{Path.GetFileName(path)}, {channels} channels");
                    Assert.True(old.SequenceEqual(New(path, channels, null)), $"{Path.GetFileName(path)}, {channels} channels, fresh buffers");
                    var tensor = ImageFolder.Decode(path, channels);
                    Assert.Equal(ToTensor.FromBytes(old, tensor.Size(1), tensor.Size(2), channels).ToArray<float>(), tensor.ToArray<float>());
                }
        Assert.Equal(0, buffers.Rented);
        Assert.Equal(1, buffers.Made);
    }

    [Fact]
    public void An_8_bit_png_decodes_to_the_samples_written()
    {
        // independent of the decoder before: the file's own samples, RGB, and 16-bit samples by their high byte
        foreach (var depth in new[] { 8, 16 })
        {
            var path = Write($"rgb{depth}.png", TestPng.Encode(19, 7, depth, 2, interlaced: true, TestPng.Scanlines(19, 7, 3, depth, true, (x, y, c) => Pattern(x, y, c) >> (16 - depth))));
            var pixels = New(path, 3, new DecodeBuffers());
            for (int y = 0; y < 7; y++)
                for (int x = 0; x < 19; x++)
                    for (int c = 0; c < 3; c++)
                        Assert.Equal(Pattern(x, y, c) >> 8, pixels[(y * 19 + x) * 3 + c]);
        }
    }

    [Fact]
    public void A_decode_that_fails_gives_its_buffers_back_once()
    {
        var buffers = new DecodeBuffers();
        var good = Write("good.png", TestPng.Encode(40, 30, 8, 2, false, TestPng.Scanlines(40, 30, 3, 8, false, Pattern), idatChunk: int.MaxValue));
        var expected = Old(good, 3);
        Assert.Equal(expected, New(good, 3, buffers));
        var bytes = File.ReadAllBytes(good);
        // a PNG cut in its image data (refused by the check, after the file is read into a buffer)
        var truncated = Write("truncated.png", bytes[..(bytes.Length / 2)]);
        // a JPEG whose scan header names no component: the header check passes and the decoder itself fails (it decodes
        // a JPEG cut short, as zeros)
        var jpeg = Convert.FromBase64String(Baseline422);
        int sos = 2;
        while (!(jpeg[sos] == 0xFF && jpeg[sos + 1] == 0xDA)) sos++;
        jpeg[sos + 4] = 0;
        var badJpeg = Write("bad-scan.jpg", jpeg);
        var failures = new (string Path, Type Expected, Func<string, object> Decode)[]
        {
            (truncated, typeof(InvalidDataException), p => New(p, 3, buffers)),
            (badJpeg, typeof(InvalidDataException), p => New(p, 3, buffers)),
            // the reader throwing (as YoloDataset's does for an image whose size changed since the scan)
            (good, typeof(InvalidDataException), p => ImageFolder.DecodeInterleaved<byte[]>(p, 3, ImageFolder.DefaultMaxPixels, buffers, (_, _, _) => throw new InvalidDataException("changed"))),
            (Path.Combine(dir, "missing.png"), typeof(FileNotFoundException), p => New(p, 3, buffers)),
        };
        foreach (var (path, type, decode) in failures)
        {
            var e = Assert.ThrowsAny<Exception>(() => decode(path));
            Assert.IsType(type, e);
            if (path == badJpeg) Assert.Contains("cannot decode image", e.Message);
            Assert.Equal(0, buffers.Rented);
            // the same set again, whole: the good image still decodes to its pixels
            Assert.Equal(expected, New(good, 3, buffers));
            Assert.Equal(1, buffers.Made);
        }
        var set = buffers.Rent();
        buffers.Return(set);
        Assert.Throws<InvalidOperationException>(() => buffers.Return(set));
    }

    [Fact]
    public void Decodes_at_once_use_a_set_each()
    {
        var images = Enumerable.Range(0, 6).Select(i => Write($"p{i}.png",
            TestPng.Encode(30 + 17 * i, 20 + 9 * i, 8, 6, i % 2 == 1, TestPng.Scanlines(30 + 17 * i, 20 + 9 * i, 4, 8, i % 2 == 1, (x, y, c) => Pattern(x + i, y, c) >> 8), idatChunk: int.MaxValue))).ToArray();
        var expected = images.Select(p => Old(p, 3)).ToArray();
        var buffers = new DecodeBuffers();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int k = 0; k < 60; k++)
            {
                int i = (t + k) % images.Length;
                Assert.Equal(expected[i], New(images[i], 3, buffers));
            }
        });
        Assert.Equal(0, buffers.Rented);
        Assert.InRange(buffers.Made, 1, 4);
        Assert.True(buffers.IdleBytes > 0);
        buffers.Release();
        Assert.Equal(0, buffers.IdleBytes);
        Assert.Equal(expected[0], New(images[0], 3, buffers));
        Assert.Equal(0, buffers.IdleBytes);
    }
}
