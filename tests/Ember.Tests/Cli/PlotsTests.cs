using Ember.Cli.Reporting;
using Ember.Data;
using StbImageSharp;

namespace Ember.Tests.Cli;

public class PlotsTests
{
    [Fact]
    public void The_confusion_matrix_keeps_its_rotated_class_names_inside_the_image()
    {
        var m = new double[10, 10];
        for (int i = 0; i < 10; i++) m[i, i] = 0.9;
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-plot").FullName, "cm.png");
        Plots.ConfusionMatrix(m, FashionMnist.Classes, path);
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.Grey);
        // the longest names ("T-shirt/top", "Ankle boot") ran off the bottom edge when the axis was sized for unrotated labels
        for (int y = image.Height - 5; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                Assert.True(image.Data[y * image.Width + x] > 200, $"ink at ({x}, {y}) of a {image.Width}×{image.Height} image: a label is clipped");
        int ink = 0; // and the names are drawn in the band above
        for (int y = image.Height - 120; y < image.Height - 5; y++)
            for (int x = 0; x < image.Width; x++)
                if (image.Data[y * image.Width + x] < 100) ink++;
        Assert.True(ink > 500, $"only {ink} dark pixels where the class names should be");
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
