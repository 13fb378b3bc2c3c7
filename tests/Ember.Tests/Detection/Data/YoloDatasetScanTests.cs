using Ember.Detection.Data;
using Ember.Data;
using Ember.Tests.Data;
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
    // `idatChunk` bytes: 8 KiB as libpng writes them (the check inflates them as one stream), or one chunk as others do.
    static void NoisePng(string path, int w, int h, int seed, int idatChunk = 8192)
    {
        var raw = new byte[h * (3 * w + 1)];
        new Random(seed).NextBytes(raw);
        for (int y = 0; y < h; y++) raw[y * (3 * w + 1)] = 0; // filter "None" on every row
        File.WriteAllBytes(path, TestPng.Encode(w, h, 8, 2, interlaced: false, raw, idatChunk: idatChunk));
    }

    // A list of one noise PNG of side × side pixels, `count` times, with its label: every entry is read as a file of its own.
    string NoiseList(int count, int side, int idatChunk = 8192)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "labels"));
        NoisePng(Path.Combine(root, "images", "noise.png"), side, side, seed: 29, idatChunk);
        File.WriteAllText(Path.Combine(root, "labels", "noise.txt"), "0 0.5 0.5 0.2 0.2\n");
        var list = Path.Combine(root, "train.txt");
        File.WriteAllLines(list, Enumerable.Repeat("images/noise.png", count));
        return list;
    }

    [Fact]
    public void Filling_the_cache_allocates_the_cache_and_one_set_of_decode_buffers()
    {
        // 32 images of 1000×1000 read once each, as the first epoch of `detect train` reads them, each file's image data in
        // one IDAT chunk. Before session 30 each image left 12 MB of large arrays (the file, the decoder's copy of the chunk
        // at twice its size, its pixels copied out) beside the 3 MB the cache keeps: 480 MB here, which the collector let
        // grow with the cache until YoloDataset forced full collections. Now the file and the chunk copy are read into one
        // set of buffers for all images and the pixels are read in the decoder's own (unmanaged) memory.
        const int Images = 32, Side = 1000;
        var set = new YoloDataset([NoiseList(Images, Side, idatChunk: int.MaxValue)], classCount: 1, cacheImages: true);
        long fileBytes = new FileInfo(Path.Combine(root, "images", "noise.png")).Length;
        float[]? buffer = new float[3 * Side * Side];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Images; i++) set.CachedImage(i, ref buffer);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        long cache = Images * 3L * Side * Side;
        // the cache; the file's buffer and the chunk's (as large as the file) once; per image the inflater's window and
        // small objects
        Assert.InRange(allocated, cache + 2 * fileBytes, cache + 2 * fileBytes + Images * (256L << 10));
        Assert.Equal(0, set.DecodeBuffers.Rented);
        Assert.Equal(1, set.DecodeBuffers.Made);
        // the cache full, nothing is decoded any more: the buffers are let go
        Assert.Equal(0, set.DecodeBuffers.IdleBytes);
        Assert.Equal(3 * Side * Side, buffer!.Length);
    }

    [Fact]
    public void An_image_damaged_after_the_scan_fails_to_decode_and_gives_its_buffers_back()
    {
        var set = new YoloDataset([NoiseList(4, 64, idatChunk: int.MaxValue)], classCount: 1, cacheImages: true);
        var path = Path.Combine(root, "images", "noise.png");
        var bytes = File.ReadAllBytes(path);
        float[]? buffer = null;
        var first = set.CachedImage(0, ref buffer)!.ToArray<float>();
        // cut in its image data: the check refuses it with the file read into the rented buffer
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => set.CachedImage(1, ref buffer)).Message);
        Assert.Equal(0, set.DecodeBuffers.Rented);
        // a column wider than the scan found: refused once decoded, in the decoder's memory
        NoisePng(path, 65, 64, seed: 29, idatChunk: int.MaxValue);
        Assert.Contains("decoded to 64×65 but its header declares 64×64", Assert.Throws<InvalidDataException>(() => set.CachedImage(1, ref buffer)).Message);
        Assert.Equal(0, set.DecodeBuffers.Rented);
        File.WriteAllBytes(path, bytes);
        Assert.Equal(first, set.CachedImage(1, ref buffer)!.ToArray<float>());
        Assert.Equal(1, set.DecodeBuffers.Made);
    }

    [Fact]
    public void An_epoch_with_an_image_that_fails_to_decode_gives_the_buffers_back_once_every_image_was_tried()
    {
        // four files, the third damaged after the scan: an epoch reads each once and skips the one that fails, so the
        // cache is never full; the buffers go once the last image was tried, and every set rented comes back exactly once
        Directory.CreateDirectory(Path.Combine(root, "images"));
        var paths = Enumerable.Range(0, 4).Select(i => Path.Combine(root, "images", $"noise{i}.png")).ToArray();
        for (int i = 0; i < paths.Length; i++) NoisePng(paths[i], 64, 48, seed: 31 + i, idatChunk: int.MaxValue);
        var set = new YoloDataset([Path.Combine(root, "images")], classCount: 1, cacheImages: true);
        var bytes = File.ReadAllBytes(paths[2]);
        File.WriteAllBytes(paths[2], bytes[..(bytes.Length - 100)]);

        float[]? buffer = null;
        int failed = 0;
        foreach (int i in new[] { 0, 2, 1 })
        {
            try { set.CachedImage(i, ref buffer); }
            catch (InvalidDataException) { failed++; }
            Assert.False(set.DecodeBuffers.Released, $"the buffers were let go with image 3 not yet tried");
            Assert.Equal(0, set.DecodeBuffers.Rented);
        }
        Assert.Equal(1, failed);
        Assert.True(set.DecodeBuffers.IdleBytes > 0);
        set.CachedImage(3, ref buffer);
        Assert.True(set.DecodeBuffers.Released);
        Assert.Equal(0, set.DecodeBuffers.IdleBytes);
        Assert.Equal((0, 4, 1), (set.DecodeBuffers.Rented, set.DecodeBuffers.Returns, set.DecodeBuffers.Made));

        // a second epoch: the cached images are not decoded again; the failed one is, on a set of its own that is not
        // kept (counted once: trying it again does not count towards a release already done)
        Assert.Throws<InvalidDataException>(() => set.CachedImage(2, ref buffer));
        for (int i = 0; i < 4; i++) if (i != 2) set.CachedImage(i, ref buffer);
        Assert.Equal((0, 5, 2, 0L), (set.DecodeBuffers.Rented, set.DecodeBuffers.Returns, set.DecodeBuffers.Made, set.DecodeBuffers.IdleBytes));
    }

    [Fact]
    public void A_limited_run_that_reads_the_first_images_lets_the_decode_buffers_go_once_it_read_them()
    {
        // `detect train --limit 2` of four images: its pipeline reads a Subset of the first two, so the other two are
        // never tried and, before, the buffers stayed for the data set's life (a set per loader thread, each as large as
        // the largest file); now they go once the subset's images were read. The pipeline without mosaic over the same
        // subset (--close-mosaic) is told the same, and the images read are the data set's own.
        Directory.CreateDirectory(Path.Combine(root, "images"));
        for (int i = 0; i < 4; i++) NoisePng(Path.Combine(root, "images", $"noise{i}.png"), 64, 48, seed: 41 + i, idatChunk: int.MaxValue);
        var set = new YoloDataset([Path.Combine(root, "images")], classCount: 1, cacheImages: true);
        var limited = new DetectionDataset(new Subset<DetectionSample>(set, [0, 1]), imageSize: 64, augment: true, batchSize: 2);
        _ = limited.WithoutMosaic();
        var first = limited.CreateLoader(shuffle: true, numWorkers: 0, seed: 3).Iterate(0).ToList();
        Assert.Equal(2, first.Sum(b => (int)b.Images.Size(0)));
        Assert.True(set.DecodeBuffers.Released, "the buffers were kept after the limited run's images were all read");
        Assert.Equal((0, 0L, 1), (set.DecodeBuffers.Rented, set.DecodeBuffers.IdleBytes, set.DecodeBuffers.Made));
        // an image outside the subset is still read, on buffers that are not kept
        float[]? buffer = null;
        var outside = set.CachedImage(3, ref buffer)!.ToArray<float>();
        Assert.Equal(new YoloDataset([Path.Combine(root, "images")], classCount: 1)[3].Image.ToArray<float>(), outside);
        Assert.Equal((0, 0L), (set.DecodeBuffers.Rented, set.DecodeBuffers.IdleBytes));
    }

    [Fact]
    public void A_set_of_decode_buffers_given_back_twice_throws_after_the_release_too()
    {
        var buffers = new Ember.Data.DecodeBuffers();
        var set = buffers.Rent();
        buffers.Release();
        buffers.Return(set);
        Assert.Contains("returned twice", Assert.Throws<InvalidOperationException>(() => buffers.Return(set)).Message);
        Assert.Equal((0, 1, 0L), (buffers.Rented, buffers.Returns, buffers.IdleBytes));
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
