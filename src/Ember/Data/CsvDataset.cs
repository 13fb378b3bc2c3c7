using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ember.Data;

/// <summary>
/// A tabular data set read from a CSV file: every column but the label column is a numeric feature. Items are
/// (features float32 [D], target): for classification an int64 scalar (integer labels as they are, other label text
/// mapped to 0, 1, … in sorted order, see <see cref="ClassNames"/>); for regression a float32 scalar.
/// </summary>
public sealed class CsvDataset : IDataset<(Tensor Features, Tensor Target)>
{
    readonly float[] features;
    readonly long[] classLabels;
    readonly float[] regressionTargets;

    /// <summary>The largest class count integer labels may imply (a label is a class index, not an identifier).</summary>
    public const int MaxClasses = 1_000_000;

    /// <summary>Reads <paramref name="path"/> (RFC 4180 via CsvHelper: quoted fields with separators, quotes and line
    /// breaks inside, CRLF or LF line ends, a UTF-8 byte-order mark).</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="labelColumn">The label column's index (−1: the last) when <paramref name="labelName"/> is null.</param>
    /// <param name="labelName">The label column's header name (needs a header).</param>
    /// <param name="hasHeader">Whether the first line names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <param name="regression">Parse the label as a number and return it as a float32 target.</param>
    /// <exception cref="InvalidDataException">A malformed row, a non-numeric feature, or labels that are neither all
    /// integer class indices nor all names; the message names the file and line.</exception>
    public CsvDataset(string path, int labelColumn = -1, string? labelName = null, bool hasHeader = true, char separator = ',', bool regression = false)
    {
        Path = path;
        if (Directory.Exists(path)) throw new InvalidDataException($"CsvDataset: '{path}' is a folder, not a CSV file");
        if (!File.Exists(path)) throw new FileNotFoundException($"CsvDataset: file '{path}' does not exist", path);
        var rows = ReadRows(path, separator);
        if (rows.Count == 0) throw new InvalidDataException($"CsvDataset: '{path}' is empty");
        int first = 0;
        string[]? header = hasHeader ? rows[first++].Fields : null;
        if (first >= rows.Count && header is null) throw new InvalidDataException($"CsvDataset: '{path}' is empty");
        int width = header?.Length ?? rows[first].Fields.Length;
        if (labelName != null)
        {
            if (header == null) throw new ArgumentException($"CsvDataset: label column '{labelName}' given by name but '{path}' is read without a header");
            labelColumn = Array.FindIndex(header, h => h.Trim() == labelName);
            if (labelColumn < 0) throw new ArgumentException($"CsvDataset: '{path}' has no column named '{labelName}'; columns are {string.Join(", ", header)}");
        }
        if (labelColumn < 0) labelColumn += width;
        if (labelColumn < 0 || labelColumn >= width) throw new ArgumentException($"CsvDataset: label column {labelColumn} is outside the {width} columns of '{path}'");
        LabelColumn = labelColumn;
        FeatureNames = Enumerable.Range(0, width).Where(c => c != labelColumn).Select(c => header?[c].Trim() ?? $"column {c}").ToArray();
        int d = width - 1;
        var feats = new List<float>();
        var labelText = new List<string>();
        var labelLine = new List<long>();
        for (int r = first; r < rows.Count; r++)
        {
            var (cells, line) = rows[r];
            if (cells.Length != width)
                throw new InvalidDataException($"CsvDataset: '{path}' line {line} has {cells.Length} fields, expected {width}");
            for (int c = 0; c < width; c++)
            {
                if (c == labelColumn) { labelText.Add(cells[c].Trim()); labelLine.Add(line); continue; }
                if (!float.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"CsvDataset: '{path}' line {line}, column '{header?[c].Trim() ?? c.ToString(CultureInfo.InvariantCulture)}': cannot parse '{cells[c].Trim()}' as a number");
                feats.Add(v);
            }
        }
        features = [.. feats];
        NumFeatures = d;
        Regression = regression;
        classLabels = [];
        regressionTargets = [];
        if (regression)
        {
            regressionTargets = new float[labelText.Count];
            for (int i = 0; i < labelText.Count; i++)
                if (!float.TryParse(labelText[i], NumberStyles.Float, CultureInfo.InvariantCulture, out regressionTargets[i]))
                    throw new InvalidDataException($"CsvDataset: '{path}' line {labelLine[i]}: cannot parse the target '{labelText[i]}' as a number");
            ClassNames = [];
        }
        else (classLabels, ClassNames) = ClassLabels(path, labelText, labelLine);
    }

