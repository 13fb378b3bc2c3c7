using Ember.Distributed;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Tests.Distributed;

/// <summary>
/// DistributedDataParallel in a world of one rank (`ember train --nproc 1` under mpirun, or a resume with one process):
/// the gradients must be exactly a plain model's, with no collective called, so DDP costs a plain step.
/// </summary>
public class WorldOfOneTests
{
    /// <summary>A process group of one rank whose collectives fail the test: a world of one must not communicate.</summary>
    sealed class SoloGroup : IProcessGroup
    {
        public int Calls;
        public int Rank => 0;
        public int WorldSize => 1;
        public TimeSpan Timeout => TimeSpan.FromSeconds(1);
        public string Description => "a world of one (test stand-in)";
        Work Refuse(string op) { Calls++; throw new InvalidOperationException($"{op} was called in a world of one"); }
        public Work Barrier(string op) => Refuse(op);
        public Work AllReduce(CommBuffer buffer, ReduceOp op, string opName) => Refuse(opName);
        public Work Broadcast(CommBuffer buffer, int root, string op) => Refuse(op);
        public Work AllGather(CommBuffer input, CommBuffer output, string op) => Refuse(op);
        public Work ReduceScatter(CommBuffer input, CommBuffer output, ReduceOp op, string opName) => Refuse(opName);
        public void Abort(int errorCode) => Refuse("Abort");
        public void Dispose() { }
    }

    sealed class Net : Module
    {
        readonly Linear fc1, fc2, spare;
        readonly BatchNorm1d norm;
        public bool UseSpare;
        public Net(Generator g)
        {
            fc1 = RegisterModule(nameof(fc1), new Linear(8, 16, generator: g));
            norm = RegisterModule(nameof(norm), new BatchNorm1d(16));
            fc2 = RegisterModule(nameof(fc2), new Linear(16, 4, generator: g));
            spare = RegisterModule(nameof(spare), new Linear(16, 4, generator: g));
        }
        public override Tensor Forward(Tensor x)
        {
            var h = F.Tanh(norm.Forward(fc1.Forward(x)));
            return UseSpare ? fc2.Forward(h) + spare.Forward(h) : fc2.Forward(h);
        }
    }

    static (Tensor X, Tensor Y) Data(int step)
    {
        var g = new Generator(500 + step);
        return (Torch.Randn([6, 8], DType.Float32, g), Torch.Randn([6, 4], DType.Float32, g));
    }

    [Fact]
    public void TrainingGivesThePlainModelsParametersBitForBitWithoutACollective()
    {
        var plain = new Net(new Generator(3)) { UseSpare = true };
        var inner = new Net(new Generator(3)) { UseSpare = true };
        var group = new SoloGroup();
        // A 256-byte cap makes several buckets: none of them may be copied or all-reduced.
        var ddp = new DistributedDataParallel(inner, group, bucketCapMB: 256.0 / (1024 * 1024));
        var optPlain = new AdamW(plain.Parameters(), new AdamWOptions { LearningRate = 0.01 });
        var optDdp = new AdamW(ddp.Parameters(), new AdamWOptions { LearningRate = 0.01 });
        for (int step = 0; step < 4; step++)
        {
            var (x, y) = Data(step);
            optPlain.ZeroGrad();
            // The second step accumulates over two micro-batches (for DDP the first inside NoSync).
            if (step == 1) F.MseLoss(plain.Call(Data(10).X), Data(10).Y).Backward();
            F.MseLoss(plain.Call(x), y).Backward();
            optPlain.Step();
            optDdp.ZeroGrad();
            if (step == 1) using (ddp.NoSync()) F.MseLoss(ddp.Call(Data(10).X), Data(10).Y).Backward();
            F.MseLoss(ddp.Call(x), y).Backward();
            optDdp.Step();
        }
        Assert.Equal(0, group.Calls);
        var expected = plain.StateDict();
        foreach (var (name, value) in inner.StateDict())
            Assert.Equal(expected[name].ToDoubleArray(), value.ToDoubleArray());
        var stats = ddp.LastStepStats!;
        Assert.True(ddp.Buckets.Count > 1, $"expected several planned buckets, got {ddp.Buckets.Count}");
        Assert.Equal((0, 0, 0L, 0.0, 0.0), (stats.Buckets, stats.StartedDuringBackward, stats.Bytes, stats.CommunicationSeconds, stats.WaitSeconds));
        Assert.True(stats.ForwardSeconds > 0 && stats.BackwardComputeSeconds > 0, $"forward and backward must be timed: {stats}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AParameterBackwardDidNotReachGetsZerosOrIsLeftAloneWithFindUnusedParameters(bool findUnusedParameters)
    {
        var inner = new Net(new Generator(4)) { UseSpare = false };
        var ddp = new DistributedDataParallel(inner, new SoloGroup(), findUnusedParameters: findUnusedParameters);
        var (x, y) = Data(0);
        F.MseLoss(ddp.Call(x), y).Backward();
        var spare = inner.NamedParameters().First(p => p.Name == "spare.weight").Parameter;
        var used = inner.NamedParameters().First(p => p.Name == "fc2.weight").Parameter;
        Assert.NotEqual(0, used.Grad!.Abs().Max().Item());
        if (findUnusedParameters) Assert.Null(spare.Grad);
        else Assert.Equal(new double[spare.NumEl], spare.Grad!.ToDoubleArray());
    }

    [Fact]
    public void ASecondBackwardThroughOneForwardIsStillAnError()
    {
        var ddp = new DistributedDataParallel(new Net(new Generator(5)), new SoloGroup());
        var (x, y) = Data(0);
        var loss = F.MseLoss(ddp.Call(x), y);
        loss.Backward(retainGraph: true);
        var e = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("already averaged across ranks", e.Message);
    }
}
