using System.Buffers.Binary;
using System.IO.Compression;
using Ember.Data;
using Ember.Tests.Interop;

namespace Ember.Tests.Data;

/// <summary>
/// Damaged and hostile IDX files, raw and gzip, generated here: refused with the file and the problem named, without
/// trusting declared sizes (dims that overflow, gzip streams that inflate past the header) or blocking on special files.
/// </summary>
public class HostileIdxTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-hostile-idx-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static byte[] Idx(int magic, int[] dims, int dataBytes)
    {
        var bytes = new byte[4 + 4 * dims.Length + dataBytes];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        return bytes;
    }

    static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.SmallestSize)) gz.Write(raw);
        return output.ToArray();
    }

    const int U8x3 = 0x803, U8x1 = 0x801;

    /// <summary>Case name → (raw IDX bytes, the problem the message must state); each is tried raw and gzip-compressed.</summary>
    static readonly Dictionary<string, (Func<byte[]> Bytes, string Problem)> Cases = new()
    {
        ["empty"] = (() => [], "truncated: expected a 4-byte magic number"),
        ["three-bytes"] = (() => [0, 0, 8], "truncated: expected a 4-byte magic number"),
        ["magic-high-bytes"] = (() => Idx(0x12340803, [1], 1), "bad magic number 0x12340803"),
        ["magic-unknown-type"] = (() => Idx(0x0A01, [1], 1), "bad magic number 0x00000A01"),
        ["magic-type-zero"] = (() => Idx(0x0001, [1], 1), "bad magic number 0x00000001"),
        ["header-truncated"] = (() => Idx(U8x3, [2, 2, 2], 8)[..9], "truncated header: expected 3 dims"),
        ["header-255-dims-truncated"] = (() => Idx(0x08FF, [1, 1], 0), "truncated header: expected 255 dims"),
        ["dim-negative"] = (() => Idx(U8x3, [2, -1, 2], 0), "dim 1 is negative (-1)"),
        ["dim-int-min"] = (() => Idx(U8x1, [int.MinValue], 0), "dim 0 is negative"),
        ["dims-wrap-to-zero"] = (() => Idx(0x0804, [65536, 65536, 65536, 65536], 0), "multiply past the largest possible size"),
        ["dims-overflow-8d"] = (() => Idx(0x0808, [int.MaxValue, int.MaxValue, int.MaxValue, 2, 2, 2, 2, 2], 0), "multiply past the largest possible size"),
        ["dims-bytes-overflow"] = (() => Idx(0x0E03, [int.MaxValue, int.MaxValue, 2], 0), "need more bytes than a 64-bit size can hold"),
        ["data-truncated"] = (() => Idx(U8x3, [10, 2, 2], 30), "truncated data: expected 10 items"),
        ["data-missing"] = (() => Idx(U8x3, [3, 28, 28], 0), "truncated data: expected 3 items"),
        ["data-huge-declared"] = (() => Idx(U8x3, [60000, 28000, 28000], 100), "47040000000000 bytes"),
        ["int32-data-truncated"] = (() => Idx(0x0C01, [4], 15), "truncated data: expected 4 items"),
        ["float64-data-truncated"] = (() => Idx(0x0E02, [2, 2], 31), "truncated data: expected 2 items"),
    };

    public static TheoryData<string, bool> CaseNames()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Cases.Keys) { data.Add(name, false); data.Add(name, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Damaged_file_is_refused_with_the_file_and_the_problem(string name, bool gzip)
    {
        var (bytes, problem) = Cases[name];
        var path = Path.Combine(dir, $"{name}{(gzip ? ".gz" : ".idx")}");
        File.WriteAllBytes(path, gzip ? Gzip(bytes()) : bytes());
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(path), Path.GetFileName(path), problem);
    }

    [Fact]
    public void Offsets_in_gzip_errors_are_in_the_decompressed_stream()
    {
        var path = Path.Combine(dir, "short.gz");
        File.WriteAllBytes(path, Gzip(Idx(U8x3, [10, 2, 2], 30)));
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(path), "short.gz", "decompressed byte offset 46");
    }

    [Fact]
    public void A_gzip_bomb_is_not_inflated_past_its_header()
    {
        // the header declares 10 bytes; the stream holds 200 MB of zeros (about 200 KB compressed)
        var path = Path.Combine(dir, "bomb.gz");
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.SmallestSize))
        {
            gz.Write(Idx(U8x1, [10], 10));
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 200; i++) gz.Write(zeros);
        }
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(path), "bomb.gz", "inflates to more than the 18 bytes its header declares", maxAllocated: 2 << 20);
    }

    [Fact]
    public void A_gzip_header_declaring_more_than_deflate_can_hold_is_refused_before_inflating()
    {
        // 3.9 GB declared, a few hundred bytes of gzip: impossible (deflate expands at most ~1032:1), so nothing is allocated
        var path = Path.Combine(dir, "liar.gz");
        File.WriteAllBytes(path, Gzip(Idx(U8x3, [5000, 28000, 28000], 1000)));
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(path), "liar.gz", "cannot inflate to more than", maxAllocated: 1 << 20);
    }

    [Fact]
    public void A_little_trailing_padding_after_the_data_is_still_accepted()
    {
        var raw = Idx(U8x1, [3], 3);
        raw[^1] = 7;
        var padded = raw.Concat(new byte[100]).ToArray();
        var path = Path.Combine(dir, "padded.gz");
        File.WriteAllBytes(path, Gzip(padded));
        var idx = IdxFile.Read(path);
        Assert.Equal([3], idx.Dims);
        Assert.Equal(7, idx.Element(2));
        File.WriteAllBytes(Path.Combine(dir, "padded.idx"), padded);
        Assert.Equal(7, IdxFile.Read(Path.Combine(dir, "padded.idx")).Element(2));
    }

    [Fact]
    public void A_corrupt_or_cut_gzip_stream_is_refused()
    {
        var good = Gzip(Idx(U8x3, [50, 28, 28], 50 * 28 * 28));
        var corrupt = (byte[])good.Clone();
        for (int i = 20; i < 40; i++) corrupt[i] ^= 0x5A;
        var path = Path.Combine(dir, "corrupt.gz");
        File.WriteAllBytes(path, corrupt);
        var error = HostileFile.Run(() => IdxFile.Read(path)).Error;
        Assert.IsType<InvalidDataException>(error);
        Assert.Contains("corrupt.gz", error!.Message);
        var cut = Path.Combine(dir, "cut.gz");
        File.WriteAllBytes(cut, good[..(good.Length / 2)]);
        error = HostileFile.Run(() => IdxFile.Read(cut)).Error;
        Assert.IsType<InvalidDataException>(error);
        Assert.Contains("cut.gz", error!.Message);
    }

    [Fact]
    public void Special_files_are_refused_at_once()
    {
        var folder = Path.Combine(dir, "folder-idx3-ubyte");
        Directory.CreateDirectory(folder);
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(folder), "folder-idx3-ubyte", "is a folder, not a file");
        HostileFile.Refused<FileNotFoundException>(() => IdxFile.Read(Path.Combine(dir, "missing-idx1-ubyte")), "missing-idx1-ubyte", "file not found");
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(dir, "pipe-idx3-ubyte");
        Assert.True(HostileFile.MakeFifo(fifo));
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(fifo), "pipe-idx3-ubyte", "a FIFO (named pipe)", timeoutMs: 5000);
        var zero = Path.Combine(dir, "zero-idx3-ubyte");
        File.CreateSymbolicLink(zero, "/dev/zero");
        HostileFile.Refused<InvalidDataException>(() => IdxFile.Read(zero), "zero-idx3-ubyte", "a character device", timeoutMs: 5000);
    }
}
