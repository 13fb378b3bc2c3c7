using Ember.Models;
using Ember.Nn.Functional;

namespace Ember.Tests.Models;

public class ModelZooTests
{
    [Theory]
    [InlineData("alexnet", 61_100_840L)]   // the notes' thop output; torchvision alexnet()
    [InlineData("resnet18", 11_689_512L)]  // torchvision resnet18()
    [InlineData("resnet34", 21_797_672L)]  // torchvision resnet34()
    [InlineData("resnet50", 25_557_032L)]  // torchvision resnet50()
    public void Torchvision_layout_parameter_counts(string name, long expected)
        => Assert.Equal(expected, ModelZoo.Create(name, numClasses: 1000, inChannels: 3).ParameterCount());

    [Fact]
    public void State_dict_names_follow_torchvision()
    {
        var keys = ResNet.ResNet18().StateDict().Keys.ToList();
        Assert.Equal("conv1.weight", keys[0]);
        Assert.Contains("layer1.0.bn1.running_mean", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer4.1.bn2.num_batches_tracked", keys);
        Assert.Equal("fc.bias", keys[^1]);
        Assert.Equal(["features.0.weight", "features.0.bias", "features.3.weight"], new AlexNet().StateDict().Keys.Take(3));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("resnet")]
    [InlineData("vit")]
    [InlineData("lenet")]
    public void Small_models_map_fashion_mnist_batches_to_logits_and_train(string name)
    {
        Torch.ManualSeed(0);
        var model = ModelZoo.Create(name);
        var x = Torch.Randn([4, 1, 28, 28], generator: new Generator(1));
        var y = model.Call(x);
        Assert.Equal(new Shape(4, 10), y.Shape);
        F.CrossEntropy(y, Torch.FromArray(new long[] { 0, 1, 2, 3 }, [4])).Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void Unknown_model_lists_the_choices()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelZoo.Create("transformer"));
        Assert.Contains("mlp, cnn, resnet, vit", ex.Message);
    }

    [Fact]
    public void Focus_slicing_equals_a_six_by_six_stride_two_convolution()
    {
        var x = Torch.Randn([2, 3, 8, 8], DType.Float64, new Generator(2));
        var w1 = Torch.Randn([5, 12, 1, 1], DType.Float64, new Generator(3));
        var viaFocus = F.Conv2d(Focus.SpaceToDepth(x), w1);
        var viaConv = F.Conv2d(x, Focus.EquivalentConvolution(w1, 3), stride: (2, 2), padding: 2);
        Assert.Equal(new Shape(2, 12, 4, 4), Focus.SpaceToDepth(x).Shape);
        TestUtil.Close(viaFocus, viaConv, rtol: 1e-12, atol: 1e-12);
    }

    [Fact]
    public void Alexnet_takes_three_channels_and_refuses_another_count_instead_of_ignoring_it()
    {
        var features0 = ModelZoo.Create("alexnet").StateDict()["features.0.weight"];
        Assert.Equal(new Shape(64, 3, 11, 11), features0.Shape);
        var ex = Assert.Throws<ArgumentException>(() => ModelZoo.Create("alexnet", inChannels: 1));
        Assert.Contains("alexnet takes 3-channel input", ex.Message);
        Assert.Contains("got in_channels 1", ex.Message);
        Assert.Equal(new Shape(64, 1, 7, 7), ModelZoo.Create("resnet18").StateDict()["conv1.weight"].Shape); // the others follow inChannels (default 1)
    }
}