    // Integer labels are class indices; otherwise every label is a name (sorted names give the indices). A number that
    // is not an integer, or names mixed with integers, is almost always a wrong column or a regression target.
    static (long[] Labels, string[] Names) ClassLabels(string path, List<string> text, List<long> lines)
    {
        int firstInteger = -1, firstName = -1;
        for (int i = 0; i < text.Count; i++)
        {
            if (long.TryParse(text[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out _)) { if (firstInteger < 0) firstInteger = i; continue; }
            if (double.TryParse(text[i], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                throw new InvalidDataException($"CsvDataset: '{path}' line {lines[i]}: label '{text[i]}' is a number but not an integer class index; " +
                    "pass regression: true for numeric targets");
            if (firstName < 0) firstName = i;
        }
        if (firstInteger >= 0 && firstName >= 0)
            throw new InvalidDataException($"CsvDataset: '{path}' line {lines[firstName]}: label '{text[firstName]}' is not an integer, " +
                $"but line {lines[firstInteger]} has the integer label '{text[firstInteger]}'; labels must be all class indices or all names");
        if (firstName < 0)
        {
            var labels = new long[text.Count];
            long max = -1;
            for (int i = 0; i < text.Count; i++)
            {
                labels[i] = long.Parse(text[i], NumberStyles.Integer, CultureInfo.InvariantCulture);
                if (labels[i] < 0) throw new InvalidDataException($"CsvDataset: '{path}' line {lines[i]}: class label {labels[i]} is negative");
                if (labels[i] >= MaxClasses)
                    throw new InvalidDataException($"CsvDataset: '{path}' line {lines[i]}: class label {labels[i]} would make more than {MaxClasses:N0} classes; labels are class indices 0..C-1");
                max = Math.Max(max, labels[i]);
            }
            return (labels, Enumerable.Range(0, (int)(max + 1)).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());
        }
        var names = text.Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = new Dictionary<string, long>(names.Length);
        for (int i = 0; i < names.Length; i++) index[names[i]] = i;
        return (text.Select(t => index[t]).ToArray(), names);
    }

    // The records with the line each starts on; blank lines are skipped.
    static List<(string[] Fields, long Line)> ReadRows(string path, char separator)
    {
        long previousEnd = 0; // the last line of the previous record: a record starts on the next one
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = separator.ToString(),
            HasHeaderRecord = false,
            DetectDelimiter = false,
            IgnoreBlankLines = false, // blank lines come as one empty field, so every line is counted and skipped below
            BadDataFound = args => throw new InvalidDataException(
                $"CsvDataset: '{path}' line {previousEnd + 1}: malformed quoting in {Shorten(args.RawRecord)} (a quote inside a field must be doubled, and the field quoted)"),
        };
        var rows = new List<(string[], long)>();
        var (stream, _) = UntrustedFile.OpenRead(path, "CsvDataset"); // regular files only: a FIFO or device would hang
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var parser = new CsvParser(reader, config);
        while (parser.Read())
        {
            var record = parser.Record ?? [];
            long line = previousEnd + 1;
            previousEnd = parser.RawRow;
            if (record.Length == 1 && string.IsNullOrWhiteSpace(record[0])) continue;
            rows.Add((record, line));
        }
        return rows;
    }

    static string Shorten(string text) => text.Length > 60 ? $"'{text[..60].TrimEnd()}…'" : $"'{text.TrimEnd()}'";

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>The index of the label column in the file.</summary>
    public int LabelColumn { get; }
    /// <summary>The feature column names (from the header, else "column i").</summary>
    public IReadOnlyList<string> FeatureNames { get; }
    /// <summary>The number of features per sample.</summary>
    public int NumFeatures { get; }
    /// <summary>Whether targets are float regression values.</summary>
    public bool Regression { get; }
    /// <summary>The class names by label (empty for regression).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The class labels (empty for regression).</summary>
    public IReadOnlyList<long> Labels => classLabels;

    /// <inheritdoc/>
    public int Count => Regression ? regressionTargets.Length : classLabels.Length;

    /// <inheritdoc/>
    public (Tensor Features, Tensor Target) this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"CsvDataset: index {index} is out of range for {Count} samples");
            var x = DataTensors.Wrap(features.AsSpan(index * NumFeatures, NumFeatures).ToArray(), NumFeatures);
            var y = Regression ? DataTensors.Wrap(new[] { regressionTargets[index] }) : DataTensors.Wrap(new[] { classLabels[index] });
            return (x, y);
        }
    }

    /// <summary>All features [N, D] float32 and targets [N] (int64 or float32).</summary>
    public (Tensor Features, Tensor Targets) ToTensors() => (
        DataTensors.Wrap((float[])features.Clone(), Count, NumFeatures),
        Regression ? DataTensors.Wrap((float[])regressionTargets.Clone(), Count) : DataTensors.Wrap((long[])classLabels.Clone(), Count));
}
