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
        }
        Assert.True(broken.Count == 0, $"{file}: {string.Join(", ", broken)}");
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
