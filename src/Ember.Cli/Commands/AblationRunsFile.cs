using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using Ember.Data;
using Ember.Tuning;

namespace Ember.Cli.Commands;

/// <summary>
/// runs.csv of an `ember ablate` study folder: one row per finished run (variant, seed, its folder, every metric of
/// <see cref="StudyTrial.MetricNames"/> at full precision), in the study's run order. It is rewritten whole after each
/// run, so a stopped study keeps its finished runs and `ember ablate --resume` takes them back unchanged. The file is
/// RFC 4180 CSV written and read through CsvHelper (as <see cref="CsvDataset"/> and <see cref="TimeSeriesCsv"/> read
/// theirs): a field holding a comma, a quote or a line break is quoted, so every name reads back as it was written.
/// </summary>
public static class AblationRunsFile
{
    /// <summary>The file's name in the study folder.</summary>
    public const string FileName = "runs.csv";

    /// <summary>A finished run as the file records it: its folder (relative to the study folder) and its metrics.</summary>
    public sealed record Entry(string Variant, long Seed, string Folder, IReadOnlyDictionary<string, double> Metrics);

    static string[] Columns => ["variant", "seed", "run", .. StudyTrial.MetricNames];

    /// <summary>The file's text for <paramref name="runs"/>, whose folders are <paramref name="runFolders"/> (same order).</summary>
    public static string Format(IReadOnlyList<AblationRun> runs, IReadOnlyList<string> runFolders)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            NewLine = "\n",
            // CsvHelper's default leaves a lone '\r' unquoted once NewLine is set; a reader would split the row there
            ShouldQuote = args => args.Field is { Length: > 0 } f && (f.AsSpan().IndexOfAny(",\"\r\n") >= 0 || char.IsWhiteSpace(f[0]) || char.IsWhiteSpace(f[^1])),
        };
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using (var csv = new CsvWriter(text, config, leaveOpen: true))
        {
            WriteRow(csv, Columns);
            for (int i = 0; i < runs.Count; i++)
            {
                var r = runs[i];
                WriteRow(csv, [r.Variant.Name, r.Seed.ToString(CultureInfo.InvariantCulture), runFolders[i],
                    .. StudyTrial.MetricNames.Select(m => r.Metrics[m].ToString("R", CultureInfo.InvariantCulture))]);
            }
        }
        return text.ToString();
    }

    static void WriteRow(CsvWriter csv, IEnumerable<string> fields)
    {
        foreach (var field in fields) csv.WriteField(field);
        csv.NextRecord();
    }

    /// <summary>
    /// The runs recorded in <paramref name="path"/> (none when the file is not there), checked against the order in which
    /// the study runs them: <paramref name="variants"/>, each with every one of <paramref name="seeds"/>. A file that does
    /// not fit the study, or is not CSV, is an <see cref="InvalidDataException"/> naming the line.
    /// </summary>
    public static IReadOnlyList<Entry> Read(string path, IReadOnlyList<AblationVariant> variants, IReadOnlyList<long> seeds)
    {
        if (!File.Exists(path)) return [];
        var records = Records(path);
        var header = string.Join(",", Columns);
        if (records.Count == 0 || !records[0].Fields.SequenceEqual(Columns))
            throw new InvalidDataException($"{path}: expected the header '{header}', got '{(records.Count == 0 ? "" : string.Join(",", records[0].Fields))}'");
        int total = variants.Count * seeds.Count;
        if (records.Count - 1 > total)
            throw new InvalidDataException($"{path} records {records.Count - 1} runs, but the study has {total}; it does not belong to this folder's study.yaml");
        var entries = new List<Entry>();
        for (int i = 1; i < records.Count; i++)
        {
            var (line, cells) = records[i];
            if (cells.Length != Columns.Length)
                throw new InvalidDataException($"{path}:{line}: expected {Columns.Length} values, got {cells.Length}");
            string variant = variants[(i - 1) / seeds.Count].Name;
            long seed = seeds[(i - 1) % seeds.Count];
            if (cells[0] != variant || cells[1] != seed.ToString(CultureInfo.InvariantCulture))
                throw new InvalidDataException($"{path}:{line}: records {cells[0]} with seed {cells[1]}, but the study's run {i} is {variant} with seed {seed}; it does not belong to this folder's study.yaml");
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int m = 0; m < StudyTrial.MetricNames.Count; m++)
                metrics[StudyTrial.MetricNames[m]] = double.TryParse(cells[3 + m], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                    : throw new InvalidDataException($"{path}:{line}: {StudyTrial.MetricNames[m]} expects a number, got '{cells[3 + m]}'");
            entries.Add(new Entry(variant, seed, cells[2], metrics));
        }
        return entries;
    }

    // Every record with the line it starts on (a quoted field may hold line breaks); a stray quote names its line.
    static List<(long Line, string[] Fields)> Records(string path)
    {
        long previousEnd = 0; // the last line of the previous record: a record starts on the next one
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = false, DetectDelimiter = false, IgnoreBlankLines = true,
            BadDataFound = args => throw new InvalidDataException(
                $"{path}:{previousEnd + 1}: malformed quoting (a quote inside a field must be doubled, and the field quoted); is it the runs.csv that ember ablate wrote?"),
        };
        var (stream, _) = UntrustedFile.OpenRead(path, FileName);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var parser = new CsvParser(reader, config);
        var records = new List<(long, string[])>();
        while (parser.Read())
        {
            records.Add((previousEnd + 1, parser.Record ?? []));
            previousEnd = parser.RawRow;
        }
        return records;
    }
}
