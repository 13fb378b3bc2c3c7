using Ember.Analysis;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Detection.Data;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect make-data` estimates the bytes a set will take and refuses, before writing anything, a set larger than
/// the free space where it goes (exit 5, naming the options and both numbers). The free space comes through a seam
/// (<see cref="MakeDataCommand.FreeBytes"/>), so no disk has to be filled; <see cref="WriteFaultTests"/> fills a real one.
/// </summary>
public class MakeDataRoomTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-make-data-room").FullName;

    public void Dispose()
    {
        MakeDataCommand.FreeBytes.Value = null;
        Directory.Delete(root, true);
    }

    static string[] Args(string output, int train, params string[] more)
        => ["detect", "make-data", "--output", output, "--train-images", train.ToString(System.Globalization.CultureInfo.InvariantCulture), "--val-images", "2",
            "--min-side", "112", "--max-side", "144", .. more];

    static SyntheticDetectionOptions Options(int train) => new() { TrainImages = train, ValImages = 2, MinSide = 112, MaxSide = 144 };

    [Theory]
    [InlineData(1_000_000_000, 1L << 30)] // a billion images, 1 GiB free
    [InlineData(int.MaxValue, 100L << 40)] // as many as the option takes, 100 TiB free
    [InlineData(5, 10_000)]
    public void A_set_larger_than_the_free_space_is_refused_before_anything_is_written(int train, long free)
    {
        var output = Path.Combine(root, "sets", "fashion");
        MakeDataCommand.FreeBytes.Value = _ => free;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, stdout, stderr) = CliFailureTests.Invoke(Args(output, train));
        Assert.True(code == ExitCodes.FileSystem, $"exit {code}: {stderr}{stdout}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed} to refuse");
        double needed = FashionMnistDetectionSet.EstimatedBytes(Options(train));
        Assert.True(needed > free);
        Assert.Equal($"ember: --train-images {train} and --val-images 2 of 112–144 px need about {Units.FormatBytes(needed, 1)}, more than the " +
                     $"{Units.FormatBytes(free, 1)} free in {root}, where {output} would be made; nothing was written: ask for fewer images, free some space, or write elsewhere with --output\n",
                     stderr.ReplaceLineEndings("\n"));
        Assert.False(Directory.Exists(Path.Combine(root, "sets")), "a folder was made for a set that cannot fit");
    }

    [Fact]
    public void A_set_that_fits_exactly_is_written_and_one_byte_less_is_refused()
    {
        long needed = (long)Math.Ceiling(FashionMnistDetectionSet.EstimatedBytes(Options(3)));
        var output = Path.Combine(root, "set");
        MakeDataCommand.FreeBytes.Value = _ => needed - 1;
        Assert.Equal(ExitCodes.FileSystem, CliFailureTests.Invoke(Args(output, 3)).Code);
        Assert.False(Directory.Exists(output));
        MakeDataCommand.FreeBytes.Value = _ => needed;
        var (code, _, stderr) = CliFailureTests.Invoke(Args(output, 3));
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(output, "data.yaml")));
    }

    [Fact]
    public void Force_counts_the_room_of_the_earlier_set_it_clears()
    {
        var output = Path.Combine(root, "set");
        Assert.Equal(0, CliFailureTests.Invoke(Args(output, 3)).Code);
        var before = CliFailureTests.Snapshot(output);
        long earlier = new DirectoryInfo(Path.Combine(output, "images")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
                       + new DirectoryInfo(Path.Combine(output, "labels")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        long needed = (long)Math.Ceiling(FashionMnistDetectionSet.EstimatedBytes(Options(4)));
        // a disk the earlier set filled: only with the earlier set's room does the new one fit
        MakeDataCommand.FreeBytes.Value = _ => needed - earlier - 1;
        var (code, _, stderr) = CliFailureTests.Invoke(Args(output, 4, "--force"));
        Assert.True(code == ExitCodes.FileSystem, stderr);
        Assert.Contains($"(besides the {Units.FormatBytes(earlier, 1)} of the earlier set that --force clears)", stderr);
        Assert.Equal(before, CliFailureTests.Snapshot(output)); // refused before the earlier set was touched
        MakeDataCommand.FreeBytes.Value = _ => needed - earlier;
        (code, _, stderr) = CliFailureTests.Invoke(Args(output, 4, "--force"));
        Assert.True(code == 0, stderr);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(output, "images", "train")).Length);
    }

    [Fact]
    public void The_estimate_errs_high_but_within_twice_and_a_half_of_the_bytes_on_disk()
    {
        // the default options (160–320 px, noise 0.02) at 40 images: what the files take, each rounded up to 4 KiB blocks
        var output = Path.Combine(root, "set");
        var options = new SyntheticDetectionOptions { TrainImages = 32, ValImages = 8 };
        FashionMnistDetectionSet.Write(output, options);
        double onDisk = Directory.EnumerateFiles(Path.Combine(output, "images"), "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(output, "labels"), "*", SearchOption.AllDirectories))
            .Sum(f => Math.Ceiling(new FileInfo(f).Length / 4096.0) * 4096);
        double estimate = FashionMnistDetectionSet.EstimatedBytes(options);
        Assert.InRange(estimate / onDisk, 1.0, 2.5);
    }

    [Fact]
    public void Without_the_seam_the_free_space_of_the_nearest_existing_folder_is_read()
    {
        // int.MaxValue images need hundreds of TiB: more than any disk the tests run on has free
        var output = Path.Combine(root, "a", "b", "set");
        var (code, _, stderr) = CliFailureTests.Invoke(Args(output, int.MaxValue));
        Assert.True(code == ExitCodes.FileSystem, stderr);
        Assert.Contains($" free in {root}, where {output} would be made; nothing was written", stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "a")));
    }
}
