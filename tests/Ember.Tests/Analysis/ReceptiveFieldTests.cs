using Ember.Analysis;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

public class ReceptiveFieldTests
{
    [Fact]
    public void Two_3x3_convolutions_see_5x5()
    {
        // Notes 003: a 3×3 conv sees 3×3; two stacked see 5×5.
        var rf = ReceptiveField.Of(new Sequential(new Conv2d(1, 4, 3), new ReLU(), new Conv2d(4, 4, 3)), inputSize: 7);
        Assert.Equal([3, 5], rf.Select(l => l.Size));
        Assert.Equal([5, 3], rf.Select(l => l.OutputSize!.Value));
        Assert.Equal([1.0, 2.0], rf.Select(l => l.Start));   // unpadded: first output centred on input pixel 1, then 2
    }

    [Fact]
    public void Dilation_and_stride_grow_the_field()
    {
        var rf = ReceptiveField.Compute([new LayerGeometry("a", 3, Stride: 2, Padding: 1), new LayerGeometry("b", 3, Dilation: 2, Padding: 2)], inputSize: 32);
        Assert.Equal(3, rf[0].Size);
        Assert.Equal(2, rf[0].Jump);
        Assert.Equal(16, rf[0].OutputSize);
        Assert.Equal(3 + (5 - 1) * 2, rf[1].Size);         // effective kernel 5 at jump 2
        Assert.Equal(16, rf[1].OutputSize);
        Assert.Equal(0.0, rf[1].Start);
        var ex = Assert.Throws<ArgumentException>(() => ReceptiveField.Compute([new LayerGeometry("big", 9)], inputSize: 4));
        Assert.Contains("'big'", ex.Message);
        Assert.Contains("9", ex.Message);
    }

    [Fact]
    public void Vgg16_pool5_sees_212_pixels()
    {
        // VGG-16: 2-2-3-3-3 3×3 convs (padding 1) with 2×2 max pools; the usual figures are 196 at conv5_3 and 212 at pool5.
        var layers = new List<Module>();
        int c = 3;
        foreach (var (convs, width) in new[] { (2, 64), (2, 128), (3, 256), (3, 512), (3, 512) })
        {
            for (int i = 0; i < convs; i++) { layers.Add(new Conv2d(c, 8, 3, padding: 1)); layers.Add(new ReLU()); c = 8; }
            layers.Add(new MaxPool2d(2));
        }
        var rf = ReceptiveField.Of(new Sequential(layers.ToArray()), inputSize: 224);
        Assert.Equal(196, rf[^2].Size);
        Assert.Equal(212, rf[^1].Size);
        Assert.Equal(32, rf[^1].Jump);
        Assert.Equal(7, rf[^1].OutputSize);
    }

    [Fact]
    public void AlexNet_features_see_195_and_ResNet18_sees_435()
    {
        var alex = ReceptiveField.Of(new AlexNet(), inputSize: 224);
        Assert.Equal(195, alex[^1].Size);
        Assert.Equal(6, alex[^1].OutputSize);

        // ResNet-18 main path: 7×7/2 stem, 3×3/2 max pool, 16 3×3 convs (three of them stride 2); shortcuts skipped.
        var rf = ReceptiveField.Of(ResNet.ResNet18(), inputSize: 224);
        Assert.Equal(18, rf.Count);
        Assert.Equal(435, rf[^1].Size);
        Assert.Equal(32, rf[^1].Jump);
        Assert.Equal(7, rf[^1].OutputSize);
        Assert.Equal(11, rf[1].Size);                        // after the max pool
        Assert.Equal("layer4.1.conv2", rf[^1].Name);
        Assert.Contains("layer4.1.conv2", ReceptiveField.FormatTable(rf));
    }
}
