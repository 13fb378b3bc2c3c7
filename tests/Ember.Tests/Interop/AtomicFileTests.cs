using Ember.Interop;

namespace Ember.Tests.Interop;

public class AtomicFileTests
{
    [LinuxFact]
    public void A_device_target_is_written_in_place_never_replaced()
    {
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

    [LinuxFact]
    public async Task A_fifo_target_gets_the_bytes_and_stays_a_fifo()
    {
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

    /// <summary>A PID that no running process has: that of a child which has exited (checked, in case it was taken again).</summary>
    internal static int DeadPid()
    {
        var info = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", "--version")
            { RedirectStandardOutput = true, UseShellExecute = false };
        using var child = System.Diagnostics.Process.Start(info)!;
        child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(child.Id));
        return child.Id;
    }

    /// <summary>Writes <paramref name="name"/>'s temporary as process <paramref name="pid"/> names it, in <paramref name="folder"/>.</summary>
    internal static string Temporary(string folder, string name, int pid)
    {
        var path = Path.Combine(Directory.CreateDirectory(folder).FullName, AtomicFile.TemporaryName(name, pid));
        File.WriteAllText(path, "half a fil");
        return path;
    }

    [Fact]
    public void Stale_temporaries_are_removed_and_those_of_a_running_writer_kept()
    {
        var folder = Directory.CreateTempSubdirectory("ember-atomic-").FullName;
        var outside = Directory.CreateTempSubdirectory("ember-atomic-outside-").FullName;
        try
        {
            int dead = DeadPid(), self = Environment.ProcessId;
            // what kill -9 leaves: the temporaries of a process that no longer runs, at the top and in a subfolder
            var stale = new List<string> { Temporary(folder, "metrics.csv", dead), Temporary(Path.Combine(folder, "trials", "g0", "exp1"), "best.yaml", dead) };
            // this process's PID on a file written before it started: a killed run's, its PID used again (a container's PID 1)
            var reused = Temporary(folder, "args.yaml", self);
            File.SetLastWriteTimeUtc(reused, System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime() - TimeSpan.FromHours(1));
            stale.Add(reused);
            // kept: a temporary this process is writing now, files of other names, and what a link leads to outside the folder
            var kept = new List<string> { Temporary(folder, "evolve.csv", self), Temporary(Path.Combine(folder, "last"), "model.safetensors", self) };
            foreach (var name in new[] { "notes.tmp", $".x.{dead}.short.tmp", $"x.{dead}.{Guid.NewGuid():N}.tmp", "metrics.csv" })
            {
                kept.Add(Path.Combine(folder, name));
                File.WriteAllText(kept[^1], "user's");
            }
            kept.Add(Temporary(outside, "metrics.csv", dead));
            if (!OperatingSystem.IsWindows()) File.CreateSymbolicLink(Path.Combine(folder, "link"), outside);

            var removed = AtomicFile.RemoveStaleTemporaries(folder);

            Assert.Equal(stale.Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
            Assert.All(stale, path => Assert.False(File.Exists(path), path));
            Assert.All(kept, path => Assert.True(File.Exists(path), path));
            Assert.Empty(AtomicFile.RemoveStaleTemporaries(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }
}
