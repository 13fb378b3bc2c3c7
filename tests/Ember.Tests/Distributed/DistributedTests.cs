using Ember.Distributed;
using Ember.Nn.Layers;
using Dist = Ember.Distributed.Distributed;

namespace Ember.Tests.Distributed;

/// <summary>The process-group API without a process group: every entry point says what to call first.</summary>
public class DistributedTests
{
    [Fact]
    public void CollectivesBeforeInitProcessGroupSayWhatToCall()
    {
        Assert.False(Dist.IsInitialized);
        foreach (var call in new Action[] { () => _ = Dist.Rank, () => Dist.AllReduce(Torch.Ones(2)), () => Dist.Barrier(),
                     () => Dist.Broadcast(Torch.Ones(2)), () => _ = new DistributedDataParallel(new Linear(2, 2)) })
        {
            var e = Assert.Throws<InvalidOperationException>(call);
            Assert.Contains("Distributed.InitProcessGroup()", e.Message);
            Assert.Contains("mpirun", e.Message);
        }
        Assert.Contains("not initialized", Assert.Throws<InvalidOperationException>(Dist.DestroyProcessGroup).Message);
    }

    [Fact]
    public void ANonPositiveTimeoutIsRejectedBeforeLoadingMpi()
        => Assert.Contains("timeout must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => Dist.InitProcessGroup(timeout: TimeSpan.Zero)).Message);
}
