using System.Text.RegularExpressions;

namespace Ember.Tests.Docs;

/// <summary>The docs stand alone: every relative link in README.md and docs/*.md resolves inside the repository.</summary>
public sealed partial class DocsLinkTests
{
    [GeneratedRegex(@"\]\(([^)\s#]+)(#[^)]*)?\)")]
    private static partial Regex MarkdownLink();

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ember.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Ember.slnx above {AppContext.BaseDirectory}");
    }

    public static TheoryData<string> MarkdownFiles()
    {
        string root = RepositoryRoot();
        var files = new TheoryData<string> { "README.md" };
        foreach (var path in Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            files.Add(Path.GetRelativePath(root, path));
        return files;
    }

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void EveryRelativeLinkResolvesInsideTheRepository(string file)
    {
        string root = RepositoryRoot();
        string path = Path.Combine(root, file);
        string folder = Path.GetDirectoryName(path)!;
        var broken = new List<string>();
        foreach (Match m in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            string target = m.Groups[1].Value;
            if (target.Contains("://") || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
            string resolved = Path.GetFullPath(Path.Combine(folder, Uri.UnescapeDataString(target)));
            if (!resolved.StartsWith(root, StringComparison.Ordinal)) broken.Add($"{target} (outside the repository)");
            else if (!File.Exists(resolved) && !Directory.Exists(resolved)) broken.Add($"{target} (missing)");
            else if (IgnoredByGit(root, resolved)) broken.Add($"{target} (ignored by .gitignore, so missing from a clone)");
        }
        Assert.True(broken.Count == 0, $"{file}: {string.Join(", ", broken)}");
    }

    // A linked file that exists here but is git-ignored passes locally and breaks on a clean clone (CI); ask git.
    private static bool IgnoredByGit(string root, string path)
    {
        if (!Directory.Exists(Path.Combine(root, ".git")) && !File.Exists(Path.Combine(root, ".git"))) return false;
        var start = new System.Diagnostics.ProcessStartInfo("git", ["-C", root, "check-ignore", "-q", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using var git = System.Diagnostics.Process.Start(start)!;
            git.WaitForExit();
            return git.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; } // no git on this machine
    }

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void CitesNoFileOutsideTheRepository(string file)
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), file));
        Assert.DoesNotContain("../shared/", text);
        Assert.DoesNotContain("DESIGN.md", text);
    }
}
