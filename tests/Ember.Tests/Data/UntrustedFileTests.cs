using Ember.Data;
using Ember.Tests.Interop;

namespace Ember.Tests.Data;

public class UntrustedFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-untrusted-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void A_symlink_to_a_regular_file_reads_the_target_whole()
    {
        var target = Path.Combine(dir, "target.bin");
        var data = new byte[100_000];
        new Random(3).NextBytes(data);
        File.WriteAllBytes(target, data);
        var link = Path.Combine(dir, "l");
        File.CreateSymbolicLink(link, target); // the link itself is a few bytes long: its size must not be used
        Assert.Equal(data, UntrustedFile.ReadAllBytes(link, "test"));
    }

    [Fact]
    public void A_file_above_the_callers_limit_is_refused_before_reading()
    {
        var path = Path.Combine(dir, "big.bin");
        File.WriteAllBytes(path, new byte[4096]);
        HostileFile.Refused<InvalidDataException>(() => UntrustedFile.ReadAllBytes(path, "test", maxBytes: 1000), "big.bin", "4096 bytes, above the 1000-byte limit", maxAllocated: 1 << 20);
    }

    [Fact]
    public void An_empty_regular_file_is_a_file()
    {
        var path = Path.Combine(dir, "empty.bin");
        File.WriteAllBytes(path, []);
        if (OperatingSystem.IsLinux()) Assert.Empty(UntrustedFile.ReadAllBytes(path, "test"));
    }

    // The file passes the path checks and is then swapped (the hook runs between the check and the open): the opened
    // handle must be checked, or a FIFO would block the open forever and /dev/zero would be read as an empty file.
    public static TheoryData<string, string> Swaps => new()
    {
        { "fifo", "is a FIFO (named pipe), not a regular file" },
        { "dev-zero", "is a character device, not a regular file" },
        { "folder", "is a folder, not a regular file" },
    };

    static void Swap(string path, string swap)
    {
        File.Delete(path);
        switch (swap)
        {
            case "fifo": Assert.True(HostileFile.MakeFifo(path)); break;
            case "dev-zero": File.CreateSymbolicLink(path, "/dev/zero"); break;
            default: Directory.CreateDirectory(path); break;
        }
    }

    [LinuxTheory]
    [MemberData(nameof(Swaps))]
    public void A_file_swapped_between_the_check_and_the_open_is_refused_by_its_handle(string swap, string problem)
    {
        var path = Path.Combine(dir, $"swapped-{swap}.bin");
        File.WriteAllBytes(path, new byte[64]);
        int swaps = 0;
        UntrustedFile.BetweenCheckAndOpen.Value = p => { Swap(p, swap); swaps++; };
        try { HostileFile.Refused<InvalidDataException>(() => UntrustedFile.ReadAllBytes(path, "test"), Path.GetFileName(path), problem, timeoutMs: 5_000); }
        finally { UntrustedFile.BetweenCheckAndOpen.Value = null; }
        Assert.Equal(1, swaps); // the path check passed on the regular file; the handle check refused the swapped one
    }

    [LinuxFact]
    public void The_handle_check_follows_links_only_when_asked()
    {
        var target = Path.Combine(dir, "target.bin");
        File.WriteAllBytes(target, [1, 2, 3]);
        var link = Path.Combine(dir, "link.bin");
        File.CreateSymbolicLink(link, target);
        var (stream, length, problem) = UntrustedFile.TryOpenRegular(link, followLinks: true);
        using (stream) Assert.Equal((3L, (string?)null), (length, problem));
        (stream, _, problem) = UntrustedFile.TryOpenRegular(link, followLinks: false);
        Assert.Null(stream);
        Assert.Equal($"is a symbolic link (to {target}); only regular files are read", problem);
        Assert.Throws<FileNotFoundException>(() => UntrustedFile.TryOpenRegular(Path.Combine(dir, "absent"), followLinks: true));
    }
}
