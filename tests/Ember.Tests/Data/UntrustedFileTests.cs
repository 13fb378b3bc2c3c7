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
}
