using Ember.Interop;

namespace Ember.Tests.Interop;

public class AtomicFileTests
{
    [Fact]
    public void A_device_target_is_written_in_place_never_replaced()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/dev/null") || !File.Exists("/dev/full")) return;
        // /dev/null takes the bytes; /dev/full refuses them with the disk-full error, and both stay devices (before the
        // fix, a process allowed to write in /dev, such as root in CI, renamed its temporary file over the device).
        AtomicFile.WriteAllText("/dev/null", "discarded");
        var full = Assert.ThrowsAny<IOException>(() => AtomicFile.Write("/dev/full", s => s.Write(new byte[1 << 17])));
        Assert.Contains("No space left", full.Message);
        foreach (var device in new[] { "/dev/null", "/dev/full" })
        {
            Assert.True(Ember.Data.UntrustedFile.IsSpecial(device), $"{device} is no longer a device");
            Assert.Empty(Directory.GetFiles("/dev", $".{Path.GetFileName(device)}.*.tmp"));
        }
    }

    [Fact]
    public async Task A_fifo_target_gets_the_bytes_and_stays_a_fifo()
    {
        if (!OperatingSystem.IsLinux()) return;
        var folder = Directory.CreateTempSubdirectory("ember-atomic-").FullName;
        try
        {
            var fifo = Path.Combine(folder, "pipe");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo)!) mkfifo.WaitForExit();
            Assert.True(Ember.Data.UntrustedFile.IsSpecial(fifo), "mkfifo made no FIFO");
            var reader = Task.Run(() => File.ReadAllText(fifo));
            AtomicFile.WriteAllText(fifo, "through the pipe");
            // Before the fix the FIFO was replaced by a file and the reader waited forever for a writer.
            Assert.Same(reader, await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(30))));
            Assert.Equal("through the pipe", await reader);
            Assert.True(Ember.Data.UntrustedFile.IsSpecial(fifo), "the FIFO was replaced by a file");
            Assert.Equal(["pipe"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
