using System.Text;
using Ember.Data;

namespace Ember.Tests.Data;

public class CsvDatasetTests
{
    static string Write(string text, bool bom = false)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-csv").FullName, "data.csv");
        File.WriteAllText(path, text, new UTF8Encoding(bom));
        return path;
    }

    [Fact]
    public void Quoted_fields_with_separators_quotes_and_line_breaks_are_read_whole()
    {
        var path = Write("\"width, cm\",\"the \"\"height\"\"\",label\n1.5,2,\"cat, black\"\n3,4,\"dog \"\"rex\"\"\"\n5,6,\"two\nlines\"\n");
        var ds = new CsvDataset(path);
        Assert.Equal(["width, cm", "the \"height\""], ds.FeatureNames);
        Assert.Equal(3, ds.Count);
        Assert.Equal(["cat, black", "dog \"rex\"", "two\nlines"], ds.ClassNames);
        Assert.Equal([0L, 1L, 2L], ds.Labels);
        Assert.Equal(new double[] { 5, 6 }, ds[2].Features.ToDoubleArray());
    }

    [Fact]
    public void Crlf_line_ends_and_a_byte_order_mark_read_like_plain_lf()
    {
        var lf = new CsvDataset(Write("a,b,label\n1,2,0\n3,4,1\n"));
        var crlf = new CsvDataset(Write("a,b,label\r\n1,2,0\r\n\r\n3,4,1\r\n", bom: true));
        Assert.Equal(lf.FeatureNames, crlf.FeatureNames);
        Assert.Equal("a", crlf.FeatureNames[0]); // not "\uFEFFa"
        Assert.Equal(lf.Labels, crlf.Labels);
        Assert.Equal(lf.ToTensors().Features.ToDoubleArray(), crlf.ToTensors().Features.ToDoubleArray());
    }

    [Theory]
    [InlineData("a,label\n1,0\n2,1.5\n", "line 3", "'1.5' is a number but not an integer")]
    [InlineData("a,label\n1,0.5\n2,1.5\n", "line 2", "regression: true")]
    [InlineData("a,label\n1,0\n2,1\n3,cat\n", "line 4", "line 2 has the integer label '0'")]
    [InlineData("a,label\n1,cat\n2,7\n", "line 2", "all class indices or all names")]
    [InlineData("a,label\n1,0\n2,-1\n", "line 3", "negative")]
    [InlineData("a,label\n1,0\n2,50000000\n", "line 3", "more than 1,000,000 classes")]
    [InlineData("a,label\n1,0\n\"2,1\n", "line 3", "malformed quoting in '\"2,1'")]
    [InlineData("a,label\n1,0\n2,x\"y\n", "line 3", "malformed quoting")]
    [InlineData("a,label\n\n1,0\n2,3,4\n", "line 4", "3 fields, expected 2")]
    [InlineData("a,label\n1,0\r\nbad,1\r\n", "line 3", "cannot parse 'bad'")]
    public void Bad_rows_and_labels_are_errors_naming_the_file_and_line(string text, string line, string expected)
    {
        var path = Write(text);
        var ex = Assert.Throws<InvalidDataException>(() => new CsvDataset(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(line, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_line_inside_a_quoted_multi_line_field_counts_toward_later_line_numbers()
    {
        var path = Write("a,label\n1,\"x\ny\"\n2,z\n3,4\n");
        Assert.Contains("line 5", Assert.Throws<InvalidDataException>(() => new CsvDataset(path)).Message);
    }

    [Fact]
    public void A_folder_or_an_empty_file_is_a_clear_error()
    {
        var folder = Directory.CreateTempSubdirectory("ember-csv").FullName;
        Assert.Contains("is a folder", Assert.Throws<InvalidDataException>(() => new CsvDataset(folder)).Message);
        Assert.Contains("is empty", Assert.Throws<InvalidDataException>(() => new CsvDataset(Write("\n\n"))).Message);
        // a device reports size 0 and never ends: refused before reading
        Assert.Contains("not a regular file", Assert.Throws<InvalidDataException>(() => new CsvDataset("/dev/zero")).Message);
    }
}
