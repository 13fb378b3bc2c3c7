using System.Globalization;
using System.Text;
using Ember.Tuning;

namespace Ember.Cli.Commands;

/// <summary>
/// runs.csv of an `ember ablate` study folder: one row per finished run (variant, seed, its folder, every metric of
/// <see cref="StudyTrial.MetricNames"/> at full precision), in the study's run order. It is rewritten whole after each
/// run, so a stopped study keeps its finished runs and `ember ablate --resume` takes them back unchanged.
/// </summary>
public static class AblationRunsFile
{
    /// <summary>The file's name in the study folder.</summary>
    public const string FileName = "runs.csv";

    /// <summary>A finished run as the file records it: its folder (relative to the study folder) and its metrics.</summary>
    public sealed record Entry(string Variant, long Seed, string Folder, IReadOnlyDictionary<string, double> Metrics);

    static string Header => "variant,seed,run," + string.Join(",", StudyTrial.MetricNames);

    /// <summary>The file's text for <paramref name="runs"/>, whose folders are <paramref name="runFolders"/> (same order).</summary>
    public static string Format(IReadOnlyList<AblationRun> runs, IReadOnlyList<string> runFolders)
    {
        var sb = new StringBuilder(Header).Append('\n');
        for (int i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            sb.Append(r.Variant.Name).Append(',').Append(r.Seed.ToString(CultureInfo.InvariantCulture)).Append(',').Append(runFolders[i]);
            foreach (var m in StudyTrial.MetricNames) sb.Append(',').Append(r.Metrics[m].ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The runs recorded in <paramref name="path"/> (none when the file is not there), checked against the order in which
    /// the study runs them: <paramref name="variants"/>, each with every one of <paramref name="seeds"/>. A file that does
    /// not fit the study is an <see cref="InvalidDataException"/> naming the line.
    /// </summary>
    public static IReadOnlyList<Entry> Read(string path, IReadOnlyList<AblationVariant> variants, IReadOnlyList<long> seeds)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header)
            throw new InvalidDataException($"{path}: expected the header '{Header}', got '{(lines.Length == 0 ? "" : lines[0])}'");
        int total = variants.Count * seeds.Count;
        if (lines.Length - 1 > total)
            throw new InvalidDataException($"{path} records {lines.Length - 1} runs, but the study has {total}; it does not belong to this folder's study.yaml");
        var entries = new List<Entry>();
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            if (cells.Length != 3 + StudyTrial.MetricNames.Count)
                throw new InvalidDataException($"{path}:{i + 1}: expected {3 + StudyTrial.MetricNames.Count} values, got {cells.Length}");
            string variant = variants[(i - 1) / seeds.Count].Name;
            long seed = seeds[(i - 1) % seeds.Count];
            if (cells[0] != variant || cells[1] != seed.ToString(CultureInfo.InvariantCulture))
                throw new InvalidDataException($"{path}:{i + 1}: records {cells[0]} with seed {cells[1]}, but the study's run {i} is {variant} with seed {seed}; it does not belong to this folder's study.yaml");
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int m = 0; m < StudyTrial.MetricNames.Count; m++)
                metrics[StudyTrial.MetricNames[m]] = double.TryParse(cells[3 + m], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                    : throw new InvalidDataException($"{path}:{i + 1}: {StudyTrial.MetricNames[m]} expects a number, got '{cells[3 + m]}'");
            entries.Add(new Entry(variant, seed, cells[2], metrics));
        }
        return entries;
    }
}
