using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn.Layers;

public class Conv2dTests
{
    sealed class Net : Module
    {
        readonly Conv2d first, second;
        public Net()
        {
            first = RegisterModule("features", new Conv2d(3, 32, 3));
            second = RegisterModule("head", new Conv2d(64, 8, 1));
        }
        public override Tensor Forward(Tensor x) => second.Call(first.Call(x));
    }

    [Fact]
    public void Channel_errors_name_the_module_path_type_and_sizes()
    {
        var ex = Assert.Throws<ModuleException>(() => new Net().Call(Torch.Zeros(8, 3, 10, 10)));
        Assert.StartsWith("head (Conv2d): conv2d: expected input with 64 channels, got 32 (input shape [8, 32, 8, 8]", ex.Message);
    }

    [Fact]
    public void Default_initialization_is_bounded_by_one_over_root_fan_in()
    {
        var conv = new Conv2d(16, 8, 3, generator: new Generator(1));
        double bound = 1 / Math.Sqrt(16 * 9);
        var w = conv.Weight.ToDoubleArray();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max() > 0.9 * bound && w.Min() < -0.9 * bound); // spread over the whole interval
        Assert.Equal(new Shape(8, 16, 3, 3), conv.Weight.Shape);
        Assert.Equal(8 * 16 * 9 + 8, conv.ParameterCount());
    }

    [Fact]
    public void Same_padding_keeps_the_size_including_even_kernels()
    {
        var x = Torch.Randn([1, 2, 7, 6], generator: new Generator(2));
        Assert.Equal(new Shape(1, 4, 7, 6), new Conv2d(2, 4, 3, padding: ConvPadding.Same).Call(x).Shape);
        Assert.Equal(new Shape(1, 4, 7, 6), new Conv2d(2, 4, 4, padding: ConvPadding.Same).Call(x).Shape);
        Assert.Equal(new Shape(1, 4, 7, 6), new Conv2d(2, 4, 3, padding: ConvPadding.Same, dilation: 2).Call(x).Shape);
    }

    [Fact]
    public void Reflect_padding_mode_equals_explicit_reflect_pad_then_valid_conv()
    {
        var x = Torch.Randn([2, 3, 5, 5], generator: new Generator(3));
        var conv = new Conv2d(3, 4, 3, padding: 1, paddingMode: PaddingMode.Reflect);
        var expected = F.Conv2d(Torch.Pad(x, [1, 1, 1, 1], PaddingMode.Reflect), conv.Weight, conv.Bias);
        TestUtil.Close(expected, conv.Call(x), rtol: 1e-6, atol: 1e-6);
    }

    [Fact]
    public void Conv1d_equals_conv2d_over_a_unit_height_and_passes_gradcheck()
    {
        var x = TestUtil.Leaf([2, 3, 9], seed: 4);
        var w = TestUtil.Leaf([4, 3, 3], seed: 5);
        var y1 = F.Conv1d(x, w, null, stride: 2, padding: 1);
        var y2 = F.Conv2d(x.Unsqueeze(2), w.Unsqueeze(2), null, (1, 2), (0, 1));
        TestUtil.Close(y2.Squeeze(2), y1, rtol: 1e-12);
        GradCheck.Check(t => F.Conv1d(t[0], t[1], null, stride: 2, padding: 1), [x, w]);
    }

    [Fact]
    public void Printing_matches_pytorch()
    {
        Assert.Equal("Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))", new Conv2d(3, 64, 11, stride: 4, padding: 2).ToString());
        Assert.Equal("Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), groups=8, bias=False)", new Conv2d(8, 8, 3, groups: 8, bias: false).ToString());
    }
}
