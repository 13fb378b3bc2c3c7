using System.Globalization;
using System.Text;

namespace Ember.Detection.Data;

/// <summary>
/// YOLO label files: one object per line, <c>class cx cy w h</c>, the class a non-negative integer id and the box's
/// centre and size normalized by the image's width and height. Parsing checks every line and reports each problem with
/// the file and line; a file with any problem yields no labels (its image is skipped rather than trained on half-labelled).
/// </summary>
public static class YoloLabels
{
    /// <summary>
    /// How far a box's edges may reach past the image (in normalized units) before it is an error: labelling tools
    /// round, so an edge at 1.0004 is a rounding artefact, not a box outside the image.
    /// </summary>
    public const double EdgeTolerance = 0.01;

    /// <summary>
    /// Parses a label file's text into rows of [class, cx, cy, w, h] (flattened); problems are appended to
    /// <paramref name="problems"/> naming <paramref name="file"/> and the line, and the result is null when there were any.
    /// </summary>
    public static float[]? Parse(string text, string file, int classCount, List<DetectionProblem> problems)
    {
        var rows = new List<float>();
        int before = problems.Count;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            void Report(string message) => problems.Add(new DetectionProblem(file, i + 1, message));
            if (parts.Length != 5)
            {
                Report($"expected 5 values 'class cx cy w h', got {parts.Length} ('{Short(line)}')");
                continue;
            }
            if (!long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long cls)
                && !(double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double clsReal) && clsReal == Math.Floor(clsReal) && (cls = (long)clsReal) == clsReal))
            {
                Report($"class id must be an integer, got '{Short(parts[0])}'");
                continue;
            }
            if (cls < 0 || cls >= classCount)
            {
                Report($"class id {cls} is out of range: the data set has {classCount} classes (ids 0 to {classCount - 1})");
                continue;
            }
            var v = new double[4];
            bool ok = true;
            for (int k = 0; k < 4 && ok; k++)
                if (!double.TryParse(parts[k + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[k]) || !double.IsFinite(v[k]))
                {
                    Report($"{Field(k)} must be a number, got '{Short(parts[k + 1])}'");
                    ok = false;
                }
            if (!ok) continue;
            for (int k = 0; k < 4 && ok; k++)
                if (v[k] < 0 || v[k] > 1)
                {
                    Report($"box outside [0, 1]: {Field(k)} is {parts[k + 1]}; YOLO labels are normalized by the image size (pixel coordinates?)");
                    ok = false;
                }
            if (!ok) continue;
            if (v[2] <= 0 || v[3] <= 0)
            {
                Report($"box has zero size (w {parts[3]}, h {parts[4]}); expected w > 0 and h > 0");
                continue;
            }
            double x1 = v[0] - v[2] / 2, x2 = v[0] + v[2] / 2, y1 = v[1] - v[3] / 2, y2 = v[1] + v[3] / 2;
            if (x1 < -EdgeTolerance || y1 < -EdgeTolerance || x2 > 1 + EdgeTolerance || y2 > 1 + EdgeTolerance)
            {
                Report(string.Create(CultureInfo.InvariantCulture,
                    $"box outside [0, 1]: its corners are ({x1:G4}, {y1:G4}) to ({x2:G4}, {y2:G4}) (cx ± w/2, cy ± h/2); expected them inside the image"));
                continue;
            }
            rows.Add(cls); rows.Add((float)v[0]); rows.Add((float)v[1]); rows.Add((float)v[2]); rows.Add((float)v[3]);
        }
        return problems.Count > before ? null : [.. rows];
    }

    static string Field(int k) => k switch { 0 => "cx", 1 => "cy", 2 => "w", _ => "h" };

    static string Short(string s) => s.Length > 60 ? s[..60] + "…" : s;

    /// <summary>Formats rows [class, cx, cy, w, h] (flattened) as label-file text with six decimals, invariant culture.</summary>
    public static string Format(ReadOnlySpan<float> rows)
    {
        if (rows.Length % 5 != 0) throw new ArgumentException($"YoloLabels.Format: expected rows of 5 values, got {rows.Length} values");
        var sb = new StringBuilder();
        for (int r = 0; r < rows.Length; r += 5)
            sb.Append(CultureInfo.InvariantCulture, $"{(int)rows[r]} {rows[r + 1]:F6} {rows[r + 2]:F6} {rows[r + 3]:F6} {rows[r + 4]:F6}\n");
        return sb.ToString();
    }

    /// <summary>
    /// The label file of an image, as YOLOv5 finds it: the last <c>images</c> folder of the path replaced by
    /// <c>labels</c> and the extension by <c>.txt</c> (<c>data/images/train/a.jpg</c> → <c>data/labels/train/a.txt</c>).
    /// </summary>
    public static string LabelPathFor(string imagePath)
    {
        var full = System.IO.Path.GetFullPath(imagePath);
        char sep = System.IO.Path.DirectorySeparatorChar;
        string marker = $"{sep}images{sep}";
        int at = full.LastIndexOf(marker, StringComparison.Ordinal);
        if (at >= 0) full = full[..at] + $"{sep}labels{sep}" + full[(at + marker.Length)..];
        return System.IO.Path.ChangeExtension(full, ".txt");
    }
}
