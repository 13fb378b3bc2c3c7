using Ember.Data;

namespace Ember.Tests.Data;

public class TimeSeriesCsvTests
{
    internal static string Repo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "data", "series"))) return dir.FullName;
        throw new DirectoryNotFoundException("data/series not found above " + AppContext.BaseDirectory);
    }

    static string Write(string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-series").FullName, "series.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Reads_the_committed_monthly_co2_series_as_the_file_has_it()
    {
        var path = Path.Combine(Repo(), "data", "series", "co2_monthly.csv");
        var csv = TimeSeriesCsv.Read(path);
        var lines = File.ReadAllLines(path);
        Assert.Equal(lines.Length - 1, csv.Values.Length);
        Assert.Equal(444, csv.Values.Length); // 1965-01 .. 2001-12
        Assert.Equal(TimeSeriesCalendar.Months, csv.Calendar);
        Assert.Equal(("month", "co2"), (csv.TimeColumn, csv.ValueColumn));
        Assert.Equal("1965-01", csv.Times[0]);
        Assert.Equal(double.Parse(lines[1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture), csv.Values[0]);
        Assert.Equal(double.Parse(lines[^1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture), csv.Values[^1]);
        Assert.Equal(["2002-01", "2002-02", "2002-03"], csv.NextTimes(3));
    }

    [Fact]
    public void Reads_the_yearly_sunspots_with_a_quoted_header()
    {
        var csv = TimeSeriesCsv.Read(Path.Combine(Repo(), "data", "series", "sunspots_yearly.csv"));
        Assert.Equal(TimeSeriesCalendar.Years, csv.Calendar);
        Assert.Equal(("YEAR", "SUNACTIVITY"), (csv.TimeColumn, csv.ValueColumn));
        Assert.Equal(309, csv.Values.Length);
        Assert.Equal(5.0, csv.Values[0]);
        Assert.Equal(["2009", "2010"], csv.NextTimes(2));
    }

    [Fact]
    public void The_raw_weekly_file_is_refused_at_its_first_empty_reading_with_file_and_line()
    {
        var path = Path.Combine(Repo(), "data", "series", "co2_weekly.csv");
        var lines = File.ReadAllLines(path);
        int firstEmpty = Array.FindIndex(lines, l => l.EndsWith(',')) + 1; // 1-based line number
        Assert.True(firstEmpty > 1);
        var e = Assert.Throws<InvalidDataException>(() => TimeSeriesCsv.Read(path));
        Assert.Contains($"'{path}' line {firstEmpty}:", e.Message);
        Assert.Contains($"at {lines[firstEmpty - 1].Split(',')[0]} is empty", e.Message);
    }

    [Fact]
    public void Weekly_dates_step_by_seven_days_and_a_missing_week_is_a_gap()
    {
        var ok = TimeSeriesCsv.Read(Write("date,v\n19580329,1\n19580405,2\n19580412,3\n"));
        Assert.Equal((TimeSeriesCalendar.Dates, 7), (ok.Calendar, ok.StepDays));
        Assert.Equal(["19580419"], ok.NextTimes(1));
        var e = Assert.Throws<InvalidDataException>(() => TimeSeriesCsv.Read(Write("date,v\n19580329,1\n19580405,2\n19580419,3\n")));
        Assert.Contains("line 4: date 19580419 is 14 days after the previous row, expected 7", e.Message);
    }

    [Theory]
    [InlineData("month,v\n2000-01,1\n2000-02,2\n2000-04,3\n", "line 4: month 2000-04 follows 2000-02, expected 2000-03")]
    [InlineData("year,v\n1700,1\n1701,2\n1701,3\n", "line 4: year 1701 follows 1701, expected 1702")]
    [InlineData("month,v\n2000-01,1\n2000-02,abc\n", "line 3: the value of 'v' at 2000-02 is 'abc', expected a finite number")]
    [InlineData("month,v\n2000-01,1\n2000-02,NaN\n", "line 3: the value of 'v' at 2000-02 is 'NaN', expected a finite number")]
    [InlineData("month,v\n2000-01,1\n2000-02,\n", "line 3: the value of 'v' at 2000-02 is empty (a gap in the series)")]
    [InlineData("month,v\n2000-01,1\n2000-02,2,3\n", "line 3 has 3 fields, expected 2")]
    [InlineData("month,v\n2000-01,1\nxyz,2\n", "line 3: 'xyz' is not a month like the first row's")]
    [InlineData("month,v\n", "has a header but no rows")]
    [InlineData("month,v\n2000-01,1\n2000-02,x\"y\n", "line 3: malformed quoting in '2000-02,x\"y'")] // was CsvHelper's BadDataException: "unexpected error", exit 1
    [InlineData("month,v\n2000-01,1\n\"2000-02,2\n", "line 3: malformed quoting in '\"2000-02,2'")]
    [InlineData("mo\"nth,v\n2000-01,1\n", "line 1: malformed quoting")]
    public void Bad_series_name_the_file_line_and_problem(string text, string expected)
    {
        var path = Write(text);
        var e = Assert.Throws<InvalidDataException>(() => TimeSeriesCsv.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_named_value_column_is_read_and_an_unknown_one_lists_the_columns()
    {
        var path = Write("t,a,b\n1,1,10\n2,2,20\n");
        Assert.Equal([10.0, 20.0], TimeSeriesCsv.Read(path, "b").Values);
        Assert.Contains("columns are t, a, b", Assert.Throws<ArgumentException>(() => TimeSeriesCsv.Read(path, "c")).Message);
        Assert.Throws<FileNotFoundException>(() => TimeSeriesCsv.Read(path + ".missing"));
    }
}
