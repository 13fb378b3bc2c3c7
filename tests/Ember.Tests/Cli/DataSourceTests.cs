using Ember.Cli.Configuration;
using Ember.Data;

namespace Ember.Tests.Cli;

/// <summary>Each data set carries its own normalization and class names, recorded in args.yaml.</summary>
public sealed class DataSourceTests : IDisposable
{
    readonly string temp = Directory.CreateTempSubdirectory("ember-data-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    static string Embedded => Mnist.FindDataFolder("fashion-mnist")!;

    [Fact]
    public void The_default_is_fashion_mnist_with_its_published_statistics_and_names()
    {
        var (data, config) = DataSource.Resolve(new TrainConfig());
        Assert.Equal(Path.GetFullPath(Embedded), Path.GetFullPath(data.Folder));
        Assert.Equal((0.2860, 0.3530), (data.Mean, data.Std));
        Assert.Equal(FashionMnist.Classes, data.Classes);
        Assert.Equal((0.2860, 0.3530), (config.DataMean!.Value, config.DataStd!.Value));
        Assert.Equal(string.Join(',', FashionMnist.Classes), config.Classes);
    }

    [Fact]
    public void An_unknown_folder_gets_the_statistics_of_its_own_training_split_and_numbered_classes()
    {
        // A copy of the embedded files under another name is "unknown": its statistics must come out as Fashion-MNIST's.
        foreach (var file in Directory.GetFiles(Embedded, "*ubyte*")) File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
        var (data, config) = DataSource.Resolve(new TrainConfig { Data = temp });
        Assert.Equal(0.2860, data.Mean, 4);
        Assert.Equal(0.3530, data.Std, 4);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], data.Classes);
        // Resolving the recorded config again changes nothing (resume and eval read args.yaml).
        var again = DataSource.Resolve(config);
        Assert.Equal(config, again.Config);
    }

    [Fact]
    public void The_resolved_values_survive_args_yaml()
    {
        var (_, config) = DataSource.Resolve(new TrainConfig { DataMean = 0.5, DataStd = 0.25, Classes = "a: b, c \"d\"" });
        string file = Path.Combine(temp, "args.yaml");
        File.WriteAllText(file, ConfigLoader.ToYaml(config));
        var read = ConfigLoader.Load(file);
        Assert.Equal((0.5, 0.25), (read.DataMean!.Value, read.DataStd!.Value));
        Assert.Equal(["a: b", "c \"d\""], DataSource.Resolve(read).Data.Classes);
        Assert.Equal(2, DataSource.ClassCount(read));
    }

    [Fact]
    public void Mnist_by_name_says_it_is_not_shipped_when_its_folder_is_missing()
    {
        if (Mnist.FindDataFolder("mnist") is not null) return; // a machine that has data/mnist resolves it instead
        var e = Assert.Throws<DirectoryNotFoundException>(() => DataSource.Resolve(new TrainConfig { Data = "mnist" }));
        Assert.Contains("MNIST is not shipped", e.Message);
        Assert.Contains("data/mnist", e.Message);
    }

    [Theory]
    [InlineData("only-one", null, null, "at least two")]
    [InlineData("a,,b", null, null, "at least two non-empty")]
    [InlineData(null, 0.5, 0.0, "standard deviation positive")]
    public void Bad_recorded_values_are_refused(string? classes, double? mean, double? std, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => DataSource.Resolve(new TrainConfig { Classes = classes, DataMean = mean, DataStd = std }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Labels_beyond_the_class_names_are_refused_naming_the_folder()
    {
        var (data, _) = DataSource.Resolve(new TrainConfig { Classes = "a,b,c" });
        var e = Assert.Throws<InvalidDataException>(() => data.CheckLabels(new FashionMnist(train: false)));
        Assert.Contains("label 9 has no class name", e.Message);
    }

    [Fact]
    public void A_file_or_a_missing_folder_is_a_clear_error()
    {
        string file = Path.Combine(temp, "x.txt");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", Assert.Throws<InvalidDataException>(() => DataSource.Resolve(new TrainConfig { Data = file })).Message);
        Assert.Contains("no such data set or folder", Assert.Throws<DirectoryNotFoundException>(() => DataSource.Resolve(new TrainConfig { Data = Path.Combine(temp, "nope") })).Message);
    }
}
