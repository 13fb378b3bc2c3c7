using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>
/// Every `ember …` command shown in README.md and docs/*.md (in code blocks, as `ember …` or `dotnet run --project
/// src/Ember.Cli -c Release -- …`) parses, and every file it names in the repository exists and loads; the commands on
/// an existing run (eval, predict, export) and profile run as written on a tiny run.
/// </summary>
public class DocumentedCommandTests
{
    static readonly string Repo = FindRepo();

    static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "docs"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (README.md beside docs/) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>(file:line, arguments after `ember`) of every documented command.</summary>
    internal static List<(string Where, string[] Args)> Commands()
    {
        var result = new List<(string, string[])>();
        var files = new[] { Path.Combine(Repo, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Repo, "docs"), "*.md"));
        foreach (var file in files)
        {
            bool inCode = false;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
                if (!inCode) continue;
                string? rest = line.StartsWith("ember ", StringComparison.Ordinal) ? line["ember ".Length..]
                    : line.StartsWith("dotnet run --project src/Ember.Cli -c Release -- ", StringComparison.Ordinal) ? line["dotnet run --project src/Ember.Cli -c Release -- ".Length..]
                    : null;
                if (rest is null) continue;
                rest = Regex.Replace(rest, @"\s+#.*$", "");
                if (rest.Contains('[') || rest.Contains('…') || rest.Contains("...")) continue; // a synopsis, not a command
                result.Add(($"{Path.GetRelativePath(Repo, file)}:{i + 1}", Regex.Matches(rest, "\"[^\"]*\"|\\S+").Select(m => m.Value.Trim('"')).ToArray()));
            }
        }
        return result;
    }

    [Fact]
    public void Every_documented_command_parses_and_its_files_exist_and_load()
    {
        var commands = Commands();
        Assert.True(commands.Count >= 15, $"only {commands.Count} documented commands found");
        var (root, _) = EmberCommand.Build();
        foreach (var (where, args) in commands)
        {
            var parse = root.Parse(args);
            Assert.True(parse.Errors.Count == 0, $"{where}: `ember {string.Join(' ', args)}`: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            for (int k = 0; k < args.Length; k++)
            {
                if (!Regex.IsMatch(args[k], @"\.(ya?ml|json)$") || args[k].StartsWith("runs/", StringComparison.Ordinal)) continue;
                var path = Path.Combine(Repo, args[k]);
                Assert.True(File.Exists(path), $"{where}: {args[k]} does not exist in the repository");
                var option = k > 0 ? args[k - 1] : "";
                if (option is "--config" or "-c") TrainCommand.Resolve(path, new Dictionary<string, string?>());
                else if (option == "--space") SearchSpaceFile.Load(path);
                else if (args[0] == "ablate") AblationStudy.Load(path);
            }
        }
    }

    [Fact]
    public void The_documented_commands_on_a_run_and_profile_run_as_written()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        int ran = 0;
        foreach (var (where, args) in Commands())
        {
            if (args[0] is not ("eval" or "predict" or "export" or "profile") || args.Contains("--image")) continue;
            var substituted = args.Select(a => Regex.IsMatch(a, @"^runs/train/exp\d+$") ? run : a).ToArray();
            var output = substituted;
            // an --output file goes into the run's temporary folder, not the current one
            for (int k = 0; k + 1 < output.Length; k++)
                if (output[k] == "--output") output[k + 1] = Path.Combine(run, Path.GetFileName(output[k + 1]));
            // each documented command starts from a fresh run: the README and docs export the same file, which export
            // refuses to replace without --force
            if (args[0] == "export")
                foreach (var earlier in Directory.GetFiles(run).Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) || f.EndsWith(".safetensors", StringComparison.Ordinal)))
                    File.Delete(earlier);
            var (code, _, stderr) = CliFailureTests.Invoke(output);
            Assert.True(code == 0, $"{where}: `ember {string.Join(' ', args)}` exited {code}: {stderr}");
            ran++;
        }
        Assert.True(ran >= 6, $"only {ran} commands ran");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
