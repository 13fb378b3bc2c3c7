using Ember.Data;

namespace Ember.Tests.Data;

public class DatasetTests
{
    [Fact]
    public void TensorDatasetRowsAndSizeMismatch()
    {
        var ds = new TensorDataset(Torch.Arange(0, 12, 1).Reshape(4, 3), Torch.Tensor(10L, 11L, 12L, 13L));
        Assert.Equal(4, ds.Count);
        Assert.Equal(new long[] { 6, 7, 8 }, ds[2][0].ToArray<long>());
        Assert.Equal(12, ds[2][1].Item<long>());
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset(Torch.Zeros(4, 3), Torch.Zeros(5)));
        Assert.Contains("TensorDataset", e.Message);
        Assert.Contains("[5]", e.Message);
    }

    [Fact]
    public void ConcatAndSubset()
    {
        var a = new ListDataset<int>([0, 1, 2]);
        var b = new ListDataset<int>([10, 11]);
        var c = new ConcatDataset<int>(a, b, a);
        Assert.Equal(8, c.Count);
        Assert.Equal(new[] { 0, 1, 2, 10, 11, 0, 1, 2 }, Enumerable.Range(0, 8).Select(i => c[i]));
        Assert.Equal(2, c[-1]);
        var s = new Subset<int>(c, [4, 0, 3]);
        Assert.Equal(new[] { 11, 0, 10 }, Enumerable.Range(0, 3).Select(i => s[i]));
        Assert.Contains("out of range", Assert.Throws<ArgumentException>(() => new Subset<int>(a, [3])).Message);
    }

    [Fact]
    public void RandomSplitByLengthsAndFractions()
    {
        var ds = new ListDataset<int>(Enumerable.Range(0, 10).ToArray());
        var parts = Dataset.RandomSplit(ds, [7, 3], new Generator(0));
        var all = parts.SelectMany(p => Enumerable.Range(0, p.Count).Select(i => p[i])).Order();
        Assert.Equal(Enumerable.Range(0, 10), all);
        Assert.Equal(parts[0].Indices, Dataset.RandomSplit(ds, [7, 3], new Generator(0))[0].Indices);
        var f = Dataset.RandomSplit(ds, [0.5, 0.25, 0.25], new Generator(1));
        Assert.Equal(new[] { 6, 2, 2 }, f.Select(p => p.Count));   // 5, 2, 2 plus the remainder dealt in order
        Assert.Contains("does not equal", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(ds, [5, 4], new Generator(0))).Message);
    }

    [Fact]
    public void TimeSeriesWindows()
    {
        var series = Torch.Arange(0, 10, 1).To(DType.Float32);
        var ds = new TimeSeriesWindowDataset(series, inputLength: 4, horizon: 2, stride: 2);
        Assert.Equal(3, ds.Count);   // starts 0, 2, 4 (4 + 4 + 2 = 10)
        var (x, y) = ds[2];
        Assert.Equal(new double[] { 4, 5, 6, 7 }, x.ToDoubleArray());
        Assert.Equal(new double[] { 8, 9 }, y.ToDoubleArray());
        var multi = new TimeSeriesWindowDataset(Torch.Zeros(20, 3), 5, 3);
        Assert.Equal(13, multi.Count);
        Assert.Equal(new Shape(5, 3), multi[0].Input.Shape);
        var batch = new DataLoader<(Tensor, Tensor)>(multi, batchSize: 4).First();
        Assert.Equal(new Shape(4, 3, 3), batch[1].Shape);
        Assert.Contains("shorter than one window", Assert.Throws<ArgumentException>(() => new TimeSeriesWindowDataset(series, 8, 3)).Message);
    }

    [Fact]
    public void CsvDatasetWithHeaderNamedLabelAndErrors()
    {
        var dir = Directory.CreateTempSubdirectory("ember-csv-").FullName;
        try
        {
            var path = Path.Combine(dir, "iris.csv");
            File.WriteAllText(path, "a,b,species,c\n1.5,2,setosa,3\n4,5.25,virginica,6\n\n7,8,setosa,-9e-1\n");
            var ds = new CsvDataset(path, labelName: "species");
            Assert.Equal(3, ds.Count);
            Assert.Equal(new[] { "a", "b", "c" }, ds.FeatureNames);
            Assert.Equal(new[] { "setosa", "virginica" }, ds.ClassNames);
            var (x, y) = ds[1];
            Assert.Equal(new double[] { 4, 5.25, 6 }, x.ToDoubleArray());
            Assert.Equal(1, y.Item<long>());
            var (xs, ys) = new DataLoader<(Tensor, Tensor)>(ds, batchSize: 3).First();
            Assert.Equal(new Shape(3, 3), xs.Shape);
            Assert.Equal(new long[] { 0, 1, 0 }, ys.ToArray<long>());

            var raw = Path.Combine(dir, "raw.csv");
            File.WriteAllText(raw, "0.5;1;2\n1.5;3;0\n");
            var r = new CsvDataset(raw, hasHeader: false, separator: ';');
            Assert.Equal(new long[] { 2, 0 }, r.Labels);
            Assert.Equal(3, r.ClassNames.Count);
            var reg = new CsvDataset(raw, labelColumn: 0, hasHeader: false, separator: ';', regression: true);
            Assert.Equal(DType.Float32, reg[1].Target.DType);
            Assert.Equal(1.5, reg[1].Target.Item());

            var bad = Path.Combine(dir, "bad.csv");
            File.WriteAllText(bad, "x,y,label\n1,2,0\n3,oops,1\n");
            var e = Assert.Throws<InvalidDataException>(() => new CsvDataset(bad));
            Assert.Contains("bad.csv", e.Message);
            Assert.Contains("line 3", e.Message);
            Assert.Contains("'y'", e.Message);
            Assert.Contains("oops", e.Message);
            File.WriteAllText(bad, "x,y,label\n1,2,0\n3,1\n");
            Assert.Contains("2 fields, expected 3", Assert.Throws<InvalidDataException>(() => new CsvDataset(bad)).Message);
            Assert.Contains("no column named 'z'", Assert.Throws<ArgumentException>(() => new CsvDataset(path, labelName: "z")).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
