using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Models;

/// <summary>
/// Eval-mode Conv → BatchNorm → activation blocks run as one fused convolution when no gradient is needed; the result
/// must match the modules run one after another, and anything that needs the modules (gradients, hooks, training) keeps them.
/// </summary>
public class ConvBnEvalTests
{
    /// <summary>Running statistics and affine parameters away from a fresh layer's identity, so BN's folding is exercised.</summary>
    static void Randomize(Module model, long seed)
    {
        var gen = new Generator(seed);
        using (Torch.NoGrad())
            foreach (var norm in model.Modules().OfType<BatchNorm2d>())
            {
                norm.RunningMean!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.5);
                norm.RunningVar!.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                norm.Weight!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen));
                norm.Bias!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen));
            }
    }

    static BatchNorm2d Norm(Module block, string name) => (BatchNorm2d)block.NamedChildren().First(c => c.Name == name).Module;

    [Theory]
    [InlineData(1, 3, 1)]  // pointwise
    [InlineData(3, 1, 1)]  // 3×3, stride 1: shifted GEMM
    [InlineData(3, 2, 2)]  // 3×3, stride 2: phase split
    [InlineData(6, 2, 1)]  // YOLOv5's stem kernel
    public void ConvBnSiLUInEvalMatchesTheModulesOneByOne(int kernel, int stride, int batch)
    {
        Torch.ManualSeed(3);
        var block = new ConvBnSiLU(5, 7, kernel, stride, kernel == 6 ? 2 : null);
        Randomize(block, 4);
        block.Eval();
        var x = Torch.Randn(batch, 5, 13, 12);
        Tensor fused, expected;
        using (Torch.NoGrad())
        {
            fused = block.Call(x);
            expected = F.Silu(Norm(block, "bn").Call(block.Conv.Call(x)));
        }
        TestUtil.Close(expected, fused, 1e-5, 1e-5);
        Assert.Null(fused.GradFn);
    }

    [Fact]
    public void ConvBnSiLUNeedingGradientsKeepsTheGraph()
    {
        Torch.ManualSeed(5);
        var block = new ConvBnSiLU(4, 6, 3);
        Randomize(block, 6);
        block.Eval();
        var x = Torch.Randn(2, 4, 9, 9);
        Tensor fused;
        using (Torch.NoGrad()) fused = block.Call(x);
        var y = block.Call(x);
        Assert.NotNull(y.GradFn);
        TestUtil.Close(y.Detach(), fused, 1e-5, 1e-5);
        y.Sum().Backward();
        Assert.NotNull(block.Conv.Weight.Grad);
        Assert.NotNull(Norm(block, "bn").Weight!.Grad);
    }

    [Fact]
    public void ConvBnSiLUInTrainingUsesBatchStatistics()
    {
        Torch.ManualSeed(7);
        var block = new ConvBnSiLU(3, 4, 3);
        Randomize(block, 8);
        var x = Torch.Randn(4, 3, 8, 8);
        Tensor y;
        using (Torch.NoGrad()) y = block.Call(x);
        var bn = Norm(block, "bn");
        // Training mode normalizes by the batch: the pre-activation has mean β per channel, not the running statistics' result.
        Tensor expected;
        using (Torch.NoGrad()) expected = F.Silu(F.BatchNorm(block.Conv.Call(x), null, null, bn.Weight, bn.Bias, training: true, eps: bn.Eps));
        TestUtil.Close(expected, y, 1e-5, 1e-5);
        Assert.Equal(1L, (long)bn.NumBatchesTracked!.Item());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    public void ConvBnSiLUTrainingStepEqualsTheModulesBitForBit(int kernel, int stride)
    {
        // The training forward runs BN and SiLU as one op; a no-op hook on the SiLU makes the twin run the two modules.
        (Tensor Y, Tensor[] Grads, Tensor[] Running) Step(bool hooked)
        {
            Torch.ManualSeed(11);
            var block = new ConvBnSiLU(5, 6, kernel, stride);
            Randomize(block, 12);
            int calls = 0;
            using var hook = hooked ? block.NamedChildren().First(c => c.Name == "act").Module.RegisterForwardHook((m, i, o) => { calls++; return null; }) : null;
            var x = (Torch.Randn([3, 5, 9, 9], generator: new Generator(13)) * 2).RequiresGradInPlace();
            var y = block.Call(x);
            Assert.Equal(hooked ? 1 : 0, calls);
            y.Backward(Torch.Randn(y.Shape.ToArray(), generator: new Generator(14)));
            var bn = Norm(block, "bn");
            return (y.Detach(), [x.Grad!, block.Conv.Weight.Grad!, bn.Weight!.Grad!, bn.Bias!.Grad!], [bn.RunningMean!, bn.RunningVar!]);
        }
        var fused = Step(false);
        var modules = Step(true);
        static void Same(Tensor a, Tensor b, string what) => Assert.True(a.ToArray<float>().SequenceEqual(b.ToArray<float>()), what + " differs");
        Same(modules.Y, fused.Y, "output");
        string[] names = ["dx", "dweight (conv)", "dweight (bn)", "dbias (bn)"];
        for (int i = 0; i < 4; i++) Same(modules.Grads[i], fused.Grads[i], names[i]);
        Same(modules.Running[0], fused.Running[0], "running mean");
        Same(modules.Running[1], fused.Running[1], "running var");
    }

    [Fact]
    public void ConvBnSiLUTrainingGraphReadsAsPyTorchsAndKeepsTheFusedOp()
    {
        // PyTorch (CPU, training): the block's grad_fn is SiluBackward0, whose next function is NativeBatchNormBackward0,
        // whose next functions are ConvolutionBackward0 and the BN weight's and bias's AccumulateGrad. A no-op hook on the
        // SiLU makes the twin run the two modules.
        (Tensor Y, BatchNorm2d Bn, long SavedBytes) Forward(bool hooked)
        {
            Torch.ManualSeed(15);
            var block = new ConvBnSiLU(3, 4, 3);
            using var hook = hooked ? block.NamedChildren().First(c => c.Name == "act").Module.RegisterForwardHook((m, i, o) => null) : null;
            var y = block.Call(Torch.Randn([2, 3, 8, 8], generator: new Generator(16)));
            return (y, Norm(block, "bn"), Ember.Autograd.Engine.SavedTensorBytes(y));
        }
        foreach (bool hooked in new[] { false, true })
        {
            var (y, bn, _) = Forward(hooked);
            Assert.Equal("SiluBackward0", y.GradFn);
            var normalized = Assert.Single(y.Node!.Inputs);
            Assert.Equal("NativeBatchNormBackward0", normalized.GradFn);
            var next = normalized.Node!.Inputs;
            Assert.Equal(3, next.Length);
            Assert.Equal("ConvolutionBackward0", next[0].GradFn);
            Assert.Same(bn.Weight, next[1]);
            Assert.Same(bn.Bias, next[2]);
        }
        // still one fused op: the two modules also keep the BN output (float32) for the SiLU's backward
        var fused = Forward(false);
        Assert.Equal(Forward(true).SavedBytes - fused.Y.NumEl * sizeof(float), fused.SavedBytes);
    }

    [Fact]
    public void HooksOnTheBatchNormStillRun()
    {
        Torch.ManualSeed(9);
        var block = new ConvBnSiLU(4, 6, 3);
        Randomize(block, 10);
        block.Eval();
        int calls = 0;
        using var hook = Norm(block, "bn").RegisterForwardHook((m, i, o) => { calls++; return null; });
        var x = Torch.Randn(1, 4, 7, 7);
        Tensor y, fused;
        using (Torch.NoGrad()) y = block.Call(x);
        Assert.Equal(1, calls);
        hook.Dispose();
        using (Torch.NoGrad()) fused = block.Call(x);
        Assert.Equal(1, calls);
        TestUtil.Close(y, fused, 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(8, 8, 1)]    // identity shortcut
    [InlineData(6, 8, 2)]    // downsampling shortcut
    public void BasicBlockInEvalMatchesTheModulesOneByOne(int inPlanes, int planes, int stride)
    {
        Torch.ManualSeed(11);
        var block = new BasicBlock(inPlanes, planes, stride);
        Randomize(block, 12);
        block.Eval();
        var x = Torch.Randn(2, inPlanes, 10, 9);
        Tensor fused, expected;
        var convs = block.NamedChildren().ToDictionary(c => c.Name, c => c.Module);
        using (Torch.NoGrad())
        {
            fused = block.Call(x);
            var identity = convs.TryGetValue("downsample", out var down) ? down.Call(x) : x;
            var h = F.Relu(convs["bn1"].Call(convs["conv1"].Call(x)));
            expected = F.Relu(convs["bn2"].Call(convs["conv2"].Call(h)) + identity);
        }
        TestUtil.Close(expected, fused, 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(true, 1)]   // the shortcut added in cv2's output pass, after its SiLU
    [InlineData(true, 3)]
    [InlineData(false, 2)]  // no shortcut
    public void CspBottleneckInEvalMatchesTheModulesOneByOne(bool shortcut, int batch)
    {
        Torch.ManualSeed(13);
        var block = new Ember.Detection.Model.CspBottleneck(6, 6, shortcut, expansion: 1.0);
        Randomize(block, 14);
        block.Eval();
        var x = Torch.Randn(batch, 6, 11, 10);
        var convs = block.NamedChildren().ToDictionary(c => c.Name, c => (ConvBnSiLU)c.Module);
        Tensor fused, expected;
        using (Torch.NoGrad())
        {
            fused = block.Call(x);
            var h = F.Silu(Norm(convs["cv1"], "bn").Call(convs["cv1"].Conv.Call(x)));
            var y = F.Silu(Norm(convs["cv2"], "bn").Call(convs["cv2"].Conv.Call(h)));
            expected = shortcut ? x + y : y;
        }
        TestUtil.Close(expected, fused, 1e-5, 1e-5);
        // With a gradient wanted, the modules run one by one and the add is recorded.
        var reference = block.Call(x.Detach().RequiresGradInPlace());
        Assert.NotNull(reference.GradFn);
        TestUtil.Close(reference.Detach(), fused, 1e-5, 1e-5);
    }

    [Fact]
    public void CspBottleneckKeepsHooksOnItsSecondConv()
    {
        Torch.ManualSeed(17);
        var block = new Ember.Detection.Model.CspBottleneck(4, 4, shortcut: true, expansion: 1.0);
        Randomize(block, 18);
        block.Eval();
        var cv2 = (ConvBnSiLU)block.NamedChildren().First(c => c.Name == "cv2").Module;
        Tensor? seen = null;
        var x = Torch.Randn(1, 4, 7, 7);
        Tensor hooked, plain;
        using (var hook = cv2.RegisterForwardHook((m, i, o) => { seen = o; return null; }))
        using (Torch.NoGrad()) hooked = block.Call(x);
        Assert.NotNull(seen);
        // The hook saw cv2's own output, before the shortcut: the block's output minus x.
        TestUtil.Close(hooked - x, seen!, 1e-5, 1e-5);
        using (Torch.NoGrad()) plain = block.Call(x);
        TestUtil.Close(hooked, plain, 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]   // the halves of the concatenation are channel slices whose images lie apart
    [InlineData(1, false)]
    public void C3InEvalWritesItsBranchesIntoTheConcatenationAsTheModulesCompute(int batch, bool shortcut)
    {
        Torch.ManualSeed(19);
        var block = new Ember.Detection.Model.C3(6, 8, n: 2, shortcut: shortcut);
        Randomize(block, 20);
        block.Eval();
        var x = Torch.Randn(batch, 6, 9, 10);
        Tensor fused;
        using (Torch.NoGrad()) fused = block.Call(x);
        // An input that needs its gradient takes every module one by one, with a real cat.
        var reference = block.Call(x.Detach().RequiresGradInPlace());
        Assert.NotNull(reference.GradFn);
        TestUtil.Close(reference.Detach(), fused, 1e-5, 1e-5);
    }

    [Fact]
    public void ConvOutputIntoAChannelSliceMatchesTheDenseResultAndLeavesTheRest()
    {
        Torch.ManualSeed(21);
        var block = new ConvBnSiLU(3, 4, 3, 2);
        Randomize(block, 22);
        block.Eval();
        var x = Torch.Randn(2, 3, 8, 7);
        using var noGrad = Torch.NoGrad();
        var dense = block.Call(x);
        var cat = Torch.Full([2, 9, 4, 4], -5.0);
        var written = block.ForwardInto(x, destination: cat.Narrow(1, 3, 4));
        Assert.Equal(dense.Shape, written.Shape);
        TestUtil.Close(dense, cat.Narrow(1, 3, 4), 0, 0);
        TestUtil.Close(Torch.Full([2, 3, 4, 4], -5.0), cat.Narrow(1, 0, 3), 0, 0);
        TestUtil.Close(Torch.Full([2, 2, 4, 4], -5.0), cat.Narrow(1, 7, 2), 0, 0);
        var e = Assert.Throws<ArgumentException>(() => block.ForwardInto(x, destination: cat.Narrow(1, 0, 5)));
        Assert.Contains("conv2d (fused): expected an output of shape [2, 4, 4, 4]", e.Message);
    }

    [Fact]
    public void SmallResNetInEvalMatchesTheUnfusedGraph()
    {
        Torch.ManualSeed(15);
        var model = ResNet.Small(numClasses: 5, inChannels: 2, width: 8);
        Randomize(model, 16);
        model.Eval();
        var x = Torch.Randn(2, 2, 12, 12);
        Tensor fused;
        using (Torch.NoGrad()) fused = model.Call(x);
        // An input that needs its gradient takes every module one by one (the stem, BN, ReLU and the shortcut add).
        var reference = model.Call(x.Detach().RequiresGradInPlace());
        Assert.NotNull(reference.GradFn);
        TestUtil.Close(reference.Detach(), fused, 1e-5, 1e-5);
    }

    [Fact]
    public void AWrongInputInEvalGivesTheConvModulesError()
    {
        var block = new ConvBnSiLU(4, 6, 3);
        block.Eval();
        using var noGrad = Torch.NoGrad();
        var e = Assert.ThrowsAny<ArgumentException>(() => block.Call(Torch.Randn(1, 3, 8, 8)));
        Assert.Contains("conv2d: expected input with 4 channels, got 3", e.Message);
    }
}
