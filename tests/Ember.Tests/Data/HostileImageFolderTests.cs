using Ember.Data;
using Ember.Tests.Interop;
using StbImageWriteSharp;

namespace Ember.Tests.Data;

/// <summary>Image folders with empty, misnamed or damaged content: errors name the folder or file and the problem.</summary>
public class HostileImageFolderTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-hostile-folder-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    void Png(params string[] parts)
    {
        var path = Path.Combine([root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var f = File.Create(path);
        new ImageWriter().WritePng(new byte[2 * 2 * 3], 2, 2, ColorComponents.RedGreenBlue, f);
    }

    void Folder(params string[] parts) => Directory.CreateDirectory(Path.Combine([root, .. parts]));
    void Text(params string[] parts) { Folder(parts[..^1]); File.WriteAllText(Path.Combine([root, .. parts]), "x"); }

    [Fact]
    public void An_empty_class_folder_is_an_error_naming_it_not_a_class()
    {
        Png("cat", "a.png");
        Folder("dog");
        var e = HostileFile.Refused<InvalidDataException>(() => new ImageFolder(root), root, "class folder 'dog'");
        Assert.Contains("holds no image files", e.Message);
    }

    [Fact]
    public void A_class_folder_holding_only_other_files_is_empty()
    {
        Png("cat", "a.png");
        Text("dog", "readme.txt");
        Text("dog", "labels.csv");
        HostileFile.Refused<InvalidDataException>(() => new ImageFolder(root), root, "class folder 'dog'");
    }

    [Fact]
    public void Every_empty_class_is_named_in_one_error()
    {
        Png("b", "x.png");
        Folder("a");
        Folder("c", "nested");
        var e = HostileFile.Refused<InvalidDataException>(() => new ImageFolder(root), root, "class folders 'a', 'c'");
        Assert.Contains("hold no image files", e.Message);
    }

    [Fact]
    public void Images_in_nested_folders_count_for_their_class()
    {
        Png("cat", "a.png");
        Png("dog", "deep", "er", "b.png");
        var ds = new ImageFolder(root);
        Assert.Equal(["cat", "dog"], ds.ClassNames);
        Assert.Equal(2, ds.Count);
        Assert.Equal(1, ds.Samples[1].Label);
    }

    [Fact]
    public void Only_empty_class_folders_or_none_are_errors()
    {
        HostileFile.Refused<InvalidDataException>(() => new ImageFolder(root), root, "has no class sub-folders");
        Folder("a"); Folder("b");
        HostileFile.Refused<InvalidDataException>(() => new ImageFolder(root), root, "no image files");
        HostileFile.Refused<DirectoryNotFoundException>(() => new ImageFolder(Path.Combine(root, "missing")), "missing", "does not exist");
        Text("file-not-folder");
        HostileFile.Refused<DirectoryNotFoundException>(() => new ImageFolder(Path.Combine(root, "file-not-folder")), "file-not-folder", "does not exist");
    }

    [Fact]
    public void A_damaged_image_names_the_file_when_read()
    {
        Png("cat", "a.png");
        var bad = Path.Combine(root, "cat", "b.png");
        var bytes = File.ReadAllBytes(Path.Combine(root, "cat", "a.png"));
        bytes[20] ^= 0xFF; // inside IHDR: the CRC no longer matches
        File.WriteAllBytes(bad, bytes);
        var ds = new ImageFolder(root);
        HostileFile.Refused<InvalidDataException>(() => _ = ds[1], "b.png", "bad CRC");
    }

    [Fact]
    public void The_folder_pixel_limit_applies_to_its_items()
    {
        Png("cat", "a.png");
        var ds = new ImageFolder(root, maxPixels: 3);
        Assert.Equal(3, ds.MaxPixels);
        HostileFile.Refused<InvalidDataException>(() => _ = ds[0], "a.png", "4 pixels, above the limit of 3");
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageFolder(root, maxPixels: 0));
    }

    [LinuxFact]
    public void A_fifo_named_like_an_image_is_refused_when_read()
    {
        Png("cat", "a.png");
        Assert.True(HostileFile.MakeFifo(Path.Combine(root, "cat", "b.png")));
        var ds = new ImageFolder(root);
        HostileFile.Refused<InvalidDataException>(() => _ = ds[1], "b.png", "a FIFO (named pipe)", timeoutMs: 5000);
    }

    [Fact]
    public void Symlinked_folders_are_followed_once_so_a_loop_lists_each_image_once()
    {
        Png("cat", "a.png");
        Png("shared", "s.png");
        // two links back to the root and one to a shared folder: following them blindly lists files 2^40 times
        Directory.CreateSymbolicLink(Path.Combine(root, "cat", "up1"), root);
        Directory.CreateSymbolicLink(Path.Combine(root, "cat", "up2"), root);
        Directory.CreateSymbolicLink(Path.Combine(root, "cat", "more"), Path.Combine(root, "shared"));
        var (error, _, elapsed) = HostileFile.Run(() =>
        {
            var ds = new ImageFolder(Path.Combine(root));
            Assert.Equal(["cat", "shared"], ds.ClassNames);
            // cat: a.png, then shared/s.png reached through the link (the root is entered once, through cat's links)
            Assert.Equal(2, ds.Samples.Count(s => s.Label == 0));
            Assert.Single(ds.Samples, s => s.Label == 1);
        }, timeoutMs: 10_000);
        Assert.Null(error);
        Assert.True(elapsed < TimeSpan.FromSeconds(10));
    }
}
