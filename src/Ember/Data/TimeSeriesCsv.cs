using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ember.Data;

/// <summary>
/// A univariate series read from a CSV file with a header: the first column is the time (a year such as 1700, a
/// month such as 1965-01, or a date such as 1958-03-29 or 19580329), another column the values. The reader refuses
/// what a forecaster cannot use silently: an empty, non-numeric or non-finite value, and a gap or step back in time
/// (years must step by 1, months by 1, dates by the same number of days as the first two rows). Every error names
/// the file and line.
/// </summary>
public sealed class TimeSeriesCsv
{
    TimeSeriesCsv(string path, string timeColumn, string valueColumn, string[] times, double[] values, TimeSeriesCalendar calendar, int stepDays)
    {
        Path = path; TimeColumn = timeColumn; ValueColumn = valueColumn; Times = times; Values = values; Calendar = calendar; StepDays = stepDays;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>The time column's header.</summary>
    public string TimeColumn { get; }
    /// <summary>The value column's header.</summary>
    public string ValueColumn { get; }
    /// <summary>The time labels as written.</summary>
    public IReadOnlyList<string> Times { get; }
    /// <summary>The values, in file order.</summary>
    public double[] Values { get; }
    /// <summary>How the time column was understood.</summary>
    public TimeSeriesCalendar Calendar { get; }
    /// <summary>Days between rows when <see cref="Calendar"/> is <see cref="TimeSeriesCalendar.Dates"/>.</summary>
    public int StepDays { get; }

    /// <summary>The labels of the <paramref name="count"/> steps after the last row, in the file's format ("t+1", … when the time column is free text).</summary>
    public string[] NextTimes(int count)
    {
        var next = new string[count];
        string last = Times[^1];
        for (int k = 1; k <= count; k++)
            next[k - 1] = Calendar switch
            {
                TimeSeriesCalendar.Years => (long.Parse(last, CultureInfo.InvariantCulture) + k).ToString(CultureInfo.InvariantCulture),
                TimeSeriesCalendar.Months => ParseMonth(last)!.Value.AddMonths(k).ToString("yyyy-MM", CultureInfo.InvariantCulture),
                TimeSeriesCalendar.Dates => ParseDate(last, out var format)!.Value.AddDays((long)k * StepDays).ToString(format, CultureInfo.InvariantCulture),
                _ => $"t+{k}",
            };
        return next;
    }

    // A record as an error message shows it: at most 40 characters, control characters (a binary file's) as '?'.
    static string Printable(string record)
        => new string([.. record.Take(40).Select(c => char.IsControl(c) ? '?' : c)]) + (record.Length > 40 ? "…" : "");

    /// <summary>Reads <paramref name="path"/>; <paramref name="valueColumn"/> names the value column (default: the second).</summary>
    /// <exception cref="InvalidDataException">A bad value, a gap in time, a malformed row; the message names the file and line.</exception>
    public static TimeSeriesCsv Read(string path, string? valueColumn = null)
    {
        const string who = "TimeSeriesCsv";
        if (Directory.Exists(path)) throw new InvalidDataException($"{who}: '{path}' is a folder, not a CSV file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{who}: file '{path}' does not exist", path);
        long previousEnd = 0; // the last line of the previous record: a record starts on the next one
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = false, DetectDelimiter = false, IgnoreBlankLines = true,
            // CsvHelper's own BadDataException reached the user as "unexpected error" (a binary file given as --data)
            BadDataFound = args => throw new InvalidDataException(
                $"{who}: '{path}' line {previousEnd + 1}: malformed quoting in '{Printable(args.RawRecord.TrimEnd('\r', '\n'))}' " +
                "(a quote inside a field must be doubled, and the field quoted); is it a CSV file?"),
        };
        var (stream, _) = UntrustedFile.OpenRead(path, who);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var parser = new CsvParser(reader, config);
        if (!parser.Read() || parser.Record is not { Length: >= 2 } header)
            throw new InvalidDataException($"{who}: '{path}' line 1: expected a header with a time column and at least one value column");
        int column = 1;
        if (valueColumn is not null)
        {
            column = Array.FindIndex(header, h => h.Trim() == valueColumn);
            if (column < 1) throw new ArgumentException($"{who}: '{path}' has no value column named '{valueColumn}'; columns are {string.Join(", ", header)}");
        }
        var times = new List<string>();
        var values = new List<double>();
        var calendar = TimeSeriesCalendar.None;
        int stepDays = 0;
        DateTime previous = default;
        long previousYear = 0;
        previousEnd = parser.RawRow;
        while (parser.Read())
        {
            var record = parser.Record ?? [];
            long line = previousEnd + 1;
            previousEnd = parser.RawRow;
            if (record.Length != header.Length)
                throw new InvalidDataException($"{who}: '{path}' line {line} has {record.Length} fields, expected {header.Length} as in the header");
            string time = record[0].Trim(), text = record[column].Trim();
            if (text.Length == 0)
                throw new InvalidDataException($"{who}: '{path}' line {line}: the value of '{header[column]}' at {time} is empty (a gap in the series); fill or resample the series first");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                throw new InvalidDataException($"{who}: '{path}' line {line}: the value of '{header[column]}' at {time} is '{text}', expected a finite number");
            if (times.Count == 0) calendar = Detect(time);
            else
            {
                string? gap = null;
                switch (calendar)
                {
                    case TimeSeriesCalendar.Years:
                        if (!long.TryParse(time, NumberStyles.Integer, CultureInfo.InvariantCulture, out var year)) gap = $"'{time}' is not a year like the first row's";
                        else if (year != previousYear + 1) gap = $"year {time} follows {previousYear}, expected {previousYear + 1}";
                        previousYear = year;
                        break;
                    case TimeSeriesCalendar.Months:
                        var month = ParseMonth(time);
                        if (month is null) gap = $"'{time}' is not a month like the first row's (yyyy-MM)";
                        else if (month.Value != previous.AddMonths(1)) gap = $"month {time} follows {previous:yyyy-MM}, expected {previous.AddMonths(1):yyyy-MM}";
                        if (month is not null) previous = month.Value;
                        break;
                    case TimeSeriesCalendar.Dates:
                        var date = ParseDate(time, out _);
                        if (date is null) { gap = $"'{time}' is not a date like the first row's"; break; }
                        int days = (int)(date.Value - previous).TotalDays;
                        if (times.Count == 1)
                        {
                            if (days <= 0) gap = $"date {time} does not come after {times[0]}";
                            stepDays = days;
                        }
                        else if (days != stepDays) gap = $"date {time} is {days} days after the previous row, expected {stepDays} as between the first two rows";
                        previous = date.Value;
                        break;
                }
                if (gap is not null) throw new InvalidDataException($"{who}: '{path}' line {line}: {gap} (a gap or disorder in the time column '{header[0]}')");
            }
            if (times.Count == 0)
            {
                if (calendar == TimeSeriesCalendar.Years) previousYear = long.Parse(time, CultureInfo.InvariantCulture);
                else if (calendar == TimeSeriesCalendar.Months) previous = ParseMonth(time)!.Value;
                else if (calendar == TimeSeriesCalendar.Dates) previous = ParseDate(time, out _)!.Value;
            }
            times.Add(time);
            values.Add(value);
        }
        if (values.Count == 0) throw new InvalidDataException($"{who}: '{path}' has a header but no rows");
        return new TimeSeriesCsv(path, header[0].Trim(), header[column].Trim(), [.. times], [.. values], calendar, stepDays);
    }

    static TimeSeriesCalendar Detect(string time)
        => time.Length <= 5 && long.TryParse(time, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? TimeSeriesCalendar.Years
            : ParseMonth(time) is not null ? TimeSeriesCalendar.Months
            : ParseDate(time, out _) is not null ? TimeSeriesCalendar.Dates
            : TimeSeriesCalendar.None;

    static DateTime? ParseMonth(string s)
        => DateTime.TryParseExact(s, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyyMMdd"];

    static DateTime? ParseDate(string s, out string format)
    {
        foreach (var f in DateFormats)
            if (DateTime.TryParseExact(s, f, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) { format = f; return d; }
        format = "";
        return null;
    }
}
