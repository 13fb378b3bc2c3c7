using System.Globalization;

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

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="labelColumn">The label column's index (−1: the last) when <paramref name="labelName"/> is null.</param>
    /// <param name="labelName">The label column's header name (needs a header).</param>
    /// <param name="hasHeader">Whether the first line names the columns.</param>
    /// <param name="separator">The field separator.</param>
    /// <param name="regression">Parse the label as a number and return it as a float32 target.</param>
    public CsvDataset(string path, int labelColumn = -1, string? labelName = null, bool hasHeader = true, char separator = ',', bool regression = false)
    {
        Path = path;
        if (!File.Exists(path)) throw new FileNotFoundException($"CsvDataset: file '{path}' does not exist", path);
        var lines = File.ReadAllLines(path);
        int first = 0;
        while (first < lines.Length && string.IsNullOrWhiteSpace(lines[first])) first++;
        if (first >= lines.Length) throw new InvalidDataException($"CsvDataset: '{path}' is empty");
        string[]? header = hasHeader ? Split(lines[first++], separator) : null;
        int width = header?.Length ?? Split(lines[first], separator).Length;
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
        for (int li = first; li < lines.Length; li++)
        {
            if (string.IsNullOrWhiteSpace(lines[li])) continue;
            var cells = Split(lines[li], separator);
            if (cells.Length != width)
                throw new InvalidDataException($"CsvDataset: '{path}' line {li + 1} has {cells.Length} fields, expected {width}");
            for (int c = 0; c < width; c++)
            {
                if (c == labelColumn) { labelText.Add(cells[c].Trim()); continue; }
                if (!float.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"CsvDataset: '{path}' line {li + 1}, column '{header?[c].Trim() ?? c.ToString(CultureInfo.InvariantCulture)}': cannot parse '{cells[c].Trim()}' as a number");
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
                    throw new InvalidDataException($"CsvDataset: '{path}' sample {i}: cannot parse the target '{labelText[i]}' as a number");
            ClassNames = [];
        }
        else if (labelText.All(t => long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
        {
            classLabels = labelText.Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
            for (int i = 0; i < classLabels.Length; i++)
                if (classLabels[i] < 0) throw new InvalidDataException($"CsvDataset: '{path}' sample {i}: class label {classLabels[i]} is negative");
            int numClasses = classLabels.Length == 0 ? 0 : (int)classLabels.Max() + 1;
            ClassNames = Enumerable.Range(0, numClasses).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            var names = labelText.Distinct().Order(StringComparer.Ordinal).ToArray();
            var index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (long)p.i);
            classLabels = labelText.Select(t => index[t]).ToArray();
            ClassNames = names;
        }
    }

    static string[] Split(string line, char separator) => line.Split(separator);

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
