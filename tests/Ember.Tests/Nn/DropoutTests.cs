using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class DropoutTests
{
    [Fact]
    public void Dropout_zeroes_about_p_and_scales_the_rest_in_training_and_is_identity_in_eval()
    {
        var x = Torch.Ones(100, 100);
        var drop = new Dropout(0.3, new Generator(1));
        var y = drop.Call(x).ToDoubleArray();
        double zeros = y.Count(v => v == 0) / (double)y.Length;
        Assert.InRange(zeros, 0.28, 0.32);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1 / 0.7, v, 1e-6));
        Assert.InRange(y.Average(), 0.97, 1.03);
        drop.Eval();
        Assert.Same(x, drop.Call(x));
        var again = new Dropout(0.3, new Generator(1)).Call(x).ToDoubleArray();
        Assert.Equal(y, again);
    }

    [Fact]
    public void Dropout_gradient_is_the_mask_and_p_is_validated()
    {
        var x = Torch.Ones(50).RequiresGradInPlace();
        var y = F.Dropout(x, 0.5, training: true, new Generator(3));
        y.Sum().Backward();
        TestUtil.Close(y.Detach(), x.Grad!, 0, 0);
        TestUtil.Close(new double[4], F.Dropout(Torch.Ones(4), 1.0), 0, 0);
        var ex = Assert.Throws<ArgumentException>(() => new Dropout(1.5));
        Assert.Contains("between 0 and 1, but got 1.5", ex.Message);
        Assert.Throws<ArgumentException>(() => F.Dropout(x, -0.1));
    }

    [Fact]
    public void Dropout2d_zeroes_whole_channels()
    {
        var x = Torch.Ones(8, 16, 3, 3);
        var y = new Dropout2d(0.5, new Generator(2)).Call(x);
        var perChannel = y.Reshape(8 * 16, 9).ToDoubleArray().Chunk(9).ToArray();
        Assert.All(perChannel, c => Assert.True(c.All(v => v == 0) || c.All(v => Math.Abs(v - 2) < 1e-6)));
        int dropped = perChannel.Count(c => c[0] == 0);
        Assert.InRange(dropped, 40, 88);
    }

    [Fact]
    public void AlphaDropout_keeps_mean_and_variance_of_a_standard_normal()
    {
        var x = Torch.Randn([200000], DType.Float32, new Generator(4));
        var y = new AlphaDropout(0.2, new Generator(5)).Call(x);
        Assert.InRange(y.Mean().Item(), -0.02, 0.02);
        Assert.InRange(y.Var().Item(), 0.97, 1.03);
        Assert.Same(x, new AlphaDropout(0.2).Eval().Call(x));
    }

    [Fact]
    public void DropPath_drops_whole_samples_and_scales_by_keep()
    {
        var x = Torch.Ones(1000, 4, 2);
        var y = new DropPath(0.25, generator: new Generator(6)).Call(x).Reshape(1000, 8).ToDoubleArray().Chunk(8).ToArray();
        Assert.All(y, s => Assert.True(s.All(v => v == 0) || s.All(v => Math.Abs(v - 1 / 0.75) < 1e-6)));
        Assert.InRange(y.Count(s => s[0] == 0), 210, 290);
        var noScale = new DropPath(0.25, scaleByKeep: false, new Generator(6)).Call(x).ToDoubleArray();
        Assert.All(noScale, v => Assert.True(v == 0 || v == 1));
        Assert.Same(x, new DropPath(0.25).Eval().Call(x));
    }

    [Fact]
    public void DropBlock_drops_square_blocks_at_the_scheduled_rate_and_rescales()
    {
        var block = new DropBlock2d(0.0, blockSize: 3, new Generator(7));
        var x = Torch.Ones(16, 4, 12, 12);
        Assert.Same(x, block.Call(x)); // drop_prob 0 at the start of the schedule
        block.DropProb = 0.2;
        Assert.Equal(0.8, block.KeepProb, 12);
        var y = block.Call(x);
        var values = y.ToDoubleArray();
        double dropped = values.Count(v => v == 0) / (double)values.Length;
        Assert.InRange(dropped, 0.12, 0.24); // overlapping blocks make it a little under 0.2
        double scale = values.First(v => v != 0);
        Assert.Equal(values.Length / (double)values.Count(v => v != 0), scale, 1e-4);
        Assert.Equal(1.0, y.Mean().Item(), 1e-4);

        // one isolated seed: with block 3 on a 5×5 map only the centre 3×3 can seed, a block is always a full 3×3 square
        var one = new DropBlock2d(0.05, 3, new Generator(11)).Call(Torch.Ones(2000, 1, 5, 5)).Reshape(2000, 25).ToDoubleArray().Chunk(25)
            .Where(m => m.Count(v => v == 0) == 9).ToArray();
        Assert.NotEmpty(one);
        foreach (var m in one)
        {
            var zeros = Enumerable.Range(0, 25).Where(i => m[i] == 0).ToArray();
            int r0 = zeros.Min(i => i / 5), c0 = zeros.Min(i => i % 5);
            Assert.All(zeros, i => { Assert.InRange(i / 5 - r0, 0, 2); Assert.InRange(i % 5 - c0, 0, 2); });
        }
        block.Eval();
        Assert.Same(x, block.Call(x));
        Assert.Throws<ArgumentException>(() => block.DropProb = 2);
    }
}
