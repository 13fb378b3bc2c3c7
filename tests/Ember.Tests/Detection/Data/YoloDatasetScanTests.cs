using System.Buffers.Binary;
using System.IO.Compression;
using Ember.Data;
using Ember.Detection.Data;
using Ember.Tests.Tensors;

namespace Ember.Tests.Detection.Data;

/// <summary>
/// What building a <see cref="YoloDataset"/> (the scan that checks every image's file) allocates and collects. In the
/// storage pool's collection, which runs alone: other tests' collections would count here.
/// </summary>
[Collection(StoragePoolCollection.Name)]
public class YoloDatasetScanTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-yolo-scan-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    // A noise RGB PNG (incompressible, so the file is about 3 bytes a pixel) with its image data split into IDAT chunks of
    // 8 KiB, as libpng writes them: the check inflates them as one stream.
    static void NoisePng(string path, int w, int h, int seed)
    {
        var raw = new byte[h * (3 * w + 1)];
        new Random(seed).NextBytes(raw);
        for (int y = 0; y < h; y++) raw[y * (3 * w + 1)] = 0; // filter "None" on every row
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        var idat = compressed.ToArray();
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        header[8] = 8; header[9] = 2;
        Chunk(file, "IHDR"u8, header);
        for (int at = 0; at < idat.Length; at += 8192) Chunk(file, "IDAT"u8, idat.AsSpan(at, Math.Min(8192, idat.Length - at)));
        Chunk(file, "IEND"u8, []);
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

    [Fact]
    public void Scanning_192_large_images_allocates_one_file_buffer_and_runs_no_full_collection_per_image()
    {
        const int Images = 192, Side = 1000;
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "labels"));
        var image = Path.Combine(root, "images", "noise.png");
        NoisePng(image, Side, Side, seed: 29);
        File.WriteAllText(Path.Combine(root, "labels", "noise.txt"), "0 0.5 0.5 0.2 0.2\n");
        // one 3 MB file listed 192 times: each entry is read and checked as a file of its own
        var list = Path.Combine(root, "train.txt");
        File.WriteAllLines(list, Enumerable.Repeat("images/noise.png", Images));
        long fileBytes = new FileInfo(image).Length;
        Assert.True(fileBytes > 3L * Side * Side);

        int collections = GC.CollectionCount(2);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var set = new YoloDataset([list], classCount: 1);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        collections = GC.CollectionCount(2) - collections;

        Assert.Equal(Images, set.Count);
        Assert.Equal((Side, Side), set.ImageSize(Images - 1));
        // Before: the file's bytes and a copy of its image data, two large-object arrays an image (1.2 GB for these 192),
        // and a full collection about every image in `ember detect train` (every eighth here). Now one buffer for all
        // files and, per image, the inflater's 64 KiB window and small objects.
        Assert.InRange(allocated, fileBytes, fileBytes + Images * (256L << 10));
        Assert.InRange(collections, 0, 2);
    }
}
