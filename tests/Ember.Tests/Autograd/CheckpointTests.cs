using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Layers;
using Xunit.Abstractions;

namespace Ember.Tests.Autograd;

/// <summary>Torch.Checkpoint: same gradients as the plain run (dropout included), less saved activation memory.</summary>
public class CheckpointTests(ITestOutputHelper output)
{
    static Sequential[] Blocks(int count, int width, double dropout)
    {
        var blocks = new Sequential[count];
        var g = new Generator(7);
        for (int i = 0; i < count; i++) blocks[i] = new Sequential(new Linear(width, width, generator: g), new Tanh(), new Dropout(dropout));
        return blocks;
    }

    static Tensor Run(Sequential[] blocks, Tensor x, bool checkpoint, bool preserveRng = true)
    {
        var h = x;
        foreach (var block in blocks)
            h = checkpoint ? Torch.Checkpoint(xs => block.Call(xs[0]), [h], preserveRng) : block.Call(h);
        return h;
    }

    static double[][] Grads(Sequential[] blocks, Tensor x, bool checkpoint, bool preserveRng = true)
    {
        foreach (var b in blocks) b.ZeroGrad();
        Torch.ManualSeed(123);
        Run(blocks, x, checkpoint, preserveRng).Square().Sum().Backward();
        var grads = new List<double[]>();
        foreach (var b in blocks) foreach (var p in b.Parameters()) grads.Add(p.Grad!.ToDoubleArray());
        return grads.ToArray();
    }

    [Fact]
    public void GradientsEqualThePlainRunWithDropoutWhenTheRngStateIsPreserved()
    {
        var blocks = Blocks(4, 16, 0.3);
        // the first block's input needs no grad: its parameters must still get gradients
        var x = Torch.Randn([8, 16], generator: new Generator(1));
        var plain = Grads(blocks, x, checkpoint: false);
        var checkpointed = Grads(blocks, x, checkpoint: true);
        Assert.Equal(plain.Length, checkpointed.Length);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], checkpointed[i]);
        // without rewinding the generator the recomputation draws other dropout masks
        var unpreserved = Grads(blocks, x, checkpoint: true, preserveRng: false);
        Assert.NotEqual(plain[0], unpreserved[0]);
    }

    [Fact]
    public void InputGradientAndGradCheckThroughACheckpoint()
    {
        var x = TestUtil.Leaf([3, 4], 3);
        var w = TestUtil.Leaf([4, 4], 4);
        Func<Tensor[], Tensor> segment = xs => xs[0].MatMul(w).Tanh().Square();
        var y = Torch.Checkpoint(segment, [x]);
        Assert.Equal(Checkpointing.NodeName, y.GradFn);
        GradCheck.Check(xs => Torch.Checkpoint(segment, xs), [x]);
        w.Grad = null;
        Torch.Checkpoint(segment, [x]).Sum().Backward();
        var wGrad = w.Grad!.ToDoubleArray();
        w.Grad = null;
        segment([x]).Sum().Backward();
        Assert.Equal(w.Grad!.ToDoubleArray(), wGrad);
    }

    [Fact]
    public void TorchGradThroughACheckpointThrowsAsPyTorchsReentrantCheckpoint()
    {
        var x = TestUtil.Leaf([3], 1);
        var y = Torch.Checkpoint(xs => xs[0].Exp(), [x]).Sum();
        var e = Assert.Throws<InvalidOperationException>(() => Torch.Grad(y, [x]));
        Assert.Contains("checkpoint", e.Message);
    }

    [Fact]
    public void CheckpointedGraphSavesFarFewerBytes()
    {
        var blocks = Blocks(8, 256, 0.1);
        var x = Torch.Randn([64, 256], generator: new Generator(2));
        long plain = Engine.SavedTensorBytes(Run(blocks, x, checkpoint: false).Square().Sum());
        long checkpointed = Engine.SavedTensorBytes(Run(blocks, x, checkpoint: true).Square().Sum());
        output.WriteLine($"saved tensor bytes: plain {plain}, checkpointed {checkpointed}");
        Assert.True(checkpointed * 2 < plain, $"checkpointed {checkpointed} bytes, plain {plain}");
    }
}
