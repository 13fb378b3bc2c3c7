using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Interop;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// The disk filling up after a training command's last epoch, where its closing part (final test or validation,
/// results.png, summary.md) writes: a real tmpfs (Linux as root) filled to its last page where that part begins
/// (<see cref="TrainingMemory.AfterTraining"/>), so the kernel refuses its first file. One line, exit 5, that says the
/// training finished with last/ and best/ whole and that `--resume` writes what is missing once there is room (it said
/// "existing runs were not changed" and to write elsewhere, which starts a new run); the checkpoints are the
/// uninterrupted run's, file for file, no temporary is left, and after the filler is removed the resume writes
/// summary.md (and every other file) as the uninterrupted run has them, training nothing.
/// </summary>
public sealed class ClosingDiskFullTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("train", "the plots and summary.md")]
    [InlineData("detect", "the final validation of best/, its plots and summary.md")]
    [InlineData("forecast", "the test scores, forecast.png and summary.md")]
    public void A_disk_full_after_the_last_epoch_says_the_training_finished_and_resume_writes_what_is_missing(string command, string missing)
    {
        var temp = Directory.CreateTempSubdirectory("ember-closing-disk").FullName;
        var disk = Directory.CreateDirectory(Path.Combine(temp, "disk")).FullName;
        bool real = WriteFaultTests.MountTmpfs(disk, "160m", output);
        try
        {
            OutOfMemoryTests.MakeData(command, temp);
            var (code, stdout, stderr) = CliFailureTests.Invoke(OutOfMemoryTests.Train(command, temp, Path.Combine(temp, "whole")));
            Assert.True(code == 0, stderr + stdout);
            var whole = Path.Combine(temp, "whole", "exp1");

            // the disk fills up where the closing part begins: another program's file takes its last page
            var filler = Path.Combine(disk, "filler");
            bool full = false;
            TrainingMemory.AfterTraining.Value = () =>
            {
                if (real) Fill(filler);
                full = true;
            };
            // without root no tmpfs: every file written from then on fails as on a full disk
            if (!real) AtomicFile.FaultInjection.Value = (_, stream) => full ? new DetectFaultTests.FullDiskStream(stream, 0) : stream;
            try { (code, stdout, stderr) = CliFailureTests.Invoke(OutOfMemoryTests.Train(command, temp, Path.Combine(disk, "cut"))); }
            finally
            {
                TrainingMemory.AfterTraining.Value = null;
                AtomicFile.FaultInjection.Value = null;
            }
            var run = Path.Combine(disk, "cut", "exp1");
            string last = Path.Combine(run, "last"), best = Path.Combine(run, "best");
            var resume = $"{(command == "train" ? "ember train" : $"ember {command} train")} --resume {run}";
            output.WriteLine(stderr);
            Assert.True(code == ExitCodes.FileSystem, $"exit {code}: {stderr}{stdout}");
            var refused = real ? $"No space left on device : '{Regex.Escape(run)}/[^/']+'" : "No space left on device";
            var message = new Regex($"^ember: the disk is full \\({refused}\\); the training itself finished: {Regex.Escape(last)} and {Regex.Escape(best)} are whole " +
                $"\\(saved at the end of epoch 2, the last\\): free some space, then `{Regex.Escape(resume)}` writes {Regex.Escape(missing)} \\(it trains nothing\\)\n$");
            Assert.Matches(message, stderr);
            Assert.DoesNotContain("   at ", stderr + stdout);
            Assert.False(File.Exists(Path.Combine(run, "summary.md")));
            Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));
            Assert.Empty(Directory.GetDirectories(run, ".*"));
            Assert.Equal(OutOfMemoryTests.Hashes(Path.Combine(whole, "last")), OutOfMemoryTests.Hashes(last));
            Assert.Equal(OutOfMemoryTests.Hashes(Path.Combine(whole, "best")), OutOfMemoryTests.Hashes(best));
            var metrics = File.ReadAllText(Path.Combine(run, "metrics.csv"));

            // that command while the disk is still full says the same and changes nothing
            if (!real) AtomicFile.FaultInjection.Value = (_, stream) => new DetectFaultTests.FullDiskStream(stream, 0);
            try { (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]); }
            finally { AtomicFile.FaultInjection.Value = null; }
            Assert.True(code == ExitCodes.FileSystem, $"resume on the full disk: exit {code}: {stderr}{stdout}");
            Assert.Matches(message, stderr);
            Assert.False(File.Exists(Path.Combine(run, "summary.md")));
            Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));
            Assert.Equal(metrics, File.ReadAllText(Path.Combine(run, "metrics.csv")));

            // the user frees the space; the command the message names writes what is missing and trains nothing
            if (real) File.Delete(filler);
            (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"{run} finished its 2 epochs without its", stdout);
            Assert.DoesNotContain("epoch 3/", stdout);
            Assert.Equal(metrics, File.ReadAllText(Path.Combine(run, "metrics.csv")));
            Assert.Equal(OutOfMemoryTests.Hashes(Path.Combine(whole, "last")), OutOfMemoryTests.Hashes(last));
            Assert.Equal(OutOfMemoryTests.Hashes(Path.Combine(whole, "best")), OutOfMemoryTests.Hashes(best));
            Assert.Equal(OutOfMemoryTests.SummaryWithoutTimes(whole), OutOfMemoryTests.SummaryWithoutTimes(run));
            Assert.Equal(OutOfMemoryTests.MetricsWithoutTimes(whole), OutOfMemoryTests.MetricsWithoutTimes(run));
            foreach (var file in Directory.EnumerateFiles(whole).Select(Path.GetFileName)) Assert.True(File.Exists(Path.Combine(run, file!)), file);
            Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            if (real) WriteFaultTests.Tool("umount", "-l", disk);
            Directory.Delete(temp, true);
        }
    }

    /// <summary>Writes <paramref name="path"/> until the file system has no page left (ENOSPC at every size down to one byte).</summary>
    internal static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)0x5a);
        for (int size = chunk.Length; size > 0; size /= 2)
        {
            try { while (true) file.Write(chunk, 0, size); }
            catch (IOException e) when (CliErrors.IsDiskFull(e)) { file.Position = file.Length; } // after what a partial write left
        }
    }
}
