using Ember.Detection.Data;

namespace Ember.Tests.Detection.Data;

public class YoloDataConfigTests
{
    const string Folder = "/data/set";

    [Fact]
    public void ResolvesPathsAgainstTheRootAndReadsNamesAsAListOrAMapping()
    {
        var list = YoloDataConfig.Parse("path: ../coco\ntrain: images/train\nval: [images/val, extra/val]\nnc: 2\nnames: [cat, 'T-shirt/top']\n", "d.yaml", Folder);
        Assert.Equal("/data/coco", list.Root);
        Assert.Equal(["/data/coco/images/train"], list.Train);
        Assert.Equal(["/data/coco/images/val", "/data/coco/extra/val"], list.Val);
        Assert.Equal(["cat", "T-shirt/top"], list.Names);
        var map = YoloDataConfig.Parse("train: a\nval: b\nnames:\n  1: dog\n  0: cat\n", "d.yaml", Folder);
        Assert.Equal("/data/set", map.Root);
        Assert.Equal(["cat", "dog"], map.Names);
        Assert.Equal(2, map.ClassCount);
    }

    [Theory]
    [InlineData("train: a\nnames: [x]\n", "d.yaml: missing key 'val'")]
    [InlineData("train: a\nval: b\n", "d.yaml: missing key 'names'")]
    [InlineData("train: a\nval: b\nnc: 3\nnames: [x, y]\n", "d.yaml: 'nc' is 3 but 'names' lists 2 classes")]
    [InlineData("train: a\nval: b\nnames:\n  0: x\n  2: y\n", "d.yaml:4: 'names' has ids 0, 2; expected 0 to 1")]
    [InlineData("train: a\nval: b\nnames: []\n", "d.yaml:3: 'names' is empty")]
    [InlineData("train: a\nval: b\nnc: two\nnames: [x]\n", "d.yaml: 'nc' must be a positive integer, got 'two'")]
    [InlineData("train: {x: 1}\nval: b\nnames: [x]\n", "d.yaml:1: 'train' must be a path or a list of paths, got a mapping")]
    [InlineData("train: a\nval: b\nnames: [x\n", "d.yaml:4:1: invalid YAML")]
    public void ErrorsNameTheFileLineAndKey(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => YoloDataConfig.Parse(text, "d.yaml", Folder));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void WhatWriteWritesLoadsBack()
    {
        var dir = Directory.CreateTempSubdirectory("ember-datayaml-").FullName;
        try
        {
            var file = Path.Combine(dir, "data.yaml");
            YoloDataConfig.Write(file, "images/train", "images/val", ["T-shirt/top", "a: \"b\" # c"]);
            var config = YoloDataConfig.Load(file);
            Assert.Equal(["T-shirt/top", "a: \"b\" # c"], config.Names);
            Assert.Equal([Path.Combine(dir, "images", "train")], config.Train);
            Assert.Equal([Path.Combine(dir, "images", "val")], config.Val);
        }
        finally { Directory.Delete(dir, true); }
    }
}
