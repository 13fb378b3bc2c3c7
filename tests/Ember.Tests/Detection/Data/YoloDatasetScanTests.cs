using System.Buffers.Binary;
using System.IO.Compression;
using Ember.Data;
using Ember.Detection.Data;
using Ember.Tests.Tensors;

namespace Ember.Tests.Detection.Data;

/// <summary>
/// What building a <see cref="YoloDataset"/> (the scan that checks every image's file) and filling its cache allocate
/// and collect. In the storage pool's collection, which runs alone: other tests' collections would count here.
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

    // A list of one noise PNG of side × side pixels, `count` times, with its label: every entry is read as a file of its own.
    string NoiseList(int count, int side)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "labels"));
        NoisePng(Path.Combine(root, "images", "noise.png"), side, side, seed: 29);
        File.WriteAllText(Path.Combine(root, "labels", "noise.txt"), "0 0.5 0.5 0.2 0.2\n");
        var list = Path.Combine(root, "train.txt");
        File.WriteAllLines(list, Enumerable.Repeat("images/noise.png", count));
        return list;
    }

    [Fact]
    public void Filling_the_cache_leaves_a_bounded_garbage_of_decoding_beside_it()
    {
        // 64 images of 1000×1000 read once each, as the first epoch of `detect train` reads them: the cache keeps 3 MB of
        // each, and the decoding leaves about 9 MB more of large arrays that the collector let grow with the cache (800 MB
        // beside 576 MB in `detect train` of 192 such images). Measured: the managed heap, garbage included, less the cache.
        const int Images = 64, Side = 1000;
        var set = new YoloDataset([NoiseList(Images, Side)], classCount: 1, cacheImages: true);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long before = GC.GetTotalMemory(forceFullCollection: false), most = 0;
        float[]? buffer = null;
        for (int i = 0; i < Images; i++)
        {
            set.CachedImage(i, ref buffer);
            long cached = (i + 1L) * 3 * Side * Side;
            most = Math.Max(most, GC.GetTotalMemory(forceFullCollection: false) - before - cached - 4L * buffer!.Length);
        }
        // the bound, two images' decoding that come after it is reached, and a gen0 budget (16 MiB in Ember's programs)
        Assert.InRange(most, 0, YoloDataset.CacheGarbageBytes + 2 * 9L * Side * Side + (16L << 20));
    }

    [Fact]
    public void Scanning_192_large_images_allocates_one_file_buffer_and_runs_no_full_collection_per_image()
    {
        const int Images = 192, Side = 1000;
        var list = NoiseList(Images, Side); // one 3 MB file listed 192 times
        long fileBytes = new FileInfo(Path.Combine(root, "images", "noise.png")).Length;
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
