using Ember.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>Tensor.RegisterPostAccumulateGradHook and the engine's end-of-backward callbacks (what DDP builds on).</summary>
public class PostAccumulateGradHookTests
{
    static Tensor Leaf(params double[] v) => Torch.Tensor(v).RequiresGradInPlace();

    [Fact]
    public void TheHookSeesTheCompleteGradientOfALeafUsedSeveralTimes()
    {
        var x = Leaf(1, 2, 3);
        var seen = new List<double[]>();
        x.RegisterPostAccumulateGradHook(t => seen.Add(t.Grad!.ToDoubleArray()));
        // x reaches the loss through three paths; d/dx (x·x + 3x).sum() = 2x + 3.
        ((x * x) + (x * 3.0)).Sum().Backward();
        Assert.Single(seen);
        Assert.Equal([5.0, 7, 9], seen[0]);
    }

    [Fact]
    public void TheHookFiresAfterAccumulationIntoAnExistingGrad()
    {
        var x = Leaf(1, 2);
        (x * 2.0).Sum().Backward();
        double[]? seen = null;
        x.RegisterPostAccumulateGradHook(t => seen = t.Grad!.ToDoubleArray());
        (x * 5.0).Sum().Backward();
        Assert.Equal([7.0, 7], seen!);
    }

    [Fact]
    public void HooksFireWhileBackwardRunsAndTheQueuedCallbackAfterEveryNode()
    {
        // Two layers: the last layer's weight gets its gradient first; the callback runs after the first layer's too.
        var w1 = Leaf(0.5, -1);
        var w2 = Leaf(2);
        var events = new List<string>();
        bool queued = false;
        w2.RegisterPostAccumulateGradHook(_ =>
        {
            events.Add("w2");
            if (!queued) { Engine.QueueCallback(() => events.Add(w1.Grad is null ? "callback before w1" : "callback")); queued = true; }
        });
        w1.RegisterPostAccumulateGradHook(_ => events.Add("w1"));
        var x = Torch.Tensor(3.0, 4.0);
        ((x * w1).Sum() * w2).Sum().Backward();
        Assert.Equal(["w2", "w1", "callback"], events);
    }

    [Fact]
    public void ADisposedHookNoLongerFires()
    {
        var x = Leaf(1);
        int calls = 0;
        var handle = x.RegisterPostAccumulateGradHook(_ => calls++);
        (x * 2.0).Sum().Backward();
        handle.Dispose();
        (x * 2.0).Sum().Backward();
        Assert.Equal(1, calls);
    }

    [Fact]
    public void AutogradGradDoesNotFireTheHookBecauseNothingIsAccumulated()
    {
        var x = Leaf(1, 2);
        int calls = 0;
        x.RegisterPostAccumulateGradHook(_ => calls++);
        var g = Torch.Grad([(x * x).Sum()], [x]);
        Assert.Equal([2.0, 4], g[0]!.ToDoubleArray());
        Assert.Equal(0, calls);
    }

    [Fact]
    public void OnlyLeavesThatRequireGradTakeTheHook()
    {
        var x = Leaf(1, 2);
        var y = x * 2.0;
        Assert.Contains("non-leaf", Assert.Throws<InvalidOperationException>(() => y.RegisterPostAccumulateGradHook(_ => { })).Message);
        Assert.Contains("doesn't require gradient", Assert.Throws<InvalidOperationException>(() => Torch.Tensor(1.0).RegisterPostAccumulateGradHook(_ => { })).Message);
    }

    [Fact]
    public void QueueCallbackOutsideBackwardIsAnError()
        => Assert.Contains("no backward pass", Assert.Throws<InvalidOperationException>(() => Engine.QueueCallback(() => { })).Message);

    [Fact]
    public void AFailedBackwardDropsItsQueuedCallbacks()
    {
        var x = Leaf(1);
        int callbacks = 0;
        x.RegisterPostAccumulateGradHook(_ =>
        {
            Engine.QueueCallback(() => callbacks++);
            throw new InvalidOperationException("hook fails");
        });
        Assert.Throws<InvalidOperationException>(() => (x * 2.0).Sum().Backward());
        // The next backward does not run the failed pass's callbacks.
        var y = Leaf(2);
        (y * 2.0).Sum().Backward();
        Assert.Equal(0, callbacks);
    }
}
