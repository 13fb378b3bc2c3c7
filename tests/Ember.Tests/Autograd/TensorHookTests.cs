namespace Ember.Tests.Autograd;

/// <summary>Tensor.RegisterHook with PyTorch's semantics: replacement gradients, order, leaves, removal, retain_grad.</summary>
public class TensorHookTests
{
    static Tensor X() => Torch.Tensor([1.0, 2.0, 3.0]).RequiresGradInPlace();

    [Fact]
    public void HookOnAnIntermediateReplacesTheGradientThatFlowsOn()
    {
        var x = X();
        var h = x * 2.0;
        h.RegisterHook(g => g * 3.0);
        (h * h).Sum().Backward();
        // d(h²)/dh = 2h = 4x, tripled by the hook, times dh/dx = 2: 24x
        Assert.Equal([24.0, 48.0, 72.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void HooksRunInRegistrationOrderEachSeeingThePreviousReplacementAndTheFullGradient()
    {
        var x = X();
        var h = x * 1.0;
        var seen = new List<(string, double[])>();
        h.RegisterHook(g => { seen.Add(("first", g.ToDoubleArray())); return g + 1.0; });
        h.RegisterHook(g => { seen.Add(("second", g.ToDoubleArray())); return null; });
        (h + h).Sum().Backward();   // two uses: the hook sees the accumulated gradient 2, once
        Assert.Equal(2, seen.Count);
        Assert.Equal(["first", "second"], [seen[0].Item1, seen[1].Item1]);
        Assert.Equal([2.0, 2.0, 2.0], seen[0].Item2);
        Assert.Equal([3.0, 3.0, 3.0], seen[1].Item2);
        Assert.Equal([3.0, 3.0, 3.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void HookOnALeafRunsBeforeAccumulationAndOnRetainedGradBeforeItIsKept()
    {
        var x = X();
        x.RegisterHook(g => g * 10.0);
        var h = x * 2.0;
        h.RetainGrad();
        h.RegisterHook(g => -g);
        h.Sum().Backward();
        Assert.Equal([-1.0, -1.0, -1.0], h.Grad!.ToDoubleArray());   // PyTorch ≥ 2.0: retain_grad sees the hooked gradient
        Assert.Equal([-20.0, -20.0, -20.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void DisposedHookIsNotCalled()
    {
        var x = X();
        int calls = 0;
        var handle = x.RegisterHook(g => { calls++; return g * 5.0; });
        (x * 1.0).Sum().Backward();
        handle.Dispose();
        handle.Dispose();
        x.Grad = null;
        (x * 1.0).Sum().Backward();
        Assert.Equal(1, calls);
        Assert.Equal([1.0, 1.0, 1.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void HooksAlsoApplyToTorchGrad()
    {
        var x = X();
        var h = x * 2.0;
        h.RegisterHook(g => g * 0.5);
        var g = Torch.Grad(h.Sum(), [x])[0]!;
        Assert.Equal([1.0, 1.0, 1.0], g.ToDoubleArray());
    }

    [Fact]
    public void RegisteringOnATensorWithoutGradOrChangingTheShapeThrows()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Torch.Zeros(3).RegisterHook(g => g));
        Assert.Contains("doesn't require gradient", e.Message);
        var x = X();
        var h = x * 2.0;
        h.RegisterHook(g => g.Sum());
        var e2 = Assert.Throws<InvalidOperationException>(() => h.Sum().Backward());
        Assert.Contains("MulBackward0", e2.Message);
        Assert.Contains("[3]", e2.Message);
    }

    [Fact]
    public void AGradientAHookKeptIsNotTheLeafsGradThatLaterUpdatesOverwrite()
    {
        // PyTorch's AccumulateGrad takes over a gradient buffer only when nothing else references it; a hook may keep it
        var x = X();
        Tensor? seen = null, made = null;
        x.RegisterHook(g => { seen = g; return null; });
        (x * 2.0).Sum().Backward();
        x.Grad!.ZeroInPlace();
        Assert.Equal([2.0, 2.0, 2.0], seen!.ToDoubleArray());
        var y = X();
        y.RegisterHook(g => made = g * 3.0);
        (y * 2.0).Sum().Backward();
        (y * 2.0).Sum().Backward(); // accumulates into y.Grad in place
        Assert.Equal([12.0, 12.0, 12.0], y.Grad!.ToDoubleArray());
        Assert.Equal([6.0, 6.0, 6.0], made!.ToDoubleArray());
    }
}
